"""Whole-process start-up of qms commands beside `python -c pass`, in one run (goal: <= 8x)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import median_of

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "python -c pass": [PY, "-c", "pass"],
    "qms show": [PY, "-m", "qms_cli", "show"],
    "qms tiers --json": [PY, "-m", "qms_cli", "tiers", "--json"],
    "qms tiers": [PY, "-m", "qms_cli", "tiers"],
    "qms --help": [PY, "-m", "qms_cli", "--help"],
    "qms set-quality": [PY, "-m", "qms_cli", "set-quality", "high"],
    "qms probe --json": [PY, "-m", "qms_cli", "probe", "--json"],
    "qms plan (one task, table)": [PY, "-m", "qms_cli", "plan", "Create Image", "--yes"],
    "qms plan --json": [PY, "-m", "qms_cli", "plan", "--json"],
    # Over a fake NVML with 8 GPUs: includes loading nvidia-ml-py, as on a machine with a driver.
    "qms probe --json (8 GPUs)": [PY, "-m", "tests.fake_nvml", "eight", "probe", "--json"],
    "qms queue list (empty)": [PY, "-m", "qms_cli", "queue", "list"],
    "qms queue add": [PY, "-m", "qms_cli", "queue", "add", "Create Image", "--vram-limit", "24GB"],
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "QMS_CACHE_DIR": str(folder / "cache"), "QMS_DATA_DIR": str(folder / "data"),
           "NO_COLOR": "1", "QMS_OUTPUT": "plain"}
    subprocess.run([PY, "-m", "qms_cli", "init", str(folder)], env=env, check=True, capture_output=True)
    return folder, env


@pytest.mark.parametrize("name", list(CASES))
def test_startup(benchmark: Any, name: str, project: tuple[Path, dict[str, str]],
                 startup_results: dict[str, float]) -> None:
    folder, env = project

    def run() -> None:
        subprocess.run(CASES[name], cwd=folder, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)

    benchmark.pedantic(run, rounds=30, warmup_rounds=3)
    startup_results[name] = median_of(benchmark)
