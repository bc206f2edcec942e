"""The tier table for people; --technical adds each function's model configuration."""

from __future__ import annotations

from qms_cli.catalog.tiers import Configuration, Tier, TierSet
from qms_cli.plan.listing import Here, TierListing
from qms_cli.render import messages as m
from qms_cli.render.table import Table
from qms_cli.units import format_size


def status_cell(h: Here, tiers: TierSet) -> str:
    """How one tier's function fares on this machine, in words."""
    if h.status == "cannot_run":
        return m.here_cannot_run(format_size(h.needs_ram or 0))
    return m.here(h.status, tiers.get(h.runs_as).label, format_size(h.needs_card or 0))


def tier_table(listing: TierListing, technical: bool) -> Table:
    """A row per tier and function: this machine's predicted time (as `qms plan` gives it) beside the time the
    tier is designed for, and how it runs here. Without a machine, a row per tier."""
    tiers = listing.catalog.tiers
    functions = tiers.functions
    here = listing.here
    columns = list(m.TIER_COLUMNS_HERE if here is not None else m.TIER_COLUMNS)
    if technical:
        columns += m.TIER_COLUMNS_TECHNICAL if here is not None else [m.TIER_CARD_COLUMN, *functions]
    table = Table(columns)
    for tier in listing.tiers:
        current = listing.current is not None and tier.id == listing.current.id
        label = f"{m.CURRENT_MARK} {tier.label}" if current else tier.label
        card = format_size(tier.target_vram)
        if here is None:
            cells = [label, tier.description, tier.time_label]
            if technical:
                cells += [card, *(configuration(tier.mappings[f]) for f in functions)]
            table.add(*cells, highlight=current, end_section=True)
            continue
        for i, fn in enumerate(functions):
            h = here[tier.id][fn]
            first = i == 0
            quality = label if first else tier.description if i == 1 else ""
            time = m.NOT_APPLICABLE if h.status == "cannot_run" else m.duration_range(h.low, h.high)
            cells = [quality, fn, time, tier.time_label if first else "",
                     status_cell(h, tiers)]
            if technical:
                cells += [card if first else "", configuration(tier.mappings[fn])]
            table.add(*cells, highlight=current, end_section=i == len(functions) - 1)
        if len(functions) == 1:  # the description still gets its line
            table.add(tier.description, *[""] * (len(columns) - 1), highlight=current, end_section=True)
    table.caption = " ".join(([m.TIERS_CAPTION_TIME] if here is not None else [])
                             + ([m.TIERS_CAPTION_CURRENT] if listing.current is not None else [])) or None
    return table


def configuration(c: Configuration) -> str:
    """`flux-dev-fp8 1024px 20 steps --medvram` (technical view only)."""
    parts = [c.model, f"{c.resolution}px"]
    if c.frames is not None:
        parts.append(f"{c.frames} frames")
    if c.steps is not None:
        parts.append(f"{c.steps} steps")
    return " ".join(parts + list(c.options))


def times_line(listing_here: dict[str, dict[str, Here]], tiers: TierSet, tier: Tier) -> str:
    """`qms show` and `set-quality`: this machine's predicted time for each function of `tier`, as plan gives
    it (and the quality that actually runs, when a lower one does)."""
    parts = []
    for fn, h in listing_here[tier.id].items():
        if h.status == "cannot_run":
            parts.append(m.time_here_cannot_run(fn))
            continue
        runs_as = tiers.get(h.runs_as).label if h.runs_as != tier.id else None
        parts.append(m.time_here(fn, m.duration_range(h.low, h.high), runs_as))
    return m.times_here(parts)
