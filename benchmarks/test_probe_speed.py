"""The probe in-process over 8 fake GPUs (the NVML calls cost what Python costs, not what a driver costs)."""

from __future__ import annotations

from typing import Any

import pytest

from qms_cli.hardware import probe
from tests.fake_nvml import SCENARIOS, install


def test_probe_eight_gpus_in_process(benchmark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    install(SCENARIOS["eight"](), monkeypatch.setattr)
    import pynvml  # imported once, as in a long-running process

    res = benchmark(probe)
    assert len(res.gpus) == 8 and pynvml is not None
    benchmark.extra_info["gpus"] = 8
