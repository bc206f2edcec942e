"""Memory calibration and memory options: the fit, the file, what it does to plans (no torch needed), and the
processor's peak-memory counter on real allocations."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from qms_cli.bench.measure import ProcessPeak
from qms_cli.bench.session import Evaluation, option_effects
from qms_cli.catalog.load import load_catalog
from qms_cli.estimate import calibration, calibration_file
from qms_cli.estimate.calibration import Sample
from qms_cli.estimate.memfit import MemoryFit, fit_memory, peak, predicted_peak
from qms_cli.estimate.predict import Effects, predict
from qms_cli.hardware.resources import Gpu, Resources, System
from qms_cli.plan.manager import QualityManager
from qms_cli.render.bench import memory_accuracy
from tests.conftest import validate_output
from tests.test_calibration import calibration_for

TRUE = MemoryFit(fixed=3e6, per_token_hidden=80.0, decode_fixed=1e7, decode_per_pixel=5000.0)


# The estimator's terms, written out here rather than taken from MemoryFit.work (the code under test): a pass
# holds fixed + bytes x attention tokens x hidden; a decode, fixed + bytes x pixels of one (square) frame.
def pass_work(tokens: int, hidden: int) -> float:
    return 3e6 + 80.0 * tokens * hidden


def decode_work(side: int) -> float:
    return 1e7 + 5000.0 * side * side


def measured_peak(s: Sample) -> float:
    d = s.detail or {}
    return float(d["weight_bytes"] + d["work_bytes"])


def memory_samples(noise: float = 0.0, seed: int = 0, fit: bool = True) -> list[Sample]:
    """Step and decode samples whose working memory follows TRUE (with relative noise)."""
    rng = random.Random(seed)
    out = []
    for hidden in (256, 512):
        for tokens in (256, 1024, 4096, 8192):
            work = pass_work(tokens + 64, hidden) * (1 + rng.gauss(0, noise))
            d = {"attention_tokens": tokens + 64, "weight_bytes": hidden * 40_000, "work_bytes": int(work)}
            out.append(Sample("step", "flux", 0.01, 1.0, 1.0, hidden, fit=fit, detail=d))
    for side in (64, 128, 256):
        d = {"side": side, "weight_bytes": 10**8, "work_bytes": int(decode_work(side) * (1 + rng.gauss(0, noise)))}
        out.append(Sample("decode", "flux", 0.1, decode=1.0, fit=fit, detail=d))
    return out


def test_working_memory_follows_the_estimators_terms() -> None:
    # 3 MB + 80 B x 1,088 tokens x 256 hidden = 3,000,000 + 22,282,240; a 128 x 128 decode: 10 MB + 5,000 B x 16,384.
    step = Sample("step", "flux", 0.01, 1.0, 1.0, 256, detail={"attention_tokens": 1088})
    decode = Sample("decode", "flux", 0.1, decode=1.0, detail={"side": 128})
    assert TRUE.work(step) == 25_282_240
    assert TRUE.work(decode) == 91_920_000
    # The modelled peak adds the weights as stored, then the margin: (5 MB + 25,282,240) x 1.1.
    step.detail["weight_bytes"] = 5_000_000  # type: ignore[index]
    assert predicted_peak({"flux": TRUE}, step, 1.1) == pytest.approx(30_282_240 * 1.1)
    step.detail["work_bytes"] = 20_000_000  # type: ignore[index]
    assert peak(step) == 25_000_000


def test_memory_fit_recovers_known_coefficients() -> None:
    fits, margin = fit_memory(memory_samples())
    f = fits["flux"]
    assert f.fixed == pytest.approx(TRUE.fixed, rel=1e-3)
    assert f.per_token_hidden == pytest.approx(TRUE.per_token_hidden, rel=1e-3)
    assert f.decode_per_pixel == pytest.approx(TRUE.decode_per_pixel, rel=1e-3)
    assert f.decode_fixed == pytest.approx(TRUE.decode_fixed, rel=1e-3)
    assert margin == 1.05  # an exact fit: just the slack
    assert fit_memory(memory_samples(), 1.10)[1] == 1.1  # the processor's noisier counter: more slack


def test_the_margin_covers_every_fitted_sample_and_held_out_ones_like_them() -> None:
    samples = memory_samples(noise=0.05, seed=3)
    fits, margin = fit_memory(samples)
    assert margin is not None and 1.05 <= margin <= 1.3
    assert all(predicted_peak(fits, s, margin) >= measured_peak(s) for s in samples)
    held = memory_samples(noise=0.05, seed=4, fit=False)
    ratios = [predicted_peak(fits, s, margin) / measured_peak(s) for s in held]
    assert max(ratios) < 1.35 and sum(r < 1 for r in ratios) <= 1


def test_samples_without_memory_or_with_options_are_not_fitted() -> None:
    samples = memory_samples()
    for s in samples[:6]:
        assert s.detail is not None
        s.detail["options"] = ["fp8-storage"]
    fits, margin = fit_memory(samples)
    assert "flux" not in fits and margin is None  # two plain steps left: too few
    assert fit_memory([replace(s, detail={}) for s in memory_samples()]) == ({}, None)


def test_a_calibration_with_memory_round_trips_and_validates(tmp_path: Path) -> None:
    fits, margin = fit_memory(memory_samples())
    cal = replace(calibration_for("cpu-mem"), memory=fits, memory_margin=margin,
                  options={"flux/fp8-storage": {"time_factor": 1.3, "storage_factor": 0.52, "work_factor": 1.0}})
    path = calibration_file.save(cal)
    validate_output(json.loads(path.read_text()), "calibration")
    back = calibration_file.load("cpu-mem")
    assert back is not None and back.memory is not None and back.options == cal.options
    assert back.memory["flux"].per_token_hidden == pytest.approx(TRUE.per_token_hidden, rel=1e-3)
    old = json.loads(path.read_text())
    del old["memory"], old["options"]  # written before memory was measured: still read
    path.write_text(json.dumps(old))
    assert calibration_file.load("cpu-mem").memory is None  # type: ignore[union-attr]


def card_manager(cal: calibration.Calibration | None) -> tuple[QualityManager, str]:
    gpu = Gpu(0, "NVIDIA GeForce RTX 4090", total=24 * 2**30, used=0, free=24 * 2**30, reserved=0, processes=())
    res = Resources((gpu,), System(64 * 2**30, 60 * 2**30, 16, 32, "Test CPU"), "nvml", 2 * 2**30)
    catalog = load_catalog()
    fp = gpu.fingerprint()
    cals = {fp: replace(cal, fingerprint=fp)} if cal else {}
    return QualityManager(catalog, res, catalog.throughput, None, cals), fp


def chosen_peak(cal: calibration.Calibration | None, quality: str = "high") -> int:
    qm, _ = card_manager(cal)
    return qm.plan("Create Image", quality=quality).route.chosen.prediction.peak


def test_measured_memory_only_ever_raises_an_estimate() -> None:
    base = calibration_for("x")
    reference = chosen_peak(None)
    same = chosen_peak(base)  # time calibrated, memory not measured
    assert same == reference
    flux = load_catalog().models.families["flux"]  # the reference the estimator starts from (models.yaml)
    more = MemoryFit(flux.activation_fixed, flux.activation_bytes * 1.6, 0.0, flux.decode_bytes_per_pixel)
    less = MemoryFit(0.0, 10.0, 0.0, 100.0)
    assert chosen_peak(replace(base, memory={"flux": more})) > reference
    assert chosen_peak(replace(base, memory={"flux": less})) == reference
    assert chosen_peak(replace(base, memory={"wan": more})) == reference  # another family's figures
    # A measured whole-peak margin raises the peak where it asks for more than the uncalibrated margin on working
    # memory and overhead; one that asks for nothing more changes nothing.
    qm, _ = card_manager(replace(base, memory_margin=1.5))
    raised = qm.plan("Create Image", quality="high").route.chosen.prediction
    assert raised.peak == pytest.approx(max(b for _, b in raised.phases) * 1.5, rel=1e-6)
    assert chosen_peak(replace(base, memory_margin=1.0)) == reference


def test_a_measured_storage_cast_time_replaces_the_profile_factor() -> None:
    catalog = load_catalog()
    defs = catalog.models.options
    profile_factor = defs["fp8-storage"].time_factor  # what models.yaml says before anything is measured
    assert Effects.of(("fp8-storage",), defs).time_factor == pytest.approx(profile_factor)
    assert Effects.of(("fp8-storage", "tiled"), defs, {"fp8-storage": 1.5}).time_factor == pytest.approx(1.5)
    base = calibration_for("x")
    cal = replace(base, options={"flux/fp8-storage": {"time_factor": 1.5}, "flux/tiled": {"time_factor": 3.0},
                                 "wan/fp8-storage": {"time_factor": 2.0}})
    speed = cal.speed(catalog.throughput.cpu(2))
    assert speed.option_factors("flux") == {"fp8-storage": 1.5}  # tiling's cost is the decode's, not the passes'
    assert speed.option_factors("wan") == {"fp8-storage": 2.0}
    # In an estimate: storing the weights in 8 bits costs the measured factor on every pass.
    model = catalog.models.models["flux-dev-fp16"]
    family = catalog.models.families["flux"]
    ref_speed = base.speed(catalog.throughput.cpu(2))
    denoise = [dict(predict(model, family, 1024, 28, None, Effects.of(("fp8-storage",), defs, s.option_factors("flux")),
                            s).parts)["denoise"] for s in (speed, ref_speed)]
    assert denoise[0] / denoise[1] == pytest.approx(1.5 / profile_factor, rel=1e-6)


def test_option_effects_compare_each_option_with_its_twin() -> None:
    twin = Sample("step", "flux", 0.10, 1.0, 1.0, 384, fit=False,
                  detail={"id": 7, "weight_bytes": 1000, "work_bytes": 400})
    cast = Sample("step", "flux", 0.13, 1.0, 1.0, 384, fit=False,
                  detail={"id": 8, "twin": 7, "options": ["fp8-storage"], "weight_bytes": 520, "work_bytes": 440})
    dec = Sample("decode", "flux", 0.2, decode=1.0, fit=False, detail={"id": 9, "side": 192, "work_bytes": 900})
    tiled = Sample("decode", "flux", 0.3, decode=1.0, fit=False,
                   detail={"id": 10, "twin": 9, "side": 192, "options": ["tiled"], "work_bytes": 300})
    effects = option_effects([twin, cast, dec, tiled])
    assert effects == {"flux/fp8-storage": {"time_factor": 1.3, "storage_factor": 0.52, "work_factor": 1.1},
                       "flux/tiled": {"time_factor": 1.5, "work_factor": pytest.approx(1 / 3, rel=1e-3)}}


def test_memory_accuracy_counts_under_predictions() -> None:
    def e(pred: float, meas: float, option: str | None = None) -> Evaluation:
        return Evaluation("step", "flux", None, None, "s", 1.0, 1.0, option, pred, meas)

    summary = memory_accuracy([e(110, 100), e(100, 100), e(90, 100), e(500, 100, "tiled"), e(120, 100)])
    assert summary == {"measured": 4, "under_predicted": 1, "worst_under": pytest.approx(-0.1),
                       "median_over": pytest.approx(0.1), "max_over": pytest.approx(0.2)}
    assert memory_accuracy([e(500, 100, "tiled")]) is None


@pytest.mark.skipif(not ProcessPeak().available, reason="no resettable peak-memory counter (Linux /proc)")
def test_the_processors_peak_counter_sees_a_real_allocation() -> None:
    counter = ProcessPeak()
    sizes = {}
    for mb in (16, 64, 128):
        def hold(n: int = mb) -> None:
            block = bytearray(n * 2**20)  # zero-filled: every page touched
            del block

        sizes[mb] = counter.measure(hold)
    for mb, got in sizes.items():
        assert got is not None and 0.97 * mb * 2**20 <= got <= (mb + 8) * 2**20, (mb, got)
    # Freed memory does not count towards the next, smaller piece of work.
    assert counter.measure(lambda: None) < 8 * 2**20  # type: ignore[operator]
