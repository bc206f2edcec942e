"""`qms probe` for people: each card's graphics memory with a bar, the best card, memory and processor."""

from __future__ import annotations

from typing import Any

from qms_cli.hardware import Gpu, Resources
from qms_cli.render import messages
from qms_cli.render.messages import machine
from qms_cli.render.table import Table
from qms_cli.units import format_size

NA = "N/A"
BAR = 16


def bar(part: int, whole: int | None) -> str:
    if not whole:
        return ""
    filled = round(BAR * min(max(part / whole, 0), 1))
    return "█" * filled + "░" * (BAR - filled)


def _size(n: int | None) -> str:
    return NA if n is None else format_size(n)


def card_table(res: Resources) -> Table:
    table = Table(list(messages.PROBE_COLUMNS), title=messages.PROBE_CARDS_HEADING)
    best = res.best_gpu
    for g in res.gpus:
        table.add(*card_row(g, res), highlight=best is not None and g.index == best.index)
    return table


def card_row(g: Gpu, res: Resources) -> list[str]:
    name = g.name + (messages.CARD_SLICE if g.mig_parent else "")
    if g.status == "unavailable":
        return [str(g.index), name, "", "", "", "", messages.card_unavailable(machine.faults(g.problems)), ""]
    available = res.available(g)
    note = messages.card_degraded(machine.faults(g.problems)) if g.status == "degraded" else ""
    busy = NA if g.utilization is None else f"{g.utilization}%"
    return [str(g.index), name, busy, _size(g.total), _size(g.used), _size(g.free),
            f"{format_size(available)} {bar(available, g.total)}", note]


def summary_lines(res: Resources) -> list[str]:
    lines = machine.notices(res.notices)
    if res.machine:
        lines.insert(0, messages.probe_simulated(res.machine))
    if res.vram_limit is not None and any(g.physical_total for g in res.gpus):
        lines.append(messages.probe_limit(format_size(res.vram_limit)))
    for g in res.gpus:
        held = [p for p in g.processes or () if p.used_bytes]
        if held:
            lines.append(messages.held_by_programs(g.index, ", ".join(
                f"{p.name or messages.UNKNOWN_PROGRAM} ({format_size(p.used_bytes or 0)})" for p in held)))
    best = res.best_gpu
    if best is not None:
        lines.append(messages.probe_best(best.index, format_size(res.available(best)), format_size(res.reserve)))
    elif res.gpus or res.source != "none":
        lines.append(messages.probe_no_card(res.vram_limit is not None))
    s = res.system
    lines.append(messages.probe_system(format_size(s.ram_total), format_size(s.ram_available), s.cpu_cores,
                                       s.cpu_model))
    return lines


def probe_json(res: Resources) -> dict[str, Any]:
    """`qms probe --json`: the snapshot's facts, with its notices and each card's problems in words."""
    out = res.as_json()
    out["notices"] = [machine.notice_json(n) for n in res.notices]
    for g, row in zip(res.gpus, out["gpus"], strict=True):
        row["problems"] = [machine.fault(f) for f in g.problems]
    return out
