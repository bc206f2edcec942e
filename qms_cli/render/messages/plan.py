"""A plan's facts in words: each notice (why a task stepped down, and what would help) and the hint for the tier
above, from the kinds and figures of plan/notices.py. Not star-exported by the catalogue (its functions take
facts, not words); tests/test_messages_plan.py renders every kind."""

from __future__ import annotations

from qms_cli.plan.notices import Notice, NoticeText, Remedy, Shortfall, Status, Upgrade, Wording
from qms_cli.render import messages as m
from qms_cli.units import format_size


def shortfall(s: Shortfall, tier: str, function: str) -> str:
    """Why the tier asked for (`tier`, its name) does not run as designed."""
    if s.kind == "graphics_memory":
        return m.reason_memory(tier, format_size(s.need), format_size(s.available))
    if s.kind == "main_memory":
        return m.reason_main_memory(tier, format_size(s.need), format_size(s.available))
    if s.kind == "no_card":
        return m.reason_no_card(tier, format_size(s.need))
    if s.kind == "too_slow":
        return m.reason_too_slow(tier, m.duration(s.seconds), m.duration(s.limit))
    if s.kind == "nothing_fits":
        return m.cannot_run(function, format_size(s.need), format_size(s.available))
    if s.kind == "time_limit":
        return m.over_time_limit(m.duration(s.seconds), m.duration(s.limit))
    raise ValueError(f"no words for a shortfall of kind {s.kind!r}")


def remedy(r: Remedy | None, tier: str) -> str:
    """What would enable the tier asked for; empty when nothing would."""
    if r is None:
        return ""
    if r.kind == "card":
        return m.suggest_card(tier, format_size(r.card))
    if r.kind == "close_programs":
        return m.suggest_close_or_card(tier, format_size(r.held), format_size(r.card))
    if r.kind == "main_memory":
        return m.suggest_main_memory(tier, format_size(r.need))
    if r.kind == "more_time":
        return m.suggest_more_time(tier)
    if r.kind == "full_speed":
        return m.suggest_full_speed(format_size(r.card))
    if r.kind == "free_main_memory":
        return m.SUGGEST_CANNOT_RUN
    raise ValueError(f"no words for a remedy of kind {r.kind!r}")


def notice(n: Notice) -> NoticeText:
    """The notice's reason, suggestion and the whole message people read."""
    reason = shortfall(n.shortfall, n.requested.name, n.function)
    suggestion = remedy(n.remedy, n.requested.name)
    if n.kind in ("quality_fallback", "processor"):
        message = f"{reason} {m.using(n.actual.name, n.on_cpu)} {suggestion}".strip()
    elif n.kind == "slower_settings":
        message = f"{reason} {m.slower_settings(n.requested.name)} {suggestion}".strip()
    else:  # not_runnable, time_limit
        message = f"{reason} {suggestion}".strip()
    return NoticeText(message, reason, suggestion)


def upgrade(u: Upgrade) -> str:
    """What this machine offers, or would need, for the tier of the hint."""
    if u.kind == "runs":
        return m.tier_runs_here(u.tier.label, m.duration(u.seconds))
    if u.kind == "runs_slower":
        return m.tier_runs_slower_here(u.tier.label, m.duration(u.seconds), format_size(u.need))
    if u.kind == "main_memory":
        return m.upgrade_hint_main_memory(u.tier.label, format_size(u.need))
    if u.kind == "card":
        return m.upgrade_hint(u.tier.label, format_size(u.need))
    raise ValueError(f"no words for a hint of kind {u.kind!r}")


def status(s: Status, requested_label: str) -> str:
    """A task's Status cell in `qms plan`."""
    return {"cannot_run": m.STATUS_CANNOT_RUN, "falls_back": m.status_fallback(requested_label),
            "processor": m.STATUS_PROCESSOR, "slower": m.STATUS_SLOWER, "runs": m.STATUS_RUNS}[s.kind]


WORDING = Wording(notice, upgrade)  # for what writes plan JSON (plan/plan_json.py PlanEncoder)
