"""Fitting, the calibration file, and calibrated estimates flowing into plans (no torch needed)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qms_cli import calibration
from qms_cli.calibration import Calibration, FamilyFit, Sample, band_for, errors, fit, nnls, percentile, predicted
from qms_cli.catalog import load_catalog
from qms_cli.hardware import probe
from qms_cli.planning import QualityManager
from tests.conftest import validate_output

TRUE = {"linear": 1 / 3e11, "width": 256.0, "attention": 1 / 5e11, "overhead": 0.004}


def synthetic(noise: float = 0.01, seed: int = 0, family: str = "flux") -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for hidden in (256, 512):
        for tokens in (256, 1024, 2048, 4096, 8192):
            lin = 2 * 20e6 * (hidden / 512) ** 2 * tokens
            attn = 12.0 * tokens**2 * hidden
            sec = lin * TRUE["linear"] * (1 + TRUE["width"] / hidden) + attn * TRUE["attention"] + TRUE["overhead"]
            out.append(Sample("step", family, sec * (1 + rng.gauss(0, noise)), lin, attn, hidden))
    for side in (64, 128, 256):
        flops = 6.2e6 * side * side
        out.append(Sample("decode", family, (flops / 1.5e11 + 0.02) * (1 + rng.gauss(0, noise)), decode=flops))
    return out


def test_fit_recovers_known_coefficients() -> None:
    f = fit(synthetic(noise=0.0))["flux"]
    assert 1 / f.linear == pytest.approx(3e11, rel=1e-6)
    assert f.narrow / f.linear == pytest.approx(256, rel=1e-6)
    assert 1 / f.attention == pytest.approx(5e11, rel=1e-6)
    assert f.overhead == pytest.approx(0.004, rel=1e-6)
    assert 1 / f.decode == pytest.approx(1.5e11, rel=1e-6) and f.decode_overhead == pytest.approx(0.02, rel=1e-6)


def test_fit_with_noise_predicts_within_the_noise() -> None:
    samples = synthetic(noise=0.02, seed=3)
    coefficients = fit(samples)
    assert percentile(errors(coefficients, samples), 0.9) < 0.05
    assert all(predicted(coefficients, s) > 0 for s in samples)


def test_nnls_never_returns_negative_coefficients() -> None:
    # Unconstrained least squares would give the second unknown a negative value here.
    rows = [[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]]
    coef = nnls(rows, [0.9, 2.1, 3.0])
    assert all(c >= 0 for c in coef) and coef[1] == 0 and coef[0] == pytest.approx(1.0, abs=0.05)


def test_too_few_samples_do_not_fit() -> None:
    with pytest.raises(ValueError, match="at least 4 step measurements"):
        fit(synthetic()[:3])


def test_percentile_and_band() -> None:
    assert percentile([0.1, 0.2, 0.3, 0.4, 0.5], 0.5) == pytest.approx(0.3)
    assert percentile([], 0.9) == 0.0
    assert band_for(0.02) == (0.9, 1.1)  # at least +-10%
    assert band_for(0.2) == (0.75, 1.25)


def calibration_for(fingerprint: str, samples: list[Sample] | None = None, **kw: Any) -> Calibration:
    samples = samples or synthetic()
    f = fit(samples)
    return Calibration(fingerprint, "test device", "2026-11-25T12:00:00+00:00", "0.1.0", "2.13.0", 2, "float32", f,
                       0.03, 0.06, band_for(0.06), tuple(samples), kw.pop("configurations", {}), None, False)


def test_calibration_file_round_trip_and_schema(tmp_path: Path) -> None:
    cal = calibration_for("cpu-test")
    path = calibration.save(cal)
    assert path == tmp_path / "data" / "calibration" / "cpu-test.json"
    data = json.loads(path.read_text())
    validate_output(data, "calibration")
    back = calibration.load("cpu-test")
    assert back is not None and back.fit is not None
    assert back.fit["flux"].linear == pytest.approx(cal.fit["flux"].linear)  # type: ignore[index]
    assert back.samples == cal.samples and back.band == cal.band
    assert calibration.load("cpu-other") is None


def test_plans_use_the_calibration(tmp_path: Path, qms: Any) -> None:
    res = probe()
    calibration.save(calibration_for(res.cpu_fingerprint))
    data = qms("plan", "Create Image", "--quality", "low", "--json").json()
    validate_output(data, "plan")
    predicted_ = data["tasks"][0]["predicted"]
    assert predicted_["calibrated"] is True and predicted_["basis"].startswith("calibrated 2026-11-25")
    seconds = predicted_["seconds"]
    assert seconds["high"] / seconds["expected"] == pytest.approx(1.1, rel=1e-3)  # the measured band, not x2
    out = qms("plan", "Create Image", "--quality", "low", "--yes").out
    assert "calibrated on this machine on 2026-11-25" in out


def test_uncalibrated_plans_say_so(qms: Any) -> None:
    out = qms("plan", "Create Image", "--yes").out
    assert "not calibrated" in out and "qms bench" in out


def test_a_broken_calibration_is_ignored_with_a_warning(qms: Any) -> None:
    res = probe()
    path = calibration.default_path(res.cpu_fingerprint)
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1}')
    result = qms("plan", "Create Image", "--json")
    assert result.code == 0 and result.json()["tasks"][0]["predicted"]["calibrated"] is False
    assert "could not be read" in result.err and str(path) in result.err


def test_runner_measurements_replace_the_estimate_for_that_configuration() -> None:
    from qms_cli.hardware.resources import Gpu, Resources, System

    gpu = Gpu(0, "NVIDIA GeForce RTX 4090", total=24 * 2**30, used=0, free=24 * 2**30, reserved=0, processes=())
    res = Resources((gpu,), System(64 * 2**30, 60 * 2**30, 16, 32, "Test CPU"), "nvml", 2 * 2**30)
    cal = calibration_for(gpu.fingerprint(), configurations={
        "standard/Create Image": {"seconds": 42.0, "peak_bytes": 15 * 2**30, "predicted_seconds": 50.0,
                                  "exit_code": 0},
        "low/Create Image": {"seconds": 3.0, "peak_bytes": None, "predicted_seconds": 9.0, "exit_code": 1}})
    catalog = load_catalog()
    qm = QualityManager(catalog, res, catalog.throughput, None, {gpu.fingerprint(): cal})
    standard = qm.plan("Create Image", quality="standard")
    p = standard.route.chosen.prediction
    assert p.seconds == pytest.approx(42.0) and p.peak >= int(15 * 2**30 * 1.05)  # measured: 5% slack
    assert "measured here with your own command" in p.basis
    assert qm.plan("Create Image", quality="standard", count=2).route.chosen.prediction.seconds == pytest.approx(84)
    low = qm.plan("Create Image", quality="low").route.chosen.prediction  # the run failed: not used
    assert low.seconds != pytest.approx(3.0)


def test_family_fits_are_separate() -> None:
    samples = synthetic(seed=1) + [replace(s, family="wan", seconds=s.seconds * 2) for s in synthetic(seed=2)]
    f = fit(samples)
    assert set(f) == {"flux", "wan"} and isinstance(f["wan"], FamilyFit)
    assert f["wan"].linear == pytest.approx(2 * f["flux"].linear, rel=0.1)


def test_widths_that_cannot_be_told_apart_fit_without_the_width_term() -> None:
    # One width only: the width term and the plain term are the same column; the fit must not put it all
    # on the width term (that would make full-size models look free).
    samples = [s for s in synthetic(noise=0.0) if s.kind == "decode" or s.hidden == 512]
    f = fit(samples)["flux"]
    assert f.linear > 0 and f.narrow == 0
