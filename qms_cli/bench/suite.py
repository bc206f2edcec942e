"""What `qms bench` measures: scaled-down denoisers of each family the tiers use, at a ladder of token counts
and three widths (the fit), and the decoders at a few sizes; with --evaluate, held-out sizes per tier and
function (another width, each tier's own token count) that the fit never saw.

Sizes: heads as wide as models.yaml's head_dim; widths of 2, 4 and 6 heads, held out at 3 (1, 3 and 4, held
out at 2, with --quick). Three widths, not two (issue 14): with two, the narrow-model term is whatever makes
those two exactly right, so a speed quirk both share (power-of-two widths slower per flop on some processors)
goes into the fit unseen; with three, the term is kept only where, fitted to the narrower two, it predicts the
widest (calibration.fit), and the widths mix powers of two with others (FLUX.1's 3072 and Wan's 1536 and 5120
are 3 or 5 times one). Token counts double up to a cap (8192; 512 with --quick) that is also the largest size
evaluated, so the fit always spans the sizes it is judged on; a tier whose own token count is larger is
evaluated at the cap.

Memory options (with --evaluate): each option diffusers offers that the family's models list -- weights stored
in 8 bits (layerwise casting) and, on a card, layer-by-layer offloading for a denoising pass; tiled decoding
(tiles of half the side) for a decode -- is measured at one held-out size next to a twin without it, so the
option's cost in time and its saving in memory are measured rather than assumed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from qms_cli.catalog.load import Catalog
from qms_cli.estimate.predict import Effects, geometry


class Sizes(NamedTuple):
    fit_heads: tuple[int, ...]
    eval_heads: int
    tokens: tuple[int, ...]
    fit_text: int
    text_cap: int
    cap: int
    decode_sides: tuple[int, ...]
    decode_eval: int
    video_sides: tuple[int, ...]
    video_eval: int
    cap_s: float


FULL = Sizes(fit_heads=(2, 4, 6), eval_heads=3, tokens=(256, 1024, 2048, 4096, 8192), fit_text=64, text_cap=512,
             cap=8192, decode_sides=(64, 128, 256), decode_eval=192, video_sides=(48, 80, 128), video_eval=96,
             cap_s=5.0)
QUICK = Sizes(fit_heads=(1, 3, 4), eval_heads=2, tokens=(64, 128, 256, 512), fit_text=16, text_cap=64, cap=512,
              decode_sides=(32, 64), decode_eval=48, video_sides=(32, 64), video_eval=48, cap_s=0.5)
LAYERS = {"flux": [1, 2], "wan": [2]}  # FLUX: 1 double-stream + 2 single-stream blocks; Wan: 2 blocks
# What the workloads can apply (workloads.build_step, build_decoder): their own terms, not the catalogue's option
# names. A memory option is measured when its effect on a pass is exactly one of STEP_TERMS (offloading needs a
# card), or when it does nothing to a pass and tiles the decode.
STEP_TERMS = ("fp8-storage", "sequential")
OFFLOAD_TERMS = ("sequential", "partial")
VIDEO_FRAMES = 5  # decoded frames of a video decode job (2 latent frames)


def jobs(catalog: Catalog, sizes: Sizes, evaluate: bool, families: list[str] | None = None,
         card: bool = False, card_bytes: int = 0) -> list[dict[str, Any]]:
    """The measurements, in the order the worker runs them (grouped by model, so each is built once).
    `card_bytes`: a card's free memory; a tier's held-out measurement whose denoiser fits in it (16-bit weights
    and working memory, by the reference figures, with a fifth to spare) runs at full size instead of scaled."""
    models = catalog.models
    tiers = catalog.tiers
    used: dict[str, float] = {}
    head_dim: dict[str, int] = {}
    supported: dict[str, list[str]] = {}
    for tier in tiers.tiers:
        for config in tier.mappings.values():
            m = models.models[config.model]
            used.setdefault(m.family, m.architecture["ffn"] / m.architecture["hidden"])
            head_dim.setdefault(m.family, m.architecture["head_dim"])
            own = supported.setdefault(m.family, [])
            own += [o for o in m.memory_options if o not in own]
    if families:
        used = {f: r for f, r in used.items() if f in families}
    out: list[dict[str, Any]] = []

    def add(**job: Any) -> int:
        out.append({"id": len(out), "options": [], **job})
        return len(out) - 1

    for family, ffn in used.items():
        step = {"kind": "step", "family": family, "layers": LAYERS[family], "ffn_ratio": ffn,
                "head_dim": head_dim[family]}
        frames = 1 if family == "flux" else 4
        for heads in sizes.fit_heads:
            for tokens in sizes.tokens:
                add(**step, heads=heads, tokens=tokens, text_tokens=sizes.fit_text, frames=frames, fit=True,
                    tier=None, function=None)
        if evaluate:
            for tier in tiers.tiers:
                for fn, config in tier.mappings.items():
                    m = models.models[config.model]
                    if m.family != family:
                        continue
                    g = geometry(m, models.families[family], config.resolution, config.frames)
                    if card_bytes and full_size_need(m, models.families[family], g.attention_tokens) <= card_bytes:
                        add(**full_size(m, g), fit=False, tier=tier.id, function=fn)
                        continue
                    text = min(g.text_tokens, sizes.text_cap)
                    add(**step, heads=sizes.eval_heads, tokens=max(16, min(g.tokens, sizes.cap - text)),
                        text_tokens=text, frames=1 if family == "flux" else max(1, min(g.latent_frames, 8)),
                        fit=False, tier=tier.id, function=fn)
            step_options = _measured_on_a_pass(catalog, supported[family], card)
            if step_options:
                size = {**step, "heads": sizes.eval_heads, "tokens": sizes.tokens[-2], "text_tokens": sizes.fit_text,
                        "frames": frames, "fit": False, "tier": None, "function": None}
                twin = add(**size)
                for option, terms in step_options:
                    add(**{**size, "options": terms, "option": option, "twin": twin})
        video = family != "flux"
        sides = sizes.video_sides if video else sizes.decode_sides
        n = VIDEO_FRAMES if video else 1
        for side in sides:
            add(kind="decode", family=family, side=side, frames=n, fit=True, tier=None, function=None)
        if evaluate:
            decode = {"kind": "decode", "family": family, "side": sizes.video_eval if video else sizes.decode_eval,
                      "frames": n, "fit": False, "tier": None, "function": None}
            twin = add(**decode)
            for option in supported[family]:
                steps, decodes = workload_options(Effects.of((option,), models.options))
                if not steps and decodes:
                    add(**{**decode, "options": decodes, "option": option, "twin": twin})
    return out


def workload_options(effects: Effects, eight_bit: bool = False) -> tuple[list[str], list[str]]:
    """(pass terms, decode terms): what the workloads apply to reproduce memory options with these effects
    (`eight_bit`: the profile's own weights are in 8 bits, run as 8-bit storage)."""
    steps = [t for t in OFFLOAD_TERMS if effects.offload == t]
    if eight_bit or effects.storage_factor < 1:
        steps.append("fp8-storage")
    return steps, ["tiled"] if effects.tiled else []


def _measured_on_a_pass(catalog: Catalog, options: list[str], card: bool) -> list[tuple[str, list[str]]]:
    """(option, its pass terms) of each memory option a pass is measured with, in STEP_TERMS' order."""
    out: list[tuple[int, str, list[str]]] = []
    for option in options:
        steps, _ = workload_options(Effects.of((option,), catalog.models.options))
        if len(steps) == 1 and steps[0] in STEP_TERMS and (card or steps[0] not in OFFLOAD_TERMS):
            out.append((STEP_TERMS.index(steps[0]), option, steps))
    return [(option, steps) for _, option, steps in sorted(out, key=lambda x: x[0])]


FULL_TEXT_DIM = 4096  # T5-XXL and umT5-XXL embeddings, as the full-size models read them


def full_layers(model: Any) -> list[int]:
    arch = model.architecture
    return [arch["double_blocks"], arch["single_blocks"]] if model.family == "flux" else [arch["layers"]]


def full_size(model: Any, g: Any) -> dict[str, Any]:
    """A denoising pass of the model as it is (its real depth and width) at the task's own size, built
    without initialising (workloads.build_step)."""
    arch = model.architecture
    return {"kind": "step", "family": model.family, "heads": arch["heads"], "head_dim": arch["head_dim"],
            "layers": full_layers(model),
            "ffn_ratio": arch["ffn"] / arch["hidden"], "tokens": g.tokens, "text_tokens": g.text_tokens,
            "frames": 1 if model.family == "flux" else g.latent_frames, "text_dim": FULL_TEXT_DIM, "empty": True,
            "repeats": 1}


def full_size_need(model: Any, family: Any, attention_tokens: int) -> float:
    """Graphics memory a full-size pass needs in 16 bits: the denoiser's weights and its working memory."""
    den = next(c for c in model.components.values() if c.role == "denoiser")
    work = family.activation_fixed + family.activation_bytes * attention_tokens * model.architecture["hidden"]
    return float(1.2 * (2 * den.params + work))
