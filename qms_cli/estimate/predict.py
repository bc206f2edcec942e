"""Peak graphics memory and time of one configuration on one device (DESIGN.md, "Key semantics").

Peak = max over phases (text encoding, denoising, decoding) of the weights resident in that phase (bytes known
exactly) + that phase's working memory x a safety margin, + a per-process overhead (CUDA context, allocator);
a calibrated whole-peak margin (qms bench) only ever raises it. Main memory = the process itself + the weights
not on the card in the phase that holds most of them off it (offloaded weights, pinned or pageable); on the
processor, the whole working set. Time = load + encode + steps x step + decode + weight transfers,
with a step's work split into matrix products (2 x the weights each token passes through, from the
architecture: qms_cli/estimate/flops.py) and attention (~ 4 x layers x tokens^2 x hidden), each over the device's
throughput. Attention memory is taken as linear in tokens (the
fused kernels PyTorch and ComfyUI use by default do not materialise the tokens^2 matrix).
"""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

import math
from collections.abc import Mapping
from typing import NamedTuple

from qms_cli.catalog.models import Component, Family, MemoryOption, ModelProfile
from qms_cli.catalog.speed import Speed, WorkingMemory
from qms_cli.estimate import tiles
from qms_cli.estimate.flops import pass_work

_OFFLOAD_RANK = {"none": 0, "model": 1, "partial": 2, "sequential": 3}


class Geometry(NamedTuple):
    """The task's size in the model's own units."""

    width: int
    height: int
    frames: int
    latent_frames: int
    tokens: int  # image/video tokens the denoiser works on
    text_tokens: int
    attention_tokens: int  # tokens in self-attention (text joins in joint-attention families)


class Effects(NamedTuple):
    """What a set of memory options does, combined."""

    offload: str = "none"
    resident_fraction: float = 1.0
    activations: float = 1.0
    tiled: bool = False
    storage_factor: float = 1.0
    time_factor: float = 1.0

    @classmethod
    def of(cls, options: tuple[str, ...], defs: dict[str, MemoryOption],
           measured: dict[str, float] | None = None) -> "Effects":
        """The options combined; `measured` replaces an option's time factor by the one qms bench measured."""
        chosen = [defs[o] for o in options]
        if measured:
            chosen = [o._replace(time_factor=measured.get(o.name, o.time_factor)) for o in chosen]
        offload = max((o.offload for o in chosen), key=_OFFLOAD_RANK.__getitem__, default="none")
        return cls(offload=offload,
                   resident_fraction=min((o.resident_fraction for o in chosen if o.offload == "partial"), default=1.0),
                   activations=math.prod(o.activations for o in chosen),
                   tiled=any(o.decode == "tiled" for o in chosen),
                   storage_factor=min((o.storage_factor for o in chosen), default=1.0),
                   time_factor=math.prod(o.time_factor for o in chosen))

    @property
    def offload_rank(self) -> int:
        return _OFFLOAD_RANK[self.offload]


# Graphics memory a process holds beyond its tensors: the CUDA context (0.3-0.5 GiB on recent drivers) and the
# allocator's rounding. Published peaks (torch's counters) leave it out; the card's free memory does not.
PROCESS_OVERHEAD = 384 * 1024**2
# On working memory only (weights are known to the byte): the published peaks (docs/memory-measurements.md) sit
# within 2% of the reference working memory; 10% more keeps every row covered and none over by more than 15%.
WORK_MARGIN = 1.1
# Main memory of the process itself: Python, PyTorch and the CUDA libraries (resident set of an idle pipeline).
HOST_PROCESS = 1536 * 1024**2


class Prediction(NamedTuple):
    """Bytes and seconds; `peak` includes the safety margin, `phases` do not; `ram` is main memory needed."""

    peak: int
    phases: tuple[tuple[str, int], ...]
    seconds: float
    low: float
    high: float
    parts: tuple[tuple[str, float], ...]
    tokens: int
    width: int
    height: int
    calibrated: bool
    basis: str  # where the device's speed came from
    model_seconds: float = 0.0  # the estimate before learning from this machine's history
    ram: int = 0  # main memory the configuration needs (bytes), margin included


