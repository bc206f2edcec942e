"""The estimator against published figures (docs/measurements.md, docs/memory-measurements.md) and its own invariants.

Which figures seeded coefficients (models.yaml, throughput.yaml) and which are held out is said per row: a
seeded row checks the arithmetic; a held-out row checks the model.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.estimate.predict import Effects, geometry, predict
from qms_cli.units import GIB

H100 = "NVIDIA H100 80GB HBM3"


def flux_variant(precision_gib: float | None = None, t5_bf16: bool = False) -> object:
    """flux-dev-fp16 with its transformer stored another way (GGUF, torchao...) or its T5 in bf16."""
    models = load_catalog().models
    m = models.models["flux-dev-fp16"] if precision_gib is None or t5_bf16 else models.models["flux-dev-fp8"]
    comps = dict(m.components)
    if precision_gib is not None:
        t = comps["transformer"]
        comps["transformer"] = t._replace(precision="custom", weights={"custom": int(precision_gib * GIB)})
    if t5_bf16:
        t5 = comps["t5"]
        comps["t5"] = t5._replace(precision="fp16")
    return replace(m, components=comps)


# (case, model, options, measured peak GiB, measured seconds, peak tolerance, time tolerance, seeded)
# [F] FLUX.1-dev, 1024x1024, 50 steps (the blog's code; an earlier reference said 28), one H100 (diffusers); time
# excludes loading, as the benchmark does. Time rows: see also tests/test_published_times.py (F5, F5o, F6, F6o).
FIGURES = [
    ("bf16", "flux-dev-fp16", (), 36.2, 12, 0.02, 0.05, "peak: decode workspace; time: efficiency"),
    ("bf16 + offload", "flux-dev-fp16", ("--medvram",), 23.3, 20, 0.02, 0.05, "peak: activations; time: bus"),
    ("fp8 layerwise", "flux-dev-fp16", ("fp8-storage",), 28.5, 13, 0.02, 0.05, "storage factor, time factor"),
    ("fp8 layerwise + offload", "flux-dev-fp16", ("fp8-storage", "--medvram"), 15.6, 22, 0.02, 0.15, None),
    ("torchao fp8 + offload", "flux-dev-fp8/t5-bf16", ("--medvram",), 12.3, 27, 0.02, 0.40, None),
    ("GGUF Q8_0", "q8", (), 26.0, 15, 0.02, 0.25, None),
    ("GGUF Q4_1 + offload", "q4/t5-bf16", ("--medvram",), 9.2, 28, 0.02, 0.45, "peak: encode workspace"),
]


def model_for(name: str) -> object:
    models = load_catalog().models
    return {"flux-dev-fp16": models.models["flux-dev-fp16"],
            "flux-dev-fp8/t5-bf16": flux_variant(11.08, t5_bf16=True),
            # GGUF Q8_0: 8.5 bits a weight -> 11.9 B x 8.5 / 8 bytes; Q4_1: 5 bits -> 11.9 B x 5 / 8
            "q8": flux_variant(11.9e9 * 8.5 / 8 / GIB, t5_bf16=True),
            "q4/t5-bf16": flux_variant(11.9e9 * 5 / 8 / GIB, t5_bf16=True)}[name]


@pytest.mark.parametrize("case", FIGURES, ids=[c[0] for c in FIGURES])
def test_published_flux_figures(case: tuple) -> None:  # type: ignore[type-arg]
    name, model_name, options, peak_gib, seconds, peak_tol, time_tol, _ = case
    catalog = load_catalog()
    models = catalog.models
    model = model_for(model_name)
    p = predict(model, models.families["flux"], 1024, 50, None, Effects.of(options, models.options),  # type: ignore[arg-type]
                catalog.throughput.gpu(H100))
    raw = max(b for _, b in p.phases) / GIB
    generation = p.seconds - dict(p.parts)["load"]
    assert abs(raw - peak_gib) / peak_gib <= peak_tol, (name, raw)
    assert abs(generation - seconds) / seconds <= time_tol, (name, generation)
    assert p.peak / GIB >= peak_gib  # with the safety margin, never under the measured peak
    assert p.low <= p.seconds <= p.high


def test_flux_geometry() -> None:
    c = load_catalog()
    m, fam = c.models.models["flux-dev-fp16"], c.models.families["flux"]
    assert geometry(m, fam, 1024, None).tokens == 4096  # [F] 1024 px -> 4096 tokens
    assert geometry(m, fam, 2048, None).tokens == 16384  # [F] 2048 px -> 16384
    assert geometry(m, fam, 1024, None).attention_tokens == 4096 + 512  # joint attention with the text


def test_wan_geometry() -> None:
    c = load_catalog()
    m, fam = c.models.models["wan2gp-pro"], c.models.families["wan"]
    # [F] 81 frames at 832x480 -> 21 x 30 x 52 = 32760 tokens (832:480 = 26:15)
    g = geometry(m, fam._replace(aspect=(26, 15)), 832, 81)
    assert (g.width, g.height, g.latent_frames, g.tokens) == (832, 480, 21, 32760)
    g16 = geometry(m, fam, 768, 48)  # the tiers' assumed 16:9 frame, sides on the 16-pixel grid
    assert (g16.width, g16.height, g16.latent_frames) == (768, 432, 13)


def test_wan_lite_memory_figure_with_offload() -> None:
    """[F] Wan 2.1 T2V-1.3B "requires only 8.19 GB VRAM" at 480P with offload, text encoder on the
    processor. Seeded: the decoder's workspace comes from this figure, so this checks the arithmetic."""
    c = load_catalog()
    m, fam = c.models.models["wan2gp-lite"], c.models.families["wan"]._replace(aspect=(26, 15))
    p = predict(m, fam, 832, 50, 81, Effects.of(("--medvram",), c.models.options), c.throughput.gpu("RTX 4090"))
    phases = dict(p.phases)
    assert abs(max(phases["denoise"], phases["decode"]) / GIB - 8.19) / 8.19 <= 0.05


