"""A wedged graphics driver (NVML never returns): qms waits a bounded time, reports no card, and goes on
(issue 15). Real qms processes over tests/fake_nvml.py's blocking mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import ROOT, Result, validate_output
from tests.monitoring import Exporter

LIMIT = {"QMS_NVML_TIMEOUT": "0.5"}


def fake_qms(name: str, *args: str, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "tests.fake_nvml", name, *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "QMS_OUTPUT": "plain", **(env or {})}, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("scenario", ["wedged", "wedged-memory"])
def test_probe_over_a_wedged_driver_reports_no_card_and_returns(scenario: str) -> None:
    result = fake_qms(scenario, "probe", "--json", env=LIMIT)  # before: never returned
    assert result.code == 0, result.err
    data = result.json()
    validate_output(data, "resources")
    assert data["gpus"] == [] and [n["type"] for n in data["notices"]] == ["driver_hung"]
    assert "did not answer" in data["notices"][0]["message"] and "0.5 s" in data["notices"][0]["detail"]
    plain = fake_qms(scenario, "probe", env=LIMIT)
    assert plain.code == 0 and "did not answer" in plain.out + plain.err


def test_plan_over_a_wedged_driver_plans_for_the_processor() -> None:
    result = fake_qms("wedged", "plan", "Create Image", "--json", env=LIMIT)
    assert result.code == 0, result.err
    assert result.json()["tasks"][0]["device"]["type"] == "cpu"


def test_a_bad_time_limit_is_a_usage_error() -> None:
    result = fake_qms("wedged", "probe", env={"QMS_NVML_TIMEOUT": "forever"})
    assert result.code == 2 and "QMS_NVML_TIMEOUT='forever'" in result.err


def test_the_exporter_starts_and_answers_over_a_wedged_driver() -> None:
    e = Exporter("--interval", "0.2s", fake_gpu="wedged", env=LIMIT)  # before: hung before listening
    try:
        assert "qms_build_info" in e.scrape()
        threads = psutil.Process(e.proc.pid).num_threads()
        time.sleep(2)  # about ten refreshes, each finding the driver still stuck
        text = e.scrape()
        assert "qms_build_info" in text and "qms_gpu_up{" not in text
        assert psutil.Process(e.proc.pid).num_threads() <= threads + 1  # no thread piled up per refresh
    finally:
        e.stop()