def geometry(model: ModelProfile, family: Family, resolution: int, frames: int | None) -> Geometry:
    """Pixels and tokens: the long edge is `resolution`, the frame has the family's aspect, both sides are
    whole multiples of the latent grid (VAE downscale x patch)."""
    grid = model.latent["vae_downscale"] * model.latent["patch"][1]
    aw, ah = family.aspect
    width = max(grid, round(resolution * (aw / max(aw, ah)) / grid) * grid)
    height = max(grid, round(resolution * (ah / max(aw, ah)) / grid) * grid)
    n = frames or 1
    latent = math.ceil((n - 1) / model.latent["temporal_compression"]) + 1 if n > 1 else 1
    tokens = latent * (width // grid) * (height // grid)
    text = model.architecture["text_tokens"]
    return Geometry(width=width, height=height, frames=n, latent_frames=latent, tokens=tokens, text_tokens=text,
                    attention_tokens=tokens + text if family.joint_text else tokens)


def step_work(arch: Mapping[str, float], joint_text: bool, tokens: int, text_tokens: int) -> tuple[float, float]:
    """(matrix-product flops, attention flops) of one pass of a denoiser over its tokens, from its architecture
    (qms_cli/estimate/flops.py: which weights each token passes through, which run once a pass)."""
    return pass_work(arch, joint_text, tokens, text_tokens)


def pass_seconds(lin: float, attn: float, hidden: int, speed: Speed) -> float:
    """One pass: matrix products (slower on narrow models: `linear_width` is where they run at half speed),
    attention, and a fixed overhead."""
    return (lin / speed.linear_flops * (1 + speed.linear_width / hidden) + attn / speed.attention_flops
            + speed.step_overhead)


def _working_memory(family: Family, speed: Speed) -> WorkingMemory:
    """The family's reference working memory, raised where qms bench measured more on this device. A
    measurement of scaled-down work only ever raises an estimate: a lower one waits for a full-size run on a
    card to confirm it (planning a slower setting is better than running out of memory)."""
    ref = WorkingMemory(fixed=float(family.activation_fixed), per_token_hidden=family.activation_bytes,
                        decode_fixed=0.0, decode_per_pixel=family.decode_bytes_per_pixel)
    measured = dict(speed.memory).get(family.name)
    if measured is None:
        return ref
    return WorkingMemory(fixed=max(ref.fixed, measured.fixed),
                         per_token_hidden=max(ref.per_token_hidden, measured.per_token_hidden),
                         decode_fixed=measured.decode_fixed,
                         decode_per_pixel=max(ref.decode_per_pixel, measured.decode_per_pixel))


def _bytes(c: Component, factor: float = 1.0) -> float:
    return c.weights[c.precision] * factor


def predict(model: ModelProfile, family: Family, resolution: int, steps: int, frames: int | None,
            effects: Effects, speed: Speed, *, on_gpu: bool = True, count: int = 1) -> Prediction:
    """The prediction for `count` outputs made one after another on one device."""
    speed = speed.for_family(family.name)
    g = geometry(model, family, resolution, frames)
    arch = model.architecture
    comps = list(model.components.values())
    den = next(c for c in comps if c.role == "denoiser")
    tes = [c for c in comps if c.role == "text_encoder"]
    vae = next(c for c in comps if c.role == "vae")
    w_den = _bytes(den, effects.storage_factor)
    w_tes = [_bytes(c) for c in tes]
    w_vae = _bytes(vae)
    w_all = w_den + sum(w_tes) + w_vae

    working = _working_memory(family, speed)
    act = (working.fixed + working.per_token_hidden * g.attention_tokens * arch["hidden"]) * effects.activations
    pixels = g.width * g.height
    decode_pixels = min(pixels, family.decode_tile**2) if effects.tiled else pixels
    dec_ws = working.decode_fixed + working.decode_per_pixel * decode_pixels
    block = w_den / arch["layers"]
    off = effects.offload if on_gpu else "none"
    if off == "none":
        resident = (w_all, w_all, w_all)
    elif off == "model":
        resident = (max(w_tes, default=0), w_den, w_vae)
    elif off == "partial":
        resident = (max(w_tes, default=0), effects.resident_fraction * w_den + block, w_vae)
    else:
        resident = (max((w / c.blocks for w, c in zip(w_tes, tes)), default=0), block, w_vae)
    works = (family.encode_workspace, act, dec_ws)
    phases = tuple((name, int(w + work)) for name, w, work in zip(("encode", "denoise", "decode"), resident, works))
    peak, ram = _memory(resident, works, w_all, speed.memory_margin, on_gpu)

    lin, attn = step_work(arch, family.joint_text, g.tokens, g.text_tokens)
    passes = family.guidance_passes
    step = passes * pass_seconds(lin, attn, arch["hidden"], speed) * effects.time_factor
    encode = sum(2 * c.params * g.text_tokens for c in tes) / speed.linear_flops
    tiling = tiles.grid(g.width, g.height, family.decode_tile if effects.tiled else 0)
    decode = tiles.decode_seconds(family.decode_flops_per_pixel * pixels * g.frames, 1 / speed.decode_flops,
                                  speed.decode_overhead, tiling)
    bw = speed.host_bandwidth
    load, per_task, per_step = 0.0, 0.0, 0.0
    if off == "none":
        load = w_all / bw if on_gpu else 0.0
    elif off == "model":
        per_task = 2 * w_all / bw
    elif off == "partial":
        load = effects.resident_fraction * w_den / bw
        per_task = 2 * (sum(w_tes) + w_vae) / bw
        per_step = (1 - effects.resident_fraction) * w_den * passes / bw
    else:
        per_task = 2 * (sum(w_tes) + w_vae) / bw
        per_step = w_den * passes / bw
    one = encode + steps * (step + per_step) + decode + per_task
    total = load + count * one
    parts = (("load", load), ("encode", encode * count), ("denoise", steps * step * count),
             ("decode", decode * count), ("transfer", (per_task + steps * per_step) * count))
    return Prediction(peak=peak, phases=phases, seconds=total, low=total * speed.band[0],
                      high=total * speed.band[1], parts=parts, tokens=g.tokens, width=g.width, height=g.height,
                      calibrated=speed.calibrated, basis=speed.basis, model_seconds=total, ram=ram)


def _memory(resident: tuple[float, float, float], works: tuple[float, float, float], w_all: float,
            measured_margin: float, on_gpu: bool) -> tuple[int, int]:
    """(graphics peak, main memory) of a configuration from each phase's resident weights and working memory.
    The margin goes on working memory and the overhead is added once; a whole-peak margin measured by qms bench
    (`measured_margin` > 1) only ever raises the peak. On the processor everything is in main memory and the
    graphics peak is the working set the processor holds."""
    peak = max(max(w + work * WORK_MARGIN + PROCESS_OVERHEAD, (w + work) * measured_margin)
               for w, work in zip(resident, works))
    if not on_gpu:
        full = max(max(w_all + work * WORK_MARGIN, (w_all + work) * measured_margin) for work in works)
        return int(peak), int(HOST_PROCESS + full)
    return int(peak), int(HOST_PROCESS + max(w_all - w for w in resident))
