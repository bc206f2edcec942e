"""Why a route steps down, and what would avoid it: notices in plain words (render/messages words them).

The card sizes people are told follow one rule (issue 13, "Figures that agree"): to run a tier *as designed*, the
smallest card on which its mapped memory options fit (weaker ones run there too, faster); to run it *at all*,
the smallest card on which its lightest rung fits. Notices, upgrade hints and `qms tiers` all use these two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from qms_cli.hardware import Resources
from qms_cli.units import GIB, format_size

if TYPE_CHECKING:
    from qms_cli.plan.routing import Notice, Route, Rung

CARD_SIZES_GB = (8, 12, 16, 20, 24, 32, 40, 48, 80, 96, 141, 192)  # cards as sold


def card_for(need: int, reserve: int, at_least: int = 0) -> int:
    """The smallest card size (bytes) with `need` available after the reserve."""
    wanted = max(need + reserve, at_least)
    return next((gb * GIB for gb in CARD_SIZES_GB if gb * GIB >= wanted), wanted)


def mapped_rung(rungs: Iterable[Rung], tier_id: str, mapped_options: tuple[str, ...]) -> Rung | None:
    """The card rung of a tier with exactly its mapped memory options."""
    return next((r for r in rungs if r.tier.id == tier_id and not r.on_cpu and r.config.options == mapped_options),
                None)


def card_as_designed(rungs: Iterable[Rung], tier_id: str, mapped_options: tuple[str, ...], reserve: int) -> int:
    """The smallest card that runs a tier as designed: its mapped options (or weaker) fit."""
    rungs = list(rungs)
    mapped = mapped_rung(rungs, tier_id, mapped_options)
    return card_for(mapped.prediction.peak if mapped else tier_need(rungs, tier_id), reserve)


def card_at_all(rungs: Iterable[Rung], tier_id: str, reserve: int) -> int:
    """The smallest card on which a tier runs at all: its lightest card rung fits."""
    return card_for(tier_need(rungs, tier_id), reserve)


def held_by_others(res: Resources) -> int:
    """Graphics memory other programs hold on the best card (their processes, else all memory in use)."""
    best = res.best_gpu
    if best is None:
        return 0
    known = [p.used_bytes for p in best.processes or () if p.used_bytes]
    return sum(known) if known else (best.used or 0)


def tier_need(rungs: Iterable[Rung], tier_id: str) -> int:
    """The least graphics memory any of a tier's card rungs needs."""
    peaks = [r.prediction.peak for r in rungs if r.tier.id == tier_id and not r.on_cpu]
    return min(peaks) if peaks else 0


def ram_need(rungs: Iterable[Rung], tier_id: str | None = None) -> int:
    """The least main memory a rung (of a tier, or any) whose graphics memory is there needs; 0 when none."""
    needs = [r.prediction.ram for r in rungs if r.card_fits and (tier_id is None or r.tier.id == tier_id)]
    return min(needs) if needs else 0


