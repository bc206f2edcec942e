"""`qms plan` for people: a row per task, the reasons for any step down, and what the next tier would need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qms_cli.plan.manager import Plan
from qms_cli.render import messages as m
from qms_cli.render.messages import plan as words
from qms_cli.render.probe import bar
from qms_cli.render.table import Table
from qms_cli.units import format_size

if TYPE_CHECKING:
    from qms_cli.estimate.calibration import Calibration
    from qms_cli.plan.routing import Rung


def memory_cell(plan: Plan) -> str:
    r = plan.route.chosen
    if r.on_cpu:
        return m.ON_PROCESSOR
    total = r.device.total if r.device else None
    return f"{format_size(r.prediction.peak)} of {format_size(plan.route.available)} {bar(r.prediction.peak, total)}"


def status(plan: Plan) -> str:
    return words.status(plan.route.status, plan.route.requested.label)


def task_table(plans: list[Plan]) -> Table:
    fleet = any(p.host for p in plans)
    table = Table(list(m.PLAN_COLUMNS) + ([m.FLEET_COLUMN] if fleet else []))
    for p in plans:
        r = p.route.chosen
        name = p.route.function + (f" ×{p.task.count}" if p.task.count > 1 else "")
        if p.route.runnable:
            cells = [name, r.tier.label, m.duration_range(r.prediction.low, r.prediction.high), memory_cell(p),
                     status(p)]
        else:  # nothing is shown as if it would run: no time, no memory bar
            cells = [name, p.route.requested.label, m.NOT_APPLICABLE, m.NOT_APPLICABLE, status(p)]
        if fleet:
            cells.append(f"{p.host} #{r.device.index}" if p.host and r.device else p.host or "")
        table.add(*cells, highlight=p.fallback)
    return table


def explanations(plans: list[Plan]) -> list[str]:
    lines: list[str] = []
    for p in plans:
        for n in p.route.notices:
            lines.append(f"{m.NOTICE_MARK} {p.route.function}: {words.notice(n).message}")
    hints = dict.fromkeys(words.upgrade(p.upgrade) for p in plans if p.upgrade)
    return lines + [f"{m.HINT_MARK} {h}" for h in hints]


def rungs_table(plan: Plan) -> Table:
    """--technical: every rung tried, with its prediction."""
    table = Table(list(m.RUNG_COLUMNS), title=f"{plan.route.function}: rungs tried")
    for r in plan.route.rungs:
        c, p = r.config, r.prediction
        size = f"{p.width}x{p.height}" + (f", {c.frames} frames" if c.frames else "")
        state = "chosen" if r is plan.route.chosen and r.fits else (r.skipped or _fit_word(r))
        table.add(r.tier.id, c.model, size, str(c.steps or ""), " ".join(c.options) or "-",
                  "processor" if r.on_cpu else f"gpu {r.device.index}" if r.device else "gpu (none)",
                  format_size(p.ram if r.on_cpu else p.peak), f"{p.seconds:.0f} s", state,
                  highlight=r is plan.route.chosen)
    return table


def _fit_word(r: Rung) -> str:
    if r.fits:
        return "fits"
    return ("does not fit" if not r.card_fits else "") + (" + " if not r.card_fits and not r.ram_fits else "") + (
        f"main memory {format_size(r.prediction.ram)}" if not r.ram_fits else "")


def technical_lines(plan: Plan) -> list[str]:
    from qms_cli.plan.ladder import relaxed

    r = plan.route.chosen
    left_out, added = relaxed(r.config, r.tier.mappings[plan.route.function])
    return [f"{plan.route.function}: {r.config.model} {r.prediction.width}x{r.prediction.height} "
            f"{r.config.steps or ''} steps {' '.join(r.config.options)} · {r.prediction.basis}",
            f"{plan.route.function}: memory options {m.options_relaxed(' '.join(left_out), ' '.join(added))}; "
            f"main memory {format_size(r.prediction.ram)} of {format_size(plan.route.available_ram)}"]


def summary_lines(plans: list[Plan], errors: int) -> list[str]:
    from qms_cli.plan.plan_json import summary

    s = summary(plans)
    labels = {p.route.chosen.tier.id: p.route.chosen.tier.label for p in plans}
    counts = ", ".join(f"{n} {labels[tier]}" for tier, n in s["by_tier"].items())
    return [m.batch_summary(s["tasks"], counts, s["fallbacks"],
                            m.duration_range(s["seconds"]["low"], s["seconds"]["high"]), errors)]


def calibration_line(cal: Calibration | None) -> str:
    """Whether the estimates were measured on this machine, and when."""
    if cal is None or not cal.fit:
        return m.ESTIMATES_UNCALIBRATED
    return m.estimates_calibrated(cal.date[:10], cal.p90_error, cal.partial)