def test_wan_time_figures() -> None:
    """Held out. [F] T2V-1.3B: a 5 s 480P clip in about 4 minutes on an RTX 4090 (50 steps, guidance) -- the
    estimate is ~55% slow, inside the range it shows (x0.5 to x2). [F] 14B image-to-video, 480P 5 s on an H200:
    366 s (40 steps); the text-to-video 14B at the same size and steps stands in for it -- within 10%."""
    c = load_catalog()
    fam = c.models.families["wan"]._replace(aspect=(26, 15))
    offload = Effects.of(("--medvram",), c.models.options)
    lite = predict(c.models.models["wan2gp-lite"], fam, 832, 50, 81, offload, c.throughput.gpu("RTX 4090"))
    assert lite.low <= 240 <= lite.high
    pro = predict(c.models.models["wan2gp-pro"], fam, 832, 40, 81, Effects(), c.throughput.gpu("NVIDIA H200"))
    generation = pro.seconds - dict(pro.parts)["load"]
    assert abs(generation - 366) / 366 <= 0.10, generation


def test_memory_options_only_ever_lower_the_peak() -> None:
    c = load_catalog()
    models = c.models
    speed = c.throughput.gpu("RTX 4090")
    for model in models.models.values():
        fam = models.families[model.family]
        frames = 48 if model.modality == "video" else None
        steps = model.default_steps
        plain = predict(model, fam, 1024, steps, frames, Effects(), speed).peak
        ladder = [(), ("tiled",), ("tiled", "--medvram"), ("tiled", "--lowvram"), ("tiled", "sequential")]
        peaks = [predict(model, fam, 1024, steps, frames, Effects.of(o, models.options), speed).peak for o in ladder]
        assert peaks[0] == plain and peaks == sorted(peaks, reverse=True), model.id
        times = [predict(model, fam, 1024, steps, frames, Effects.of(o, models.options), speed).seconds
                 for o in ladder[1:]]
        assert times == sorted(times), model.id  # stronger offloading costs time


def test_count_repeats_the_work_but_not_the_load() -> None:
    c = load_catalog()
    m, fam = c.models.models["flux-schnell"], c.models.families["flux"]
    speed = c.throughput.gpu("RTX 4090")
    one = predict(m, fam, 768, 4, None, Effects(), speed)
    ten = predict(m, fam, 768, 4, None, Effects(), speed, count=10)
    load = dict(one.parts)["load"]
    assert ten.seconds == pytest.approx(load + 10 * (one.seconds - load)) and ten.peak == one.peak


def test_processor_runs_keep_everything_in_main_memory() -> None:
    c = load_catalog()
    m, fam = c.models.models["flux-schnell"], c.models.families["flux"]
    on_cpu = predict(m, fam, 768, 4, None, Effects.of(("sequential",), c.models.options), c.throughput.cpu(8),
                     on_gpu=False)
    assert dict(on_cpu.parts)["transfer"] == 0 and not on_cpu.calibrated and "uncalibrated" in on_cpu.basis
