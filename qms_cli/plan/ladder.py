"""The fallback ladder's rungs (DESIGN.md): the requested tier with every set of memory options that keeps its
output (weaker than mapped, as mapped, stronger), then each lower tier likewise, and last the lowest tier on the
processor. The router picks the fastest that fits at the highest tier that fits."""

from __future__ import annotations

from dataclasses import replace

from qms_cli.catalog.models import ModelSet
from qms_cli.catalog.tiers import Configuration, Tier, TierSet
from qms_cli.estimate.candidate import Candidate
from qms_cli.estimate.predict import Effects


def option_sets(mapped: tuple[str, ...], supported: tuple[str, ...], models: ModelSet) -> list[tuple[str, ...]]:
    """Every set of memory options that keeps the tier's output, weakest first: the options that are not about
    memory placement (e.g. 8-bit storage) kept, with or without tiled decoding, with no offloading or each
    offload mode the model supports (whole components, part of the denoiser, layer by layer). `mapped` is what
    the tier needs on its target card; where a card has room the weaker sets run faster (issue 14, item 5)."""
    defs = models.options
    tiled = next((o for o in supported if defs[o].decode == "tiled" and defs[o].offload == "none"), None)
    keep = tuple(o for o in mapped if defs[o].offload == "none" and defs[o].decode != "tiled")  # e.g. fp8-storage
    offloaders = sorted((o for o in supported if defs[o].offload != "none"),
                        key=lambda o: Effects.of((o,), defs).offload_rank)
    unique: dict[Effects, tuple[str, ...]] = {Effects.of(mapped, defs): mapped}
    for off in (None, *offloaders):
        for tile in (False, True):
            opts = keep + ((tiled,) if tile and tiled else ()) + ((off,) if off else ())
            unique.setdefault(Effects.of(opts, defs), opts)  # options that change nothing more are not a new rung
    return sorted(unique.values(), key=lambda o: _strength(Effects.of(o, defs)))


def _strength(e: Effects) -> tuple[int, bool, float]:
    return e.offload_rank, e.tiled, -e.resident_fraction


def relaxed(config: Configuration, mapped: Configuration) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(options of the mapping left out, options added) in a rung's configuration: what --technical shows."""
    return (tuple(o for o in mapped.options if o not in config.options),
            tuple(o for o in config.options if o not in mapped.options))


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
