"""Ground truth for routing (`qms bench --rungs`): each rung the router tries for each tier and function, run
at full size, its memory measured and set against what the router predicted.

A rung runs as two jobs, the denoising pass and the decode, each at the configuration's own size with its
memory options as diffusers offers them: 8-bit weights (the profile's precision, or the 8-bit storage option)
as layerwise casting, layer-by-layer and partial offloading as group offloading (partial: half the blocks at
a time), tiled decoding. What else the phase keeps in graphics memory -- with nothing offloaded, the text
encoders and the decoder during the pass, everything else during the decode -- is held as plain bytes. Not
run: the text-encoding phase (its peak is weights the profiles state plus a small workspace), 4-bit weights
(no diffusers equivalent without extra libraries).

On a card (capped by --vram-limit) the truth is whether the job ran out of memory. On the processor, which
stands in for the card --vram-limit describes, the truth is whether the measured peak is within that limit;
offloading rungs need a card and are skipped there, as is anything larger than main memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from qms_cli.bench.session import Progress, require_torch, run_jobs
from qms_cli.bench.suite import full_size, workload_options
from qms_cli.estimate.predict import Effects, geometry, predict
from qms_cli.values import Value

EIGHT_BIT = ("fp8", "int8")
PROCESSOR_CAP_S = 120.0  # a phase predicted to take longer on the processor stand-in is not run
DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}  # the decoder runs in its profile's precision


@dataclass(frozen=True, eq=False, repr=False)
class RungCheck(Value):
    """One rung's phase: predicted against measured."""

    tier: str
    function: str
    model: str
    options: tuple[str, ...]
    phase: str  # "denoise" (one pass) or "decode"
    router_fits: bool  # the router's verdict on this phase: its predicted peak within the memory planned with
    predicted_bytes: int  # the phase's predicted peak, with the margin
    modelled_bytes: int  # the same before the margin
    predicted_seconds: float
    status: str  # "ok", "oom", "error" or "skipped"
    why: str | None = None  # skipped: "needs_card", "too_large", "too_slow" or "four_bit"; failed: the error
    measured_bytes: int | None = None
    measured_seconds: float | None = None
    fits: bool | None = None  # the truth: ran without running out (card), or peak within the limit (processor)


def plan_jobs(qm: Any, tier_ids: list[str], functions: list[str], card: bool,
              ram: int) -> tuple[list[dict[str, Any]], list[RungCheck], int]:
    """The jobs to run; for every rung, its checks as predicted (status "skipped" with a reason where a rung
    cannot be run here; the others are filled in by `judge`); and the graphics memory the router planned
    with, which the jobs are held to."""
    models = qm.catalog.models
    job_list: list[dict[str, Any]] = []
    checks: list[RungCheck] = []
    available = 0
    seen: set[tuple[str, str, Any]] = set()  # a lower tier's rungs come up again in the routes above it
    for tier_id in tier_ids:
        for function in functions:
            route = qm.plan(function, quality=tier_id).route
            available = route.available
            for rung in route.rungs:
                if rung.on_cpu or (rung.tier.id, function, rung.config) in seen:
                    continue
                seen.add((rung.tier.id, function, rung.config))
                model = models.models[rung.config.model]
                family = models.families[model.family]
                effects = Effects.of(rung.config.options, models.options)
                p = rung.prediction
                margin = p.peak / max(b for _, b in p.phases)
                phases = dict(p.phases)
                parts = dict(p.parts)
                steps = rung.config.steps or model.default_steps
                pass_bytes, decode_bytes = int(phases["denoise"] * margin), int(phases["decode"] * margin)
                base = RungCheck(tier=rung.tier.id, function=function, model=model.id, options=rung.config.options,
                                 phase="denoise", router_fits=pass_bytes <= available, predicted_bytes=pass_bytes,
                                 modelled_bytes=phases["denoise"],
                                 predicted_seconds=parts["denoise"] / steps / family.guidance_passes, status="planned")
                checks += [base, replace(base, phase="decode", router_fits=decode_bytes <= available,
                                         predicted_bytes=decode_bytes, modelled_bytes=phases["decode"],
                                         predicted_seconds=parts["decode"])]
                why = _cannot_run(model, effects, card, ram, max(phases.values())) or (
                    None if card else _too_slow(qm, model, family, rung, effects))
                if why:
                    checks[-2:] = [replace(c, status="skipped", why=why) for c in checks[-2:]]
                    continue
                job_list += _jobs(model, family, rung, effects, len(checks) - 2)
    for i, job in enumerate(job_list):
        job["id"] = i
    return job_list, checks, available


def _cannot_run(model: Any, effects: Effects, card: bool, ram: int, need: float) -> str | None:
    den = next(c for c in model.components.values() if c.role == "denoiser")
    if den.precision not in ("bf16", "fp16", *EIGHT_BIT):
        return "four_bit"
    if not card and effects.offload in ("partial", "sequential"):
        return "needs_card"
    if not card and need > 0.8 * ram:
        return "too_large"
    return None


