"""Calibration on a noisy machine (issue 14, item 7): the synthetic processors of test_fit_synthetic, with 30%
multiplicative timing noise injected the two ways a shared machine makes it -- other work slowing some runs by
up to 30% (bursts), or every run off by up to 30% either way. Where the noise allows (bursts: most runs are
clean), the fit holds the goal against the machine's true times; where it does not, the calibration says it
missed and widens the range to every error it measured. No family measured is left without a coefficient."""

from __future__ import annotations

import random
from typing import Any

import pytest

from qms_cli.bench.session import BenchResult
from qms_cli.bench.suite import FULL, QUICK, Sizes
from qms_cli.estimate.calibration import GOAL_P90, Sample, fit, goal_met, predicted
from qms_cli.estimate.stats import percentile
from tests.test_fit_synthetic import MACHINES, Machine, bench, full_size_error, held_out

NOISE = 0.3


class Noisy(Machine):
    """A machine whose runs are multiplied by a random factor: `bursts` of the runs slowed by up to NOISE
    (uniform 1 .. 1 + NOISE), or, with `bursts` None, every run by a factor uniform in 1 +- NOISE."""

    def __init__(self, base: Machine, bursts: float | None, seed: int) -> None:
        super().__init__(base.linear, base.attention, base.overhead, base.per_layer, base.decoder, base.per_call,
                         base.decoder_attention, noise=0.0)
        self.bursts, self.noise_rng = bursts, random.Random(seed)
        self.true: dict[int, float] = {}

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        out = super().result(job)
        self.true[job["id"]] = out["seconds"]
        r = self.noise_rng
        if self.bursts is None:
            out["seconds"] *= 1 + r.uniform(-NOISE, NOISE)
        elif r.random() < self.bursts:
            out["seconds"] *= 1 + r.uniform(0, NOISE)
        return out


def true_errors(result: BenchResult, machine: Noisy, kind: str) -> list[float]:
    """The fit's errors on the held-out sizes (steps) or the decodes and tiled decodes against the machine's
    noise-free times."""
    assert result.calibration is not None and result.calibration.fit is not None
    judged = [s for s in result.calibration.samples if not s.fit and s.kind == kind
              and (s.detail or {}).get("options") in (None, ["tiled"])]
    truth = [machine.true[(s.detail or {})["id"]] for s in judged]
    return [abs(predicted(result.calibration.fit, s) - t) / t for s, t in zip(judged, truth, strict=True)]


def every_coefficient(result: BenchResult) -> None:
    assert result.calibration is not None
    coefficients = result.calibration.as_json()["coefficients"]
    assert set(coefficients) == {"flux", "wan"}
    for family, c in coefficients.items():
        for name in ("linear_flops", "attention_flops", "decode_flops"):
            assert c[name] is not None and c[name] > 0, (family, name, c)


def said(result: BenchResult) -> None:
    """Whether the goal was met is said as measured; a miss widens the range to every error measured."""
    cal = result.calibration
    assert cal is not None
    errs = held_out(result)
    assert cal.p90_error == pytest.approx(percentile(errs, 0.9))
    assert cal.as_json()["error"]["goal_met"] is goal_met(cal.p90_error)
    if not goal_met(cal.p90_error):
        assert cal.band[0] <= 1 - max(errs) and cal.band[1] >= 1 + max(errs)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(MACHINES))
def test_bursts_of_load_do_not_bend_the_fit(name: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    machine = Noisy(MACHINES[name](), bursts=0.25, seed=seed)
    result = bench(machine, FULL, monkeypatch)
    assert result.calibration is not None and result.calibration.fit is not None
    true = true_errors(result, machine, "step")
    assert percentile(true, 0.9) <= GOAL_P90, sorted(round(e, 3) for e in true)
    # Three decode sizes for two unknowns: a slowed one cannot be told from the rest, and moves the fit by its
    # share of the noise at most.
    assert max(true_errors(result, machine, "decode")) < NOISE
    for family in ("flux", "wan"):
        assert result.calibration.fit[family].narrow > 0  # every machine here runs narrow models slower
        assert full_size_error(result, machine, family) <= GOAL_P90
    every_coefficient(result)
    said(result)


@pytest.mark.parametrize("sizes", [FULL, QUICK], ids=["full", "quick"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_noise_on_every_run_is_said_and_widens_the_range(seed: int, sizes: Sizes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    machine = Noisy(MACHINES["like-the-xeon"](), bursts=None, seed=seed)
    result = bench(machine, sizes, monkeypatch)
    every_coefficient(result)
    said(result)
    # The fit is not pulled towards the runs that happened to be fast: its errors against the true times
    # stay below what the noise alone gives the measurements (the decodes, two or three sizes for two
    # unknowns, follow their noise).
    true = true_errors(result, machine, "step")
    assert percentile(true, 0.9) < NOISE, sorted(round(e, 3) for e in true)


def xeon_steps(slow: dict[tuple[int, int], float]) -> list[Sample]:
    """FLUX's fitted step measurements on the Xeon-like machine, without noise, some runs slowed by a factor."""
    machine = MACHINES["like-the-xeon"]()
    machine.noise = 0.0
    samples: list[Sample] = []

    def run_jobs(job_list: list[dict[str, Any]], *_: Any) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        out = [machine.result(j) for j in job_list]
        for r, j in zip(out, job_list, strict=True):
            r["seconds"] *= slow.get((j.get("heads", 0), j.get("tokens", 0)), 1.0)
        return out, {}, False

    from qms_cli.bench import session
    from qms_cli.bench.suite import jobs
    from tests.test_fit_synthetic import CATALOG

    job_list = jobs(CATALOG, FULL, False, ["flux"])
    results, _, _ = run_jobs(job_list)
    samples = session.samples_of(CATALOG, job_list, results)
    return samples


def test_one_slow_run_at_the_widest_width_does_not_drop_the_width_term() -> None:
    # One run of the widest model slowed by 30% (other work on the machine) made the widest look no faster per
    # flop than the fit without the width term predicted, and the term was dropped: full-size models then came
    # out at the narrow ones' speed.
    for slow in ({(6, 2048): 1.3}, {(6, 4096): 1.3}, {(6, 8192): 1.3}, {(6, 1024): 1.3}):
        f = fit(xeon_steps(slow))["flux"]
        assert f.narrow / f.linear == pytest.approx(192, rel=0.25), slow


def test_a_decoder_timed_faster_at_a_larger_size_keeps_its_speed() -> None:
    # Two decode sizes, the larger timed too fast under load: the fit must not make the decoder's work free.
    steps = xeon_steps({})
    decodes = [Sample("decode", "flux", 0.010, decode=6.2e6 * 32**2), Sample("decode", "flux", 0.006,
                                                                              decode=6.2e6 * 64**2)]
    f = fit(steps + decodes)["flux"]
    assert f.decode > 0 and f.as_json()["decode_flops"] is not None
