"""Estimates that learn from real runs (estimate/learning.py): a configuration's identity in the history, and the
correction its runs make: the median of actual / estimated time, shrunk towards 1 by two pseudo-runs at the
estimate (one run moves it a third of the way, six three quarters); from five runs, their spread as the range.
Every expected number below is worked out by hand from those rules."""

from __future__ import annotations

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.catalog.tiers import Configuration
from qms_cli.estimate.candidate import Candidate
from qms_cli.estimate.learning import config_key, correction
from qms_cli.hardware.resources import Gpu, Resources, System
from qms_cli.plan.manager import QualityManager


def candidate(options: tuple[str, ...] = (), frames: int | None = None, cpu: bool = False) -> Candidate:
    tier = load_catalog().tiers.get("high")
    return Candidate(tier, "Create Image", Configuration("flux-dev-fp16", 1024, 28, frames, options), cpu)


def test_a_configurations_key_names_what_runs_and_where() -> None:
    assert config_key(candidate()) == "flux-dev-fp16|1024|28|||gpu"
    assert (config_key(candidate(("tiled", "--medvram"), frames=48, cpu=True))
            == "flux-dev-fp16|1024|28|48|--medvram tiled|cpu")
    # The same options in another order are the same configuration; another option, another one.
    assert config_key(candidate(("--medvram", "tiled"))) == config_key(candidate(("tiled", "--medvram")))
    assert config_key(candidate(("tiled",))) != config_key(candidate(("--medvram",)))
    assert config_key(candidate()) != config_key(candidate(cpu=True))


def test_no_runs_no_correction() -> None:
    assert correction([]) is None


def test_one_run_moves_the_estimate_a_third_of_the_way() -> None:
    learned = correction([2.0])  # twice as long as estimated: 1 + (2 - 1) x 1 / (1 + 2)
    assert learned is not None
    assert learned.factor == pytest.approx(4 / 3) and learned.band is None and learned.runs == 1
    assert correction([0.5, 0.5, 0.5]).factor == pytest.approx(0.7)  # type: ignore[union-attr]  # 1 - 0.5 x 3/5


def test_six_runs_move_it_three_quarters_of_the_way_and_set_the_range() -> None:
    learned = correction([2.0] * 6)  # 1 + 1 x 6 / 8; a spread of none is shown as at least -10% / +10%
    assert learned is not None
    assert learned.factor == pytest.approx(1.75) and learned.runs == 6
    assert learned.band == pytest.approx((0.9, 1.1))


def test_a_wild_run_hardly_moves_the_median_and_widens_the_range() -> None:
    ratios = [1.0, 1.2, 1.4, 1.6, 10.0]
    learned = correction(ratios)
    # Median 1.4: 1 + 0.4 x 5/7. 10th percentile 1.0 + 0.2 x 0.4 = 1.08; 90th 1.6 + 8.4 x 0.6 = 6.64; both / 1.4.
    assert learned is not None
    assert learned.factor == pytest.approx(1 + 0.4 * 5 / 7)
    assert learned.band == pytest.approx((1.08 / 1.4, 6.64 / 1.4))
    assert correction([1.0, 1.2, 1.4, 1.6, 100.0]).factor == learned.factor  # type: ignore[union-attr]
    assert correction(ratios[:4]).band is None  # type: ignore[union-attr]  # four runs: the model's own range


def test_a_plan_shows_the_time_its_runs_here_have_taught() -> None:
    gpu = Gpu(0, "NVIDIA GeForce RTX 4090", total=24 * 2**30, used=0, free=24 * 2**30, reserved=0, processes=())
    res = Resources((gpu,), System(64 * 2**30, 60 * 2**30, 16, 32, "Test CPU"), "nvml", 2 * 2**30)
    catalog = load_catalog()

    def rungs(history: dict[tuple[str, str], list[float]] | None) -> dict[str, tuple[float, str]]:
        route = QualityManager(catalog, res, catalog.throughput, None, {}, history).plan("Create Image", "low").route
        return {config_key(Candidate(r.tier, "Create Image", r.config, r.on_cpu)): (r.prediction.seconds,
                                                                                  r.prediction.basis)
                for r in route.rungs}

    before = rungs(None)
    key = next(k for k in before if k.endswith("|gpu"))
    after = rungs({(gpu.fingerprint(), key): [2.0]})
    assert after[key][0] == pytest.approx(before[key][0] * 4 / 3)  # that configuration, on this card
    assert after[key][1] == before[key][1] + " · learned from 1 runs here"
    assert all(after[k] == before[k] for k in before if k != key)  # the others learned nothing
    assert rungs({("another machine", key): [2.0]}) == before  # another machine's runs teach nothing here