def _too_slow(qm: Any, model: Any, family: Any, rung: Any, effects: Effects) -> str | None:
    """On the processor: "too_slow" when a pass or the decode is predicted to take over PROCESSOR_CAP_S there."""
    steps = rung.config.steps or model.default_steps
    p = predict(model, family, rung.config.resolution, steps, rung.config.frames, effects, qm.router.speed(None),
                on_gpu=False)
    parts = dict(p.parts)
    slowest = max(parts["denoise"] / steps / family.guidance_passes, parts["decode"])
    return "too_slow" if slowest > PROCESSOR_CAP_S else None


def _jobs(model: Any, family: Any, rung: Any, effects: Effects, index: int) -> list[dict[str, Any]]:
    comps = list(model.components.values())
    weights = {c.name: c.weights[c.precision] for c in comps}
    den = next(c for c in comps if c.role == "denoiser")
    vae = next(c for c in comps if c.role == "vae")
    g = geometry(model, family, rung.config.resolution, rung.config.frames)
    options, decode_options = workload_options(effects, eight_bit=den.precision in EIGHT_BIT)
    resident = effects.offload == "none"
    # One timed run and one measured (a full-size pass of the largest video can take minutes).
    common = {"family": model.family, "fit": False, "tier": rung.tier.id, "function": None, "repeats": 1,
              "warmup": 0}
    step = {**full_size(model, g), **common, "check": index, "options": options,
            "stand_in_bytes": int(sum(weights.values()) - weights[den.name]) if resident else 0}
    decode = {**common, "kind": "decode", "check": index + 1, "side": max(g.width, g.height), "width": g.width,
              "height": g.height, "frames": g.frames, "options": decode_options,
              "tile": family.decode_tile, "dtype": DTYPES.get(vae.precision, "bfloat16"),
              "stand_in_bytes": int(sum(weights.values()) - weights[vae.name]) if resident else 0}
    return [step, decode]


def judge(checks: list[RungCheck], job_list: list[dict[str, Any]], results: list[dict[str, Any]], limit: int,
          card: bool) -> list[RungCheck]:
    """The checks with what each job measured; a job that did not run (interrupted) stays "planned"."""
    out = list(checks)
    by_id = {j["id"]: j for j in job_list}
    for r in results:
        job = by_id[r["id"]]
        c = out[job["check"]]
        if r["status"] == "ok":
            peak = r.get("peak_bytes")
            fits = True if card else (peak is not None and peak <= limit)
            out[job["check"]] = replace(c, status="ok", measured_bytes=peak, measured_seconds=r["seconds"],
                                        fits=fits)
        else:
            out[job["check"]] = replace(c, status=r["status"], why=r.get("message"),
                                        fits=False if r["status"] == "oom" else None)
    return out


def verdicts(checks: list[RungCheck]) -> dict[str, int]:
    """Per rung (both phases measured): agreed with the router, ran out where it said it fits ("unsafe"), or
    fitted where it said it would not ("cautious"). The router's verdict here is on the phases measured (the
    text-encoding phase is not run)."""
    rungs: dict[tuple[str, str, str, tuple[str, ...]], list[RungCheck]] = {}
    for c in checks:
        rungs.setdefault((c.tier, c.function, c.model, c.options), []).append(c)
    out = {"agree": 0, "unsafe": 0, "cautious": 0, "unmeasured": 0}
    for phases in rungs.values():
        if any(c.fits is None for c in phases):
            out["unmeasured"] += 1
            continue
        truth = all(c.fits for c in phases)
        said = all(c.router_fits for c in phases)
        out["agree" if truth == said else "unsafe" if said else "cautious"] += 1
    return out


def margin_needed(checks: list[RungCheck], limit: int) -> float | None:
    """The memory margin that would have covered every phase measured: measured / modelled peak, and for a
    phase that ran out of memory where qms said it fits, the limit / modelled peak (it needed more); widened by
    5%. None when nothing was measured."""
    ratios = [c.measured_bytes / c.modelled_bytes for c in checks
              if c.status == "ok" and c.measured_bytes and c.modelled_bytes]
    ratios += [limit / c.modelled_bytes for c in checks if c.status == "oom" and c.router_fits and c.modelled_bytes]
    return math.ceil(round(max(ratios) * 1.05 * 100, 6)) / 100 if ratios else None


@dataclass(frozen=True, eq=False, repr=False)
class RungsOutcome(Value):
    """`qms bench --rungs`: each rung's phases, predicted against measured."""

    checks: tuple[RungCheck, ...]
    verdicts: dict[str, int]
    limit: int
    device: str
    interrupted: bool
    measured: int
    margin: float | None  # margin_needed


def rung_truth(qm: Any, tier_ids: list[str], functions: list[str], *, threads: int, device: str, dtype: str,
               progress: Progress, isolate: bool) -> RungsOutcome:
    """Run every rung the router tries, at full size, and set what it measured against the prediction."""
    require_torch()
    card = device.startswith("cuda")
    job_list, checks, limit = plan_jobs(qm, tier_ids, functions, card, qm.resources.system.ram_available)
    config = {"threads": threads, "device": device, "dtype": dtype, "cap_s": 1.0, "vram_limit": limit}
    results, hello, interrupted = run_jobs(job_list, config, progress, isolate)
    judged = judge(checks, job_list, results, limit, card)
    return RungsOutcome(checks=tuple(judged), verdicts=verdicts(judged), limit=limit,
                        device=hello.get("device", device), interrupted=interrupted, measured=len(results),
                        margin=margin_needed(judged, limit))