def notices(route: Route, res: Resources, too_slow: bool, max_time: float | None) -> list[Notice]:
    from qms_cli.plan.routing import Notice
    from qms_cli.render import messages as m

    req, chosen = route.requested, route.chosen
    if not route.runnable:
        text = m.cannot_run(route.function, format_size(ram_need(route.rungs)), format_size(route.available_ram))
        return [Notice("not_runnable", req.id, chosen.tier.id, f"{text} {m.SUGGEST_CANNOT_RUN}", text,
                       m.SUGGEST_CANNOT_RUN)]
    out: list[Notice] = []
    available = res.available_vram if res.best_gpu else 0
    mapped_options = req.mappings[route.function].options
    if route.fallback or chosen.on_cpu:
        requested_rungs = [r for r in route.rungs if r.tier.id == req.id]
        need = tier_need(route.rungs, req.id)
        ram_short = any(r.card_fits and not r.ram_fits for r in requested_rungs if not r.on_cpu)
        if res.best_gpu is None:
            reason = m.reason_no_card(req.name, format_size(need))
        elif any(r.fits and r.skipped for r in requested_rungs):
            fastest = min(r.prediction.seconds for r in requested_rungs if r.fits)
            reason = m.reason_too_slow(req.name, m.duration(fastest), m.duration(max_time or 0))
        elif ram_short:
            reason = m.reason_main_memory(req.name, format_size(ram_need(requested_rungs)),
                                          format_size(route.available_ram))
        else:
            reason = m.reason_memory(req.name, format_size(need), format_size(available))
        suggestion = _suggestion(route, res, ram_short)
        kind = "quality_fallback" if route.fallback else "processor"
        using = m.using(chosen.tier.name, chosen.on_cpu)
        out.append(Notice(kind, req.id, chosen.tier.id, f"{reason} {using} {suggestion}".strip(), reason,
                          suggestion))
    else:
        mapped = mapped_rung(route.rungs, req.id, mapped_options)
        if mapped is not None and not mapped.fits and chosen.prediction.seconds > mapped.prediction.seconds:
            if mapped.card_fits:  # graphics memory is there; main memory is not
                reason = m.reason_main_memory(req.name, format_size(mapped.prediction.ram),
                                              format_size(route.available_ram))
            else:
                reason = m.reason_memory(req.name, format_size(mapped.prediction.peak), format_size(available))
            card = format_size(card_as_designed(route.rungs, req.id, mapped_options, res.reserve))
            suggestion = m.suggest_full_speed(card)
            out.append(Notice("slower_settings", req.id, chosen.tier.id,
                              f"{reason} {m.slower_settings(req.name)} {suggestion}", reason, suggestion))
    if too_slow:
        took = m.duration(chosen.prediction.seconds)
        text = m.over_time_limit(took, m.duration(max_time or 0))
        out.append(Notice("time_limit", req.id, chosen.tier.id, text, text, ""))
    return out


def _suggestion(route: Route, res: Resources, ram_short: bool) -> str:
    from qms_cli.render import messages as m

    req = route.requested
    if res.best_gpu is not None and any(r.tier.id == req.id and r.fits and r.skipped for r in route.rungs):
        return m.suggest_more_time(req.name)
    if ram_short:
        return m.suggest_main_memory(req.name, format_size(ram_need(route.rungs, req.id)))
    need = tier_need(route.rungs, req.id)
    card = format_size(card_at_all(route.rungs, req.id, res.reserve))
    held = held_by_others(res)
    if res.best_gpu is not None and held and res.available_vram + held >= need:
        return m.suggest_close_or_card(req.name, format_size(held), card)
    return m.suggest_card(req.name, card)


def upgrade_hint(res: Resources, route: Route) -> str | None:
    """What this machine offers for `route`'s requested tier, or would need for it (same card rule as the
    notices)."""
    from qms_cli.render import messages as m

    tier = route.requested
    card_rungs = [r for r in route.rungs if r.tier.id == tier.id and not r.on_cpu]
    if not card_rungs:
        return None
    mapped_options = tier.mappings[route.function].options
    chosen = route.chosen
    if chosen.tier.id == tier.id and not chosen.on_cpu and route.runnable:
        mapped = mapped_rung(card_rungs, tier.id, mapped_options)
        if mapped is None or mapped.fits or chosen.prediction.seconds <= mapped.prediction.seconds:
            return m.tier_runs_here(tier.label, m.duration(chosen.prediction.seconds))
        full = format_size(card_as_designed(card_rungs, tier.id, mapped_options, res.reserve))
        return m.tier_runs_slower_here(tier.label, m.duration(chosen.prediction.seconds), full)
    if any(r.card_fits and not r.ram_fits for r in card_rungs):
        return m.upgrade_hint_main_memory(tier.label, format_size(ram_need(card_rungs)))
    return m.upgrade_hint(tier.label, format_size(card_at_all(card_rungs, tier.id, res.reserve)))
