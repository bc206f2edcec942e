"""Predicted peak graphics memory against every published row with a peak (docs/memory-measurements.md, each
row with its published source): never under, over by at most 15% (issue 14, item 6).

Each row says how it is used: "seeded" (a family coefficient in models.yaml was derived from it: this checks the
arithmetic), "held out" (nothing was fitted to it), or "not modelled" (a configuration qms does not plan, with
why). `reached` is the error the estimate reaches today, kept in step with the docs table.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.catalog.models import ModelProfile
from qms_cli.estimate.predict import Effects, predict
from qms_cli.units import GIB

CATALOG = load_catalog()
MODELS = CATALOG.models


def variant(base: str, **weights: float) -> ModelProfile:
    """A bundled model with some components stored another way: `component=GiB` (0: kept on the processor)."""
    m = MODELS.models[base]
    comps = dict(m.components)
    for name, gib in weights.items():
        comps[name] = comps[name]._replace(precision="custom", weights={"custom": int(gib * GIB)})
    return replace(m, components=comps)


def loaded(gib: float) -> ModelProfile:
    """FLUX.1-dev as a quantization backend loaded it, all on the card: `gib` in all (the blog's "loaded")."""
    return variant("flux-dev-fp16", transformer=gib - 8.87 - 0.23 - 0.32)


class Row(NamedTuple):
    id: str
    what: str
    model: Any  # a ModelProfile, or None when not modelled
    size: tuple[int, int, int | None]  # resolution (long edge), steps, frames
    options: tuple[str, ...]
    card: str
    measured_gib: float
    counter: str  # what the source measured
    use: str  # seeded / held out / not modelled: why
    reached: float | None  # predicted / measured - 1


Q8, Q4 = 11.9e9 * 8.5 / 8 / GIB, 11.9e9 * 5 / 8 / GIB  # GGUF: 8.5 and 5 bits a weight
H100, RTX4090, L40 = "NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090", "NVIDIA L40"
ROWS = [
    # figures.md: HF "Exploring Quantization Backends in Diffusers" (2025-05-21), H100, 1024², 50 steps, reserved.
    Row("Q1", "bf16", MODELS.models["flux-dev-fp16"], (1024, 50, None), (), H100, 36.2, "reserved",
        "seeded (decode bytes per pixel)", 0.028),
    Row("Q2", "bf16, model offload", MODELS.models["flux-dev-fp16"], (1024, 50, None), ("--medvram",), H100, 23.3,
        "reserved", "seeded (activations)", 0.02),
    Row("Q3", "fp8 layerwise storage", MODELS.models["flux-dev-fp16"], (1024, 50, None), ("fp8-storage",), H100,
        28.5, "reserved", "seeded (storage factor)", 0.034),
    Row("Q4", "fp8 layerwise + offload", MODELS.models["flux-dev-fp16"], (1024, 50, None),
        ("fp8-storage", "--medvram"), H100, 15.6, "reserved", "held out", 0.025),
    Row("Q5", "bnb nf4", loaded(12.6), (1024, 50, None), (), H100, 17.3, "reserved", "held out", 0.054),
    Row("Q6", "bnb 8-bit", loaded(19.3), (1024, 50, None), (), H100, 24.4, "reserved", "held out", 0.022),
    Row("Q7", "torchao fp8 weight-only", loaded(17.0), (1024, 50, None), (), H100, 21.5, "reserved", "held out", 0.053),
    Row("Q8", "torchao fp8 + offload", variant("flux-dev-fp8", t5=4.43), (1024, 50, None), ("--medvram",), H100,
        12.3, "reserved", "held out", 0.03),
    Row("Q9", "torchao int4 weight-only", loaded(10.6), (1024, 50, None), (), H100, 14.7, "reserved", "held out",
        0.105),
    Row("Q10", "GGUF Q8_0", variant("flux-dev-fp16", transformer=Q8), (1024, 50, None), (), H100, 26.0, "reserved",
        "held out", 0.032),
    Row("Q11", "GGUF Q4_1 + offload (bf16 T5)", variant("flux-dev-fp16", transformer=Q4), (1024, 50, None),
        ("--medvram",), H100, 9.2, "reserved", "seeded (encode workspace)", 0.041),
    # measurements.md
    Row("F1", "bf16", MODELS.models["flux-dev-fp16"], (1024, 28, None), (), H100, 33.85, "allocated",
        "held out", 0.1),
    Row("F7", "bf16, model offload", MODELS.models["flux-dev-fp16"], (1024, 28, None), ("--medvram",), RTX4090,
        22.0, "not stated", "held out", 0.08),
    # F8a: the same configuration as Q5, counted as allocated: 2.35 GB under Q5's reserved peak, the same gap as
    # F1 against Q1. qms predicts what the allocator takes from the card (reserved): its bound is against Q5.
    Row("F8a", "bnb nf4 transformer and T5", loaded(12.6), (1024, 28, None), (), RTX4090, 14.95, "allocated",
        "held out (allocated twin of Q5)", 0.22),
    Row("F8b", "bnb nf4, model offload, compiled", None, (1024, 28, None), ("--medvram",), RTX4090, 12.24,
        "allocated", "not modelled: 4-bit modules under offload and compilation; the time barely moves (32.3 s "
        "against 32.6 s), so the weights do not leave the card as whole-component offloading does", None),
    Row("F9a", "one transformer forward, bf16", variant("flux-dev-fp16", t5=0, clip_l=0, vae=0), (1024, 1, None),
        ("tiled",), L40, 22.6, "allocated", "held out", 0.056),
    Row("F9b", "one forward, leaf-level group offload", None, (1024, 1, None), (), L40, 0.55, "allocated",
        "not modelled: streams one leaf layer at a time; qms's layer-by-layer option keeps a whole block", None),
    Row("W1", "T2V-1.3B 480P, offload, text encoder on the processor", variant("wan2gp-lite", umt5=0),
        (832, 50, 81), ("--medvram",), RTX4090, 8.19, "not stated", "seeded (decoder workspace)", 0.102),
    Row("W5a", "T2V-1.3B, model offload (bf16 text encoder)", variant("wan2gp-lite", umt5=10.24), (832, 50, 81),
        ("--medvram",), RTX4090, 11.0, "not stated (≈)", "held out", 0.015),
    Row("W2", "T2V-14B 720P, official code with offload", None, (1280, 50, 81), (), "A100", 69.1, "not stated",
        "not modelled: the official code keeps the weights it offloads in 32 bits", None),
    Row("W4", "I2V-14B 480P, official code", None, (832, 40, 81), (), "H200", 71.0, "not stated",
        "not modelled: image-to-video, not a function the tiers map", None),
    Row("W5b", "T2V-14B, group offload", None, (832, 50, 81), (), "?", 13.0, "not stated",
        "not modelled: size and offload level not stated", None),
]


def error(row: Row) -> float:
    res, steps, frames = row.size
    family = MODELS.families[row.model.family]
    if row.model.family == "wan":
        family = family._replace(aspect=(26, 15))  # 832x480
    p = predict(row.model, family, res, steps, frames, Effects.of(row.options, MODELS.options),
                CATALOG.throughput.gpu(row.card))
    return float(p.peak / GIB / row.measured_gib - 1)


MODELLED = [r for r in ROWS if r.model is not None]


TWINS = {"F8a": "Q5"}  # an allocated count whose configuration was also measured reserved


@pytest.mark.parametrize("row", MODELLED, ids=[r.id for r in MODELLED])
def test_memory_never_under_and_at_most_15_percent_over(row: Row) -> None:
    e = error(row)
    bound = error(next(r for r in ROWS if r.id == TWINS[row.id])) if row.id in TWINS else e
    assert e >= 0 and bound <= 0.15, (row.id, row.what, f"{e:+.1%}")
    assert row.reached is not None and abs(e - row.reached) <= 0.005, (row.id, f"reached {e:+.1%}")


def test_every_row_is_accounted_for() -> None:
    assert {r.id for r in ROWS} >= {"F1", "F7", "F8a", "F8b", "F9a", "F9b", "W1", "W2", "W4", "W5a", "W5b"}
    assert all(r.use.startswith(("seeded", "held out", "not modelled: ")) for r in ROWS)
