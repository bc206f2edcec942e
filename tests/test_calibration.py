"""Fitting, the calibration file, and calibrated estimates flowing into plans (no torch needed)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.estimate import calibration_file
from qms_cli.estimate.calibration import (
    Calibration,
    FamilyFit,
    Sample,
    band_for,
    errors,
    fit,
    nnls,
    predicted,
)
from qms_cli.estimate.stats import percentile
from qms_cli.hardware import probe
from qms_cli.plan.manager import QualityManager
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
    # Missing the goal (9 in 10 within 10%): the range also covers the worst error measured.
    assert band_for(0.2, worst=0.4) == (0.6, 1.4)
    assert band_for(0.08, worst=0.4) == (0.9, 1.1)  # the goal met: the worst one is the tenth allowed out


def test_tiled_decoding_costs_its_overlaps_and_a_fixed_cost_per_tile() -> None:
    from qms_cli.estimate import tiles

    # 192 px in 96 px tiles: 24 latent cells, 12-cell tiles every 9 cells -> tiles of 12, 12 and 6 cells a side.
    assert tiles.grid(192, 192, 96) == (9, pytest.approx((30 / 24) ** 2))
    # 832 x 480 in 512 px tiles: 104 cells across (64, 56 and 8 cells), 60 down (one tile, not split).
    assert tiles.grid(832, 480, 512) == (3, pytest.approx(128 / 104))
    assert tiles.grid(64, 64, 96) == (1, 1.0) and tiles.grid(1024, 1024, 0) == (1, 1.0)
    # A fitted decoder: 1e-11 s a flop, 0.02 s a call; 1000 flops a pixel.
    f = {"flux": FamilyFit(1e-12, 0.0, 1e-12, 0.0, 1e-11, 0.02)}
    whole = Sample("decode", "flux", 1.0, decode=1000.0 * 192**2, detail={"side": 192})
    tiled = replace(whole, detail={"side": 192, "tile": 96, "options": ["tiled"]})
    assert predicted(f, whole) == pytest.approx(1000 * 192**2 * 1e-11 + 0.02)
    assert predicted(f, tiled) == pytest.approx(1000 * 240**2 * 1e-11 + 9 * 0.02)


def test_plans_count_tiling_in_the_decode() -> None:
    from qms_cli.estimate.predict import Effects, predict

    catalog = load_catalog()
    model = catalog.models.models["flux-dev-fp8"]
    family = catalog.models.families["flux"]
    speed = catalog.throughput.gpu("NVIDIA GeForce RTX 4090")
    plain = dict(predict(model, family, 1024, 20, None, Effects(), speed).parts)
    tiled = dict(predict(model, family, 1024, 20, None, Effects(tiled=True), speed).parts)
    # 1024 px in the family's 512 px tiles: 128 cells a side, tiles of 64, 64 and 32 cells.
    assert tiled["decode"] == pytest.approx(plain["decode"] * (160 / 128) ** 2)
    assert tiled["denoise"] == plain["denoise"]


def calibration_for(fingerprint: str, samples: list[Sample] | None = None, **kw: Any) -> Calibration:
    samples = samples or synthetic()
    f = fit(samples)
    return Calibration(fingerprint, "test device", "2026-11-25T12:00:00+00:00", "0.1.0", "2.13.0", 2, "float32", f,
                       0.03, 0.06, band_for(0.06), tuple(samples), kw.pop("configurations", {}), None, False)


def test_calibration_file_round_trip_and_schema(tmp_path: Path) -> None:
    cal = calibration_for("cpu-test")
    path = calibration_file.save(cal)
    assert path == tmp_path / "data" / "calibration" / "cpu-test.json"
    data = json.loads(path.read_text())
    validate_output(data, "calibration")
    back = calibration_file.load("cpu-test")
    assert back is not None and back.fit is not None
    assert back.fit["flux"].linear == pytest.approx(cal.fit["flux"].linear)  # type: ignore[index]
    assert back.samples == cal.samples and back.band == cal.band
    assert calibration_file.load("cpu-other") is None


def test_plans_use_the_calibration(tmp_path: Path, qms: Any) -> None:
    res = probe()
    calibration_file.save(calibration_for(res.cpu_fingerprint))
    data = qms("plan", "Create Image", "--quality", "low", "--json").json()
    validate_output(data, "plan")
    predicted_ = data["tasks"][0]["predicted"]
    assert predicted_["calibrated"] is True and predicted_["basis"].startswith("calibrated 2026-11-25")
    seconds = predicted_["seconds"]
    assert seconds["high"] / seconds["expected"] == pytest.approx(1.1, rel=1e-3)  # the measured band, not x2
    out = qms("plan", "Create Image", "--quality", "low", "--yes").out
    assert "calibrated on this machine on 2026-11-25" in out and "short of" not in out


def test_a_calibration_that_missed_its_goal_says_so_and_plans_show_its_wider_range(qms: Any) -> None:
    res = probe()
    cal = replace(calibration_for(res.cpu_fingerprint), median_error=0.12, p90_error=0.27, band=band_for(0.27, 0.41))
    calibration_file.save(cal)
    assert cal.as_json()["error"]["goal_met"] is False and cal.band == (0.59, 1.41)
    seconds = qms("plan", "Create Image", "--quality", "low", "--json").json()["tasks"][0]["predicted"]["seconds"]
    assert seconds["high"] / seconds["expected"] == pytest.approx(1.41, rel=1e-3)
    assert seconds["low"] / seconds["expected"] == pytest.approx(0.59, rel=1e-3)
    out = qms("plan", "Create Image", "--quality", "low", "--yes").out
    assert "9 in 10 within 27%, short of the 10% qms aims for, so times are shown as wider ranges" in out


def test_speeds_fitted_by_an_older_qms_are_set_aside_with_a_note(qms: Any) -> None:
    res = probe()
    path = calibration_file.save(calibration_for(res.cpu_fingerprint))
    data = json.loads(path.read_text())
    assert data["version"] == 2
    data["version"] = 1  # as qms wrote it before work was counted from the architecture
    path.write_text(json.dumps(data))
    validate_output(data, "calibration")
    result = qms("plan", "Create Image", "--quality", "low", "--json")
    assert result.code == 0 and result.json()["tasks"][0]["predicted"]["calibrated"] is False
    assert "made by an older qms" in result.err and "qms bench" in result.err
    assert json.loads(path.read_text()) == data  # the file is left as it was


def test_uncalibrated_plans_say_so(qms: Any) -> None:
    out = qms("plan", "Create Image", "--yes").out
    assert "not calibrated" in out and "qms bench" in out


def test_a_broken_calibration_is_ignored_with_a_warning(qms: Any) -> None:
    res = probe()
    path = calibration_file.default_path(res.cpu_fingerprint)
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
