"""The fallback ladder's rungs (DESIGN.md): the requested tier as mapped, then the same output with stronger
memory options, then each lower tier likewise, and last the lowest tier on the processor, which always runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qms_cli.models import ModelSet
from qms_cli.predict import Effects
from qms_cli.tiers import Configuration, Tier, TierSet
from qms_cli.values import Value


@dataclass(frozen=True, eq=False, repr=False)
class Candidate(Value):
    """One configuration to try, on a card (`cpu` False) or on the processor."""

    tier: Tier
    function: str
    config: Configuration
    cpu: bool = False


def option_sets(mapped: tuple[str, ...], supported: tuple[str, ...], models: ModelSet) -> list[tuple[str, ...]]:
    """`mapped` first, then stronger sets that keep the output: tiled decoding, then each stronger offload mode
    the model supports (whole components, part of the denoiser, layer by layer), in that order."""
    defs = models.options
    base = Effects.of(mapped, defs)
    tiled = next((o for o in supported if defs[o].decode == "tiled" and defs[o].offload == "none"), None)
    extra = (tiled,) if tiled and tiled not in mapped else ()
    keep = tuple(o for o in mapped if defs[o].offload == "none") + extra  # e.g. tiled, fp8-storage
    out = [mapped, mapped + extra]
    offloaders = sorted((o for o in supported if defs[o].offload != "none"),
                        key=lambda o: Effects.of((o,), defs).offload_rank)
    for o in offloaders:
        if Effects.of((o,), defs).offload_rank > base.offload_rank:
            out.append((*keep, o))
    unique: dict[Effects, tuple[str, ...]] = {}
    for opts in out:
        unique.setdefault(Effects.of(opts, defs), opts)  # options that change nothing more are not a new rung
    return list(unique.values())


def candidates(tiers: TierSet, models: ModelSet, function: str, requested: Tier,
               frames: int | None) -> list[Candidate]:
    """Every rung for `function` from `requested` down, ending with the processor rung."""
    out: list[Candidate] = []
    for tier in reversed(tiers.tiers[: requested.rank + 1]):
        config = _sized(tier.mappings[function], frames, models)
        model = models.models[config.model]
        for opts in option_sets(config.options, model.memory_options, models):
            out.append(Candidate(tier, function, replace(config, options=opts)))
    lowest = tiers.tiers[0]
    out.append(Candidate(lowest, function, _sized(lowest.mappings[function], frames, models), cpu=True))
    return out


def as_mapped(tier: Tier, function: str, models: ModelSet) -> Configuration:
    """The configuration a tier maps a function to, with the model's default steps filled in."""
    return _sized(tier.mappings[function], None, models)


def _sized(config: Configuration, frames: int | None, models: ModelSet) -> Configuration:
    """The configuration with the task's length and the model's default steps filled in."""
    steps = config.steps or models.models[config.model].default_steps
    return replace(config, steps=steps, frames=frames if frames is not None and config.frames is not None
                   else config.frames)
