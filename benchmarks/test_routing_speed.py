"""Routing speed: decisions per second in-process, and `qms plan --tasks` over 100,000 lines."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.hardware import probe
from qms_cli.plan.routing import Router

CATALOG = load_catalog()
RES = probe(hardware="rtx-4090-24gb", catalog=CATALOG)
TASKS = [(fn, tier, frames, count) for fn in CATALOG.tiers.functions for tier in CATALOG.tiers.tiers
         for frames in ((None,) if fn == "Create Image" else (None, 33, 49, 81, 129)) for count in (1, 2, 4)]


def test_route_decisions_per_second(benchmark: Any) -> None:
    """A batch's decisions: the same router, tasks drawn from the tier x function x size mix."""
    router = Router(CATALOG, RES, CATALOG.throughput)
    rng = random.Random(3)
    batch = [rng.choice(TASKS) for _ in range(10_000)]

    def decide() -> None:
        for fn, tier, frames, count in batch:
            router.route(fn, tier, frames, count)

    benchmark(decide)
    per_second = len(batch) / benchmark.stats.stats.median
    benchmark.extra_info["decisions_per_second"] = round(per_second)


def test_route_uncached(benchmark: Any) -> None:
    """One decision worked out from nothing: every rung predicted (a fresh router each time)."""
    fn, tier = "Create Video", CATALOG.tiers.get("high")
    result = benchmark(lambda: Router(CATALOG, RES, CATALOG.throughput).route(fn, tier, 81, 1))
    assert result.chosen.fits
    benchmark.extra_info["decisions_per_second"] = round(1 / benchmark.stats.stats.median)


@pytest.fixture(scope="module")
def tasks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(1)
    path = tmp_path_factory.mktemp("tasks") / "tasks.jsonl"
    with path.open("w") as f:
        for _ in range(100_000):
            fn = rng.choice(["Create Image", "Create Video"])
            task: dict[str, Any] = {"function": fn, "node": f"n{rng.randrange(500)}"}
            if rng.random() < 0.5:
                task["quality"] = rng.choice(["low", "standard", "high"])
            if rng.random() < 0.3:
                task["count"] = rng.randrange(1, 5)
            if fn == "Create Video" and rng.random() < 0.3:
                task["seconds"] = rng.choice([2, 3, 5, 8])
            f.write(json.dumps(task) + "\n")
    return path


@pytest.mark.parametrize("output", ["summary", "json"])
def test_plan_100k_tasks_whole_process(benchmark: Any, tasks_file: Path, output: str) -> None:
    args = [sys.executable, "-m", "qms_cli", "plan", "--tasks", str(tasks_file), "--hardware", "rtx-4090-24gb", "--yes"]
    if output == "json":
        args.append("--json")
    benchmark.pedantic(lambda: subprocess.run(args, stdout=subprocess.DEVNULL, check=True), rounds=3, warmup_rounds=1)
