"""Benchmarks measure; they never fail on time. Ratios against `python -c pass` come from one run."""

from __future__ import annotations

import compileall
import json
import os
import platform
import statistics
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import qms_cli

RESULTS = Path(__file__).parent / "results"


@pytest.fixture(scope="session", autouse=True)
def bytecode() -> None:
    """Installed packages carry compiled bytecode; a checkout under PYTHONDONTWRITEBYTECODE would not."""
    compileall.compile_dir(str(Path(qms_cli.__file__).parent), quiet=1)


@pytest.fixture(scope="session")
def startup_results() -> Iterator[dict[str, float]]:
    medians: dict[str, float] = {}
    yield medians
    base = medians.get("python -c pass")
    if not base:
        return
    report: dict[str, Any] = {
        "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "baseline_ms": round(base * 1000, 2),
        "commands": {name: {"median_ms": round(m * 1000, 2), "ratio": round(m / base, 2)}
                     for name, m in medians.items() if name != "python -c pass"},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\nstart-up, median of whole processes, one run:")
    for name, row in report["commands"].items():
        print(f"  {name:28s} {row['median_ms']:7.1f} ms = {row['ratio']:.1f}x `python -c pass` ({base * 1000:.1f} ms)")


def median_of(benchmark: Any) -> float:
    return float(statistics.median(benchmark.stats.stats.data))
