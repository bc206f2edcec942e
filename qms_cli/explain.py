"""Why a route steps down, and what would avoid it: notices in plain words (render/messages.py words them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qms_cli.hardware import Resources
from qms_cli.units import GIB, format_size

if TYPE_CHECKING:
    from qms_cli.routing import Notice, Route, Rung

CARD_SIZES_GB = (8, 12, 16, 20, 24, 32, 40, 48, 80, 96, 141, 192)  # cards as sold


def card_for(need: int, reserve: int, at_least: int = 0) -> int:
    """The smallest card size (bytes) with `need` available after the reserve."""
    wanted = max(need + reserve, at_least)
    return next((gb * GIB for gb in CARD_SIZES_GB if gb * GIB >= wanted), wanted)


def held_by_others(res: Resources) -> int:
    """Graphics memory other programs hold on the best card (their processes, else all memory in use)."""
    best = res.best_gpu
    if best is None:
        return 0
    known = [p.used_bytes for p in best.processes or () if p.used_bytes]
    return sum(known) if known else (best.used or 0)


def tier_need(route: Route, tier_id: str) -> int:
    """The least graphics memory any of a tier's card rungs needs."""
    peaks = [r.prediction.peak for r in route.rungs if r.tier.id == tier_id and not r.on_cpu]
    return min(peaks) if peaks else 0


def notices(route: Route, res: Resources, too_slow: bool, max_time: float | None) -> list[Notice]:
    from qms_cli.render import messages as m
    from qms_cli.routing import Notice

    out: list[Notice] = []
    req, chosen = route.requested, route.chosen
    available = res.available_vram if res.best_gpu else 0
    need = tier_need(route, req.id)
    if route.fallback or chosen.on_cpu:
        requested_rungs = [r for r in route.rungs if r.tier.id == req.id]
        if res.best_gpu is None:
            reason = m.reason_no_card(req.name, format_size(need))
        elif any(r.fits and r.skipped for r in requested_rungs):
            fastest = min(r.prediction.seconds for r in requested_rungs if r.fits)
            reason = m.reason_too_slow(req.name, m.duration(fastest), m.duration(max_time or 0))
        else:
            reason = m.reason_memory(req.name, format_size(need), format_size(available))
        suggestion = _suggestion(route, res, need)
        kind = "quality_fallback" if route.fallback else "processor"
        using = m.using(chosen.tier.name, chosen.on_cpu)
        out.append(Notice(kind, req.id, chosen.tier.id, f"{reason} {using} {suggestion}".strip(), reason,
                          suggestion))
    elif chosen.config.options != req.mappings[route.function].options:
        as_mapped = route.rungs[0]
        reason = m.reason_memory(req.name, format_size(as_mapped.prediction.peak), format_size(available))
        card = format_size(card_for(as_mapped.prediction.peak, res.reserve))
        suggestion = m.suggest_full_speed(card)
        out.append(Notice("slower_settings", req.id, chosen.tier.id,
                          f"{reason} {m.slower_settings(req.name)} {suggestion}", reason, suggestion))
    if too_slow:
        took = m.duration(chosen.prediction.seconds)
        text = m.over_time_limit(took, m.duration(max_time or 0))
        out.append(Notice("time_limit", req.id, chosen.tier.id, text, text, ""))
    return out


def _suggestion(route: Route, res: Resources, need: int) -> str:
    from qms_cli.render import messages as m

    req = route.requested
    if res.best_gpu is not None and any(r.tier.id == req.id and r.fits and r.skipped for r in route.rungs):
        return m.suggest_more_time(req.name)
    card = format_size(card_for(need, res.reserve, req.target_vram))
    held = held_by_others(res)
    if res.best_gpu is not None and held and res.available_vram + held >= need:
        return m.suggest_close_or_card(req.name, format_size(held), card)
    return m.suggest_card(req.name, card)


def upgrade_hint(res: Resources, rungs: list[Rung]) -> str | None:
    """What this machine offers for a tier (the one above the chosen one), or would need for it."""
    from qms_cli.render import messages as m

    card_rungs = [r for r in rungs if not r.on_cpu]
    if not card_rungs:
        return None
    tier = card_rungs[0].tier
    fitting = [r for r in card_rungs if r.fits]
    if fitting and fitting[0] is card_rungs[0]:
        return m.tier_runs_here(tier.label, m.duration(fitting[0].prediction.seconds))
    full = format_size(card_for(card_rungs[0].prediction.peak, res.reserve, tier.target_vram))
    if fitting:
        return m.tier_runs_slower_here(tier.label, m.duration(fitting[0].prediction.seconds), full)
    need = min(r.prediction.peak for r in card_rungs)
    return m.upgrade_hint(tier.label, format_size(card_for(need, res.reserve, tier.target_vram)))
