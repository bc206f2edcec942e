"""Calibration on synthetic processors (issue 14, item 7): the real bench design, samples, fit and evaluation,
with only the worker's measurements replaced by a timing model of a machine.

Each machine times a job from what the job is -- its width, depth, parameters, tokens, text, decoder tiles --
in its own way: matrix products whose speed depends on width differently, attention with another scaling, a
different fixed cost per pass, decoders whose fixed cost is paid per tile. The fit must predict sizes it never
saw, tiled decodes, and full-size models; where a machine's quirk is beyond the model, the calibration must say
so and widen the range.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from qms_cli.bench import session
from qms_cli.bench.session import BenchResult, model_shaped
from qms_cli.bench.suite import FULL, QUICK, Sizes
from qms_cli.catalog.load import load_catalog
from qms_cli.estimate.calibration import GOAL_P90, errors, goal_met
from qms_cli.estimate.predict import pass_seconds, step_work
from qms_cli.estimate.stats import percentile

CATALOG = load_catalog()
FAMILIES = CATALOG.models.families
# Parameters of the scaled-down denoisers, by heads, as the worker reports them (diffusers' FluxTransformer2DModel
# with 1 double- and 2 single-stream blocks, WanTransformer3DModel with 2 blocks, 128-wide heads, counted on
# torch's meta device).
PARAMS = {"flux": {1: 1295168, 2: 4915776, 3: 10862912, 4: 19136576, 5: 29736768, 6: 42663488},
          "wan": {1: 866198, 2: 3282666, 3: 7251008, 4: 12770710, 5: 19839210, 6: 28461120}}


class Machine:
    """A processor's timing behaviour. `linear(h)`: seconds per matrix-product flop at width h; `attention(n)`:
    seconds per attention flop with n tokens attending; per pass `overhead` plus `per_layer` a block; the
    decoder: seconds per flop (with `decoder_attention`, a term quadratic in latent cells, like its mid-block
    attention) and `per_call` each time the decoder runs (once per tile when tiled)."""

    def __init__(self, linear: Callable[[int], float], attention: Callable[[int], float] = lambda n: 1 / 2.4e11,
                 overhead: float = 0.005, per_layer: float = 0.0, decoder: float = 1 / 1.7e11,
                 per_call: float = 0.002, decoder_attention: float = 0.0, noise: float = 0.01, seed: int = 0) -> None:
        self.linear, self.attention, self.overhead, self.per_layer = linear, attention, overhead, per_layer
        self.decoder, self.per_call, self.decoder_attention = decoder, per_call, decoder_attention
        self.rng = random.Random(seed)
        self.noise = noise

    def step(self, family: str, arch: dict[str, float], tokens: int, text: int) -> float:
        """One pass of a model with these architecture numbers. Its work is counted as the estimator counts it
        (predict.step_work, held to diffusers' published count in test_published_times): what differs from one
        machine to the next is only how fast each kind of work runs."""
        hidden, layers = int(arch["hidden"]), int(arch["layers"])
        joint = FAMILIES[family].joint_text
        attending = tokens + text if joint else tokens
        lin, attn = step_work(arch, joint, tokens, text)
        return (lin * self.linear(hidden) + attn * self.attention(attending) + self.overhead
                + self.per_layer * layers)

    def decode_call(self, family: str, cells_x: int, cells_y: int, frames: int) -> float:
        pixels = cells_x * cells_y * 64
        conv = FAMILIES[family].decode_flops_per_pixel * pixels * frames * self.decoder
        return conv + self.decoder_attention * (cells_x * cells_y) ** 2 * frames + self.per_call

    def decode(self, family: str, side: int, frames: int, tile: int) -> float:
        """As diffusers' decoders tile: a tile every three quarters of a tile, each decoded whole."""
        cells, per = side // 8, tile // 8
        if not tile or cells <= per:
            return self.decode_call(family, cells, cells, frames)
        stride = per * 3 // 4
        spans = [min(per, cells - s) for s in range(0, cells, stride)]
        return sum(self.decode_call(family, a, b, frames) for a in spans for b in spans)

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": job["id"], "status": "ok", "repeats": 3, "spread": 0.01, "process": 1}
        if job["kind"] == "step":
            params = PARAMS[job["family"]][job["heads"]]
            tokens = job["tokens"]
            if job["family"] == "wan":  # whole patches per frame, as the worker builds the input
                per_frame = max(1, tokens // job["frames"])
                h = max(1, int(math.sqrt(per_frame)))
                tokens = job["frames"] * h * max(1, per_frame // h)
            arch = session.workload_architecture(CATALOG, job, job["heads"] * job["head_dim"])
            seconds = self.step(job["family"], arch, tokens, job["text_tokens"])
            if "fp8-storage" in job["options"]:
                seconds *= 1.08
            out.update(params=params, tokens=tokens, weight_bytes=4 * params)
        else:
            tile = job["side"] // 2 if "tiled" in job["options"] else 0
            seconds = self.decode(job["family"], job["side"], job["frames"], tile)
            out.update(weight_bytes=200_000_000)
        out["seconds"] = seconds * (1 + self.rng.gauss(0, self.noise))
        return out


def bench(machine: Machine, sizes: Sizes = FULL, monkeypatch: pytest.MonkeyPatch | None = None) -> BenchResult:
    """`qms bench --evaluate` on the synthetic machine: the real jobs, samples, fit and evaluation."""
    def run_jobs(job_list: list[dict[str, Any]], config: dict[str, Any], progress: Any,
                 isolate: bool) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        return [machine.result(j) for j in job_list], {"device": "processor", "torch": "synthetic"}, False

    assert monkeypatch is not None
    monkeypatch.setattr(session, "require_torch", lambda: None)
    monkeypatch.setattr(session, "run_jobs", run_jobs)
    return model_shaped(CATALOG, sizes, evaluate=True, threads=2, device="cpu", dtype="float32",
                        fingerprint="cpu-synthetic", vram_limit=None, progress=lambda *a: None)


def held_out(result: BenchResult) -> list[float]:
    """Errors on the sizes the fit never saw (memory options aside, tiled decodes included)."""
    return [e.error for e in result.evaluations if e.option in (None, "tiled")]


def full_size_error(result: BenchResult, machine: Machine, family: str) -> float:
    """The calibrated estimate of one full-size denoising pass at Standard quality against the machine's time."""
    assert result.calibration is not None
    tier = next(t for t in CATALOG.tiers.tiers if t.id == "standard")
    config = next(c for c in tier.mappings.values() if CATALOG.models.models[c.model].family == family)
    model = CATALOG.models.models[config.model]
    from qms_cli.estimate.predict import geometry

    g = geometry(model, FAMILIES[family], config.resolution, config.frames)
    arch = dict(model.architecture)
    lin, attn = step_work(arch, FAMILIES[family].joint_text, g.tokens, g.text_tokens)
    speed = result.calibration.speed(CATALOG.throughput.cpu(2)).for_family(family)
    true = machine.step(family, arch, g.tokens, g.text_tokens)
    return abs(pass_seconds(lin, attn, arch["hidden"], speed) - true) / true


def power_of_two(h: int) -> bool:
    return h & (h - 1) == 0


MACHINES: dict[str, Callable[[], Machine]] = {  # made afresh for each test (each has its own noise)
    # What this repository's Xeon measured: narrow models somewhat slower per flop.
    "like-the-xeon": lambda: Machine(lambda h: (1 + 192 / h) / 5.8e11),
    # Narrow models far less efficient, as on a graphics card.
    "narrow-much-slower": lambda: Machine(lambda h: (1 + 1500 / h) / 4e12, lambda n: 1 / 1.5e12, overhead=0.002),
    # Attention inefficient on few tokens (work in blocks), and a large fixed cost per block of layers.
    "attention-and-overheads": lambda: Machine(lambda h: (1 + 150 / h) / 3e11, lambda n: (1 + 2048 / n) / 2e11,
                                               overhead=0.03, per_layer=0.01),
    # The decoder's fixed cost is large (paid per tile) and its mid-block attention is quadratic in the latent.
    "heavy-decoder": lambda: Machine(lambda h: (1 + 192 / h) / 5.8e11, decoder=1 / 5e11, per_call=0.05,
                                     decoder_attention=2e-9),
}


def widths_out_of_model() -> Machine:
    """Width costs nothing the model can describe: every width at its own speed."""
    speeds = {256: 1.3, 384: 0.8, 512: 1.2, 768: 0.9}
    return Machine(lambda h: speeds[h] / 4e11, noise=0.0)


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_the_fit_predicts_what_it_never_saw(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    machine = MACHINES[name]()
    result = bench(machine, monkeypatch=monkeypatch)
    cal = result.calibration
    assert cal is not None
    errs = held_out(result)
    assert len(errs) == 12  # per family: three tiers, a size twinned with 8-bit storage, a decode, a tiled decode
    assert percentile(errs, 0.9) < 0.06, [(e.size, e.option, round(e.error, 3)) for e in result.evaluations]
    assert cal.p90_error == pytest.approx(percentile(errs, 0.9)) and goal_met(cal.p90_error)
    assert cal.band == (0.9, 1.1)
    tiled = [e for e in result.evaluations if e.option == "tiled"]
    assert len(tiled) == 2 and all(e.error < 0.06 for e in tiled)
    for family in ("flux", "wan"):
        assert full_size_error(result, machine, family) < 0.06


def test_two_widths_that_share_a_quirk_hide_it_and_three_show_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the AMD processor showed: power-of-two widths (256 and 512, the two the fit measured) slower per flop
    # than others. Fitted on those two alone, FLUX's width term vanishes and every held-out size (384 wide) comes
    # out too slow; full-size models (3072 wide, not a power of two) by more.
    machine = Machine(lambda h: (1.25 if power_of_two(h) else 1.0) / 4e11)
    two = bench(machine, FULL._replace(fit_heads=(2, 4)), monkeypatch)
    assert two.calibration is not None and two.calibration.fit is not None
    assert two.calibration.fit["flux"].narrow == 0
    steps = [e for e in two.evaluations if e.kind == "step" and e.option is None]
    assert len(steps) == 8 and all(e.predicted > e.measured * 1.02 for e in steps)  # 1% noise: all too slow
    assert full_size_error(two, machine, "flux") > 0.15
    # Three widths, one of them not a power of two: both errors shrink.
    three = bench(machine, FULL, monkeypatch)
    assert percentile(held_out(three), 0.9) < percentile(held_out(two), 0.9)
    for family in ("flux", "wan"):
        assert full_size_error(three, machine, family) < 0.08


def test_the_width_term_is_kept_where_it_predicts_wider_models(monkeypatch: pytest.MonkeyPatch) -> None:
    # Narrow models slower per flop and power-of-two widths slower again: the width term must stay (without
    # it, full-size models would be predicted at the narrow ones' speed), and what the quirk leaves is reported
    # with a range that covers every size measured.
    machine = Machine(lambda h: (1.25 if power_of_two(h) else 1.0) * (1 + 192 / h) / 4e11)
    result = bench(machine, FULL, monkeypatch)
    cal = result.calibration
    assert cal is not None and cal.fit is not None and all(f.narrow > 0 for f in cal.fit.values())
    for family in ("flux", "wan"):
        assert full_size_error(result, machine, family) < 0.12
    worst = max(held_out(result))
    assert cal.band[0] <= 1 - worst and cal.band[1] >= 1 + worst


def test_a_miss_is_said_and_widens_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    result = bench(widths_out_of_model(), FULL, monkeypatch)
    cal = result.calibration
    assert cal is not None and not goal_met(cal.p90_error) and cal.p90_error > GOAL_P90
    worst = max(errors(cal.fit or {}, [s for s in cal.samples if not s.fit and not (s.detail or {}).get("options")]))
    assert cal.band[1] >= 1 + worst and cal.band[1] >= 1 + 1.25 * cal.p90_error
    assert cal.as_json()["error"]["goal_met"] is False


@pytest.mark.parametrize("name", ["widths-out-of-model", "like-the-xeon"])
def test_the_bench_says_plainly_whether_it_met_the_goal(name: str, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from qms_cli.render import bench as view
    from tests.conftest import validate_output

    result = bench(MACHINES[name]() if name in MACHINES else widths_out_of_model(), FULL, monkeypatch)
    cal = result.calibration
    assert cal is not None
    data = view.result_json(result, cal, None)
    validate_output(data, "bench-result")
    missed = name == "widths-out-of-model"
    assert data["calibration"]["error"]["goal_met"] is (not missed)
    view.show(result, cal, None, None)
    out = capsys.readouterr().out
    said = "misses what qms aims for (9 in 10 within 10%), so plans on this machine show each time as a wider range"
    assert (said in out) is missed
    if missed:
        low, high = cal.band
        assert f"from {1 - low:.0%} less to {high - 1:.0%} more than the estimate" in out


def test_quick_sizes_fit_three_widths_and_hold_out_another() -> None:
    for sizes in (FULL, QUICK):
        assert len(set(sizes.fit_heads)) >= 3 and sizes.eval_heads not in sizes.fit_heads
        assert min(sizes.fit_heads) < sizes.eval_heads < max(sizes.fit_heads)
        for head_dim in {m.architecture["head_dim"] for m in CATALOG.models.models.values()}:
            assert any(not power_of_two(h * head_dim) for h in sizes.fit_heads)
