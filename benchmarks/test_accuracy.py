"""The estimator's accuracy on this machine: `qms bench --evaluate` (full sizes), its errors recorded.

Slow (minutes on a 2-core machine). The figures go to benchmarks/results/accuracy-<device>.json; the goal on
the processor is a 90th-percentile error of at most 10% on the held-out sizes; peak memory (on a card the goal is
never under-predicted, at most 20% over) is recorded too, with what each memory option measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(__file__).parent / "results"
pytest.importorskip("torch", reason="the bench extra (torch, diffusers) is not installed")
pytest.importorskip("diffusers", reason="the bench extra (torch, diffusers) is not installed")


def test_accuracy_evaluation(benchmark: Any, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "qms_cli", "bench", "--evaluate", "--json",
            "--report", str(tmp_path / "report")]
    if os.environ.get("QMS_BENCH_QUICK"):
        args.append("--quick")
    env = {**os.environ, "QMS_DATA_DIR": str(tmp_path / "data"), "QMS_OUTPUT": "plain"}
    out: dict[str, Any] = {}

    def run() -> None:
        proc = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
        out.update(json.loads(proc.stdout))

    benchmark.pedantic(run, rounds=1, iterations=1)
    cal = out["calibration"]
    figures = {"median_ape": cal["error"]["median_ape"], "p90_ape": cal["error"]["p90_ape"],
               "device": cal["device"], "threads": cal["threads"], "date": cal["date"],
               "evaluations": out["evaluations"], "coefficients": cal["coefficients"],
               "memory": out["memory"], "memory_fit": cal["memory"], "memory_margin": cal["memory_margin"],
               "options": cal["options"]}
    benchmark.extra_info.update({k: figures[k] for k in ("median_ape", "p90_ape", "device")})
    RESULTS.mkdir(exist_ok=True)
    name = "accuracy-" + ("gpu" if cal["device"] != "processor" else "cpu") + ".json"
    (RESULTS / name).write_text(json.dumps(figures, indent=1) + "\n")
