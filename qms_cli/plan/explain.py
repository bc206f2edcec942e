"""Why a route steps down, and what would avoid it: its status and notices, as facts (plan/notices.py);
render/messages/plan.py words them.

The card sizes people are told follow one rule (issue 13, "Figures that agree"): to run a tier *as designed*, the
smallest card on which its mapped memory options fit (weaker ones run there too, faster); to run it *at all*,
the smallest card on which its lightest rung fits. Notices, upgrade hints and `qms tiers` all use these two, over
the card sizes sold (profiles/cards.yaml `sizes_sold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from qms_cli.hardware import Resources
from qms_cli.plan.notices import Notice, Remedy, Shortfall, Status, Upgrade

if TYPE_CHECKING:
    from qms_cli.plan.routing import Route, Rung


def card_for(need: int, reserve: int, sizes: Sequence[int]) -> int:
    """The smallest card size (bytes) of `sizes` with `need` available after the reserve."""
    wanted = need + reserve
    return next((size for size in sizes if size >= wanted), wanted)


def mapped_rung(rungs: Iterable[Rung], tier_id: str, mapped_options: tuple[str, ...]) -> Rung | None:
    """The card rung of a tier with exactly its mapped memory options."""
    return next((r for r in rungs if r.tier.id == tier_id and not r.on_cpu and r.config.options == mapped_options),
                None)


def card_as_designed(rungs: Iterable[Rung], tier_id: str, mapped_options: tuple[str, ...], reserve: int,
                     sizes: Sequence[int]) -> int:
    """The smallest card that runs a tier as designed: its mapped options (or weaker) fit."""
    rungs = list(rungs)
    mapped = mapped_rung(rungs, tier_id, mapped_options)
    return card_for(mapped.prediction.peak if mapped else tier_need(rungs, tier_id), reserve, sizes)


def card_at_all(rungs: Iterable[Rung], tier_id: str, reserve: int, sizes: Sequence[int]) -> int:
    """The smallest card on which a tier runs at all: its lightest card rung fits."""
    return card_for(tier_need(rungs, tier_id), reserve, sizes)


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


def _slower(route: Route) -> Rung | None:
    """The mapped rung, when the tier asked for runs on the card but slower than as designed (it did not fit)."""
    chosen = route.chosen
    if route.fallback or chosen.on_cpu:
        return None
    mapped = mapped_rung(route.rungs, route.requested.id, route.requested.mappings[route.function].options)
    if mapped is not None and not mapped.fits and chosen.prediction.seconds > mapped.prediction.seconds:
        return mapped
    return None


def status(route: Route, reserve: int, sizes: Sequence[int]) -> Status:
    """How the route runs here: the one decision `plan`, `qms tiers` and the exporter read."""
    tier = route.requested
    if not route.runnable:
        return Status("cannot_run", None, ram_need(route.rungs))
    if route.fallback or route.chosen.on_cpu:
        kind = "falls_back" if route.fallback else "processor"
        return Status(kind, card_at_all(route.rungs, tier.id, reserve, sizes))
    if _slower(route) is not None:
        options = tier.mappings[route.function].options
        return Status("slower", card_as_designed(route.rungs, tier.id, options, reserve, sizes))
    return Status("runs")


def notices(route: Route, res: Resources, too_slow: bool, max_time: float | None,
            sizes: Sequence[int]) -> list[Notice]:
    """Each step down, slower way or missed limit of the route, with what the tier asked for needs and lacks."""
    req, chosen = route.requested, route.chosen

    def notice(kind: str, shortfall: Shortfall, remedy: Remedy | None) -> Notice:
        return Notice(kind, route.function, req, chosen.tier, chosen.on_cpu, shortfall, remedy)

    if not route.runnable:
        return [notice("not_runnable", Shortfall("nothing_fits", ram_need(route.rungs), route.available_ram),
                       Remedy("free_main_memory"))]
    out: list[Notice] = []
    if route.fallback or chosen.on_cpu:
        requested_rungs = [r for r in route.rungs if r.tier.id == req.id]
        ram_short = any(r.card_fits and not r.ram_fits for r in requested_rungs if not r.on_cpu)
        if res.best_gpu is None:
            why = Shortfall("no_card", tier_need(route.rungs, req.id))
        elif any(r.fits and r.skipped for r in requested_rungs):
            fastest = min(r.prediction.seconds for r in requested_rungs if r.fits)
            why = Shortfall("too_slow", seconds=fastest, limit=max_time or 0)
        elif ram_short:
            why = Shortfall("main_memory", ram_need(requested_rungs), route.available_ram)
        else:
            why = Shortfall("graphics_memory", tier_need(route.rungs, req.id), route.available)
        out.append(notice("quality_fallback" if route.fallback else "processor", why,
                          _remedy(route, res, ram_short, sizes)))
    else:
        mapped = _slower(route)
        if mapped is not None:
            if mapped.card_fits:  # graphics memory is there; main memory is not
                why = Shortfall("main_memory", mapped.prediction.ram, route.available_ram)
            else:
                why = Shortfall("graphics_memory", mapped.prediction.peak, route.available)
            card = card_as_designed(route.rungs, req.id, req.mappings[route.function].options, res.reserve, sizes)
            out.append(notice("slower_settings", why, Remedy("full_speed", card=card)))
    if too_slow:
        out.append(notice("time_limit", Shortfall("time_limit", seconds=chosen.prediction.seconds,
                                                  limit=max_time or 0), None))
    return out


def _remedy(route: Route, res: Resources, ram_short: bool, sizes: Sequence[int]) -> Remedy:
    req = route.requested
    if res.best_gpu is not None and any(r.tier.id == req.id and r.fits and r.skipped for r in route.rungs):
        return Remedy("more_time")
    if ram_short:
        return Remedy("main_memory", need=ram_need(route.rungs, req.id))
    card = card_at_all(route.rungs, req.id, res.reserve, sizes)
    held = held_by_others(res)
    if res.best_gpu is not None and held and route.available + held >= tier_need(route.rungs, req.id):
        return Remedy("close_programs", card=card, held=held)
    return Remedy("card", card=card)


def upgrade_hint(res: Resources, route: Route, sizes: Sequence[int]) -> Upgrade | None:
    """What this machine offers for `route`'s requested tier, or would need for it (same card rule as the
    notices)."""
    tier = route.requested
    card_rungs = [r for r in route.rungs if r.tier.id == tier.id and not r.on_cpu]
    if not card_rungs:
        return None
    mapped_options = tier.mappings[route.function].options
    chosen = route.chosen
    if chosen.tier.id == tier.id and not chosen.on_cpu and route.runnable:
        mapped = mapped_rung(card_rungs, tier.id, mapped_options)
        if mapped is None or mapped.fits or chosen.prediction.seconds <= mapped.prediction.seconds:
            return Upgrade("runs", tier, seconds=chosen.prediction.seconds)
        full = card_as_designed(card_rungs, tier.id, mapped_options, res.reserve, sizes)
        return Upgrade("runs_slower", tier, seconds=chosen.prediction.seconds, need=full)
    if any(r.card_fits and not r.ram_fits for r in card_rungs):
        return Upgrade("main_memory", tier, need=ram_need(card_rungs))
    return Upgrade("card", tier, need=card_at_all(card_rungs, tier.id, res.reserve, sizes))
