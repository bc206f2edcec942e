"""History speed: `qms accuracy` over 100,000 runs (whole process), and what recording adds to a run."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from qms_cli.runs import history


@pytest.fixture(scope="module")
def big_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "runs.sqlite3"
    conn = history.connect(path)
    rng = random.Random(5)
    start = datetime(2026, 8, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(100_000):
        tier = rng.choice(["low", "standard", "high"])
        predicted = {"low": 10.0, "standard": 45.0, "high": 200.0}[tier]
        rows.append({c: None for c in history.COLUMNS} | {
            "started_at": (start + timedelta(minutes=i)).isoformat(), "function": rng.choice(
                ["Create Image", "Create Video"]), "requested": tier, "chosen": tier, "count": 1,
            "predicted": predicted, "model_seconds": predicted, "predicted_low": predicted * 0.8,
            "predicted_high": predicted * 1.2, "actual_seconds": predicted * rng.lognormvariate(0.05, 0.15),
            "outcome": "ok" if rng.random() > 0.03 else "failed", "fallback": int(rng.random() < 0.1),
            "source": "record"})
    history.insert(conn, rows)
    conn.close()
    return path


def test_accuracy_over_100k_runs(benchmark: Any, big_history: Path) -> None:
    env = {**os.environ, "QMS_DB": str(big_history), "QMS_OUTPUT": "plain"}
    benchmark.pedantic(lambda: subprocess.run([sys.executable, "-m", "qms_cli", "accuracy"], env=env, check=True,
                                              stdout=subprocess.DEVNULL), rounds=5, warmup_rounds=1)


def test_stats_over_100k_runs(benchmark: Any, big_history: Path) -> None:
    env = {**os.environ, "QMS_DB": str(big_history), "QMS_OUTPUT": "plain"}
    benchmark.pedantic(lambda: subprocess.run([sys.executable, "-m", "qms_cli", "stats"], env=env, check=True,
                                              stdout=subprocess.DEVNULL), rounds=5, warmup_rounds=1)


def test_recording_one_run(benchmark: Any, tmp_path: Path) -> None:
    """What recording adds to `qms run`: open the history, insert the row, commit (WAL)."""
    path = tmp_path / "runs.sqlite3"
    history.connect(path).close()
    row = {c: None for c in history.COLUMNS} | {"started_at": "2026-11-25T00:00:00", "function": "Create Image",
                                                "requested": "low", "chosen": "low", "count": 1, "outcome": "ok",
                                                "fallback": 0, "source": "run"}

    def record() -> None:
        conn = history.connect(path)
        history.insert(conn, [row])
        conn.close()

    benchmark(record)
