"""The tier table for people; --technical adds each function's model configuration."""

from __future__ import annotations

from qms_cli.listing import TierListing
from qms_cli.render import messages
from qms_cli.render.table import Table
from qms_cli.tiers import Configuration
from qms_cli.units import format_size


def here_cell(listing: TierListing, tier_id: str) -> str:
    """How a tier fares on this machine, per function when they differ."""
    assert listing.here is not None
    tiers = listing.catalog.tiers
    words = {fn: messages.here_cannot_run(format_size(h.needs_ram or 0)) if h.status == "cannot_run" else
             messages.here(h.status, tiers.get(h.runs_as).label, format_size(h.needs_card or 0))
             for fn, h in listing.here[tier_id].items()}
    if len(set(words.values())) == 1:
        return next(iter(words.values()))
    return " · ".join(f"{fn.split()[-1]}: {w}" for fn, w in words.items())


def tier_table(listing: TierListing, technical: bool) -> Table:
    columns = ["", "Quality", "Description", "Time"]
    functions = listing.catalog.tiers.functions
    if listing.here is not None:
        columns.append(messages.HERE_COLUMN)
    if technical:
        columns += ["Card", *functions]
    table = Table(columns)
    for tier in listing.tiers:
        current = listing.current is not None and tier.id == listing.current.id
        cells = ["▶" if current else "", tier.label, tier.description, tier.time_label]
        if listing.here is not None:
            cells.append(here_cell(listing, tier.id))
        if technical:
            cells += [format_size(tier.target_vram), *(configuration(tier.mappings[f]) for f in functions)]
        table.add(*cells, highlight=current)
    if listing.current is not None:
        table.caption = messages.TIERS_CAPTION_CURRENT
    return table


def configuration(c: Configuration) -> str:
    """`flux-dev-fp8 1024px 20 steps --medvram` (technical view only)."""
    parts = [c.model, f"{c.resolution}px"]
    if c.frames is not None:
        parts.append(f"{c.frames} frames")
    if c.steps is not None:
        parts.append(f"{c.steps} steps")
    return " ".join(parts + list(c.options))
