"""Accuracy, statistics and the run list, for people."""

from __future__ import annotations

from typing import Any

from qms_cli.render import messages as m
from qms_cli.render.output import emit_lines
from qms_cli.render.table import Table, emit_table
from qms_cli.runs.analytics import sparkline


def accuracy_view(groups: list[dict[str, Any]]) -> None:
    if not groups:
        emit_lines(m.NO_RUNS)
        return
    table = Table(list(m.ACCURACY_COLUMNS))
    for g in groups:
        table.add(g["tier"], g["function"], str(g["runs"]), f"{g['median_ape']:.0%}", f"{g['p90_ape']:.0%}",
                  f"{g['within_20']:.0%}", m.bias_words(g["bias"]), sparkline([w["median_ape"] for w in g["trend"]]))
    emit_table(table)


def stats_view(s: dict[str, Any]) -> None:
    if not s["runs"]:
        emit_lines(m.NO_RUNS)
        return
    table = Table(list(m.STATS_COLUMNS))
    for tier, t in s["tiers"].items():
        table.add(tier, str(t["runs"]), f"{t['share']:.0%}", str(t["failed"]), str(t["out_of_memory"]),
                  m.duration(t["seconds"]))
    emit_table(table)
    emit_lines(m.fallbacks_line(s["runs"], s["fallbacks"], s["fallbacks_asked"], s["fallbacks_accepted"]))


def history_view(runs: list[dict[str, Any]]) -> None:
    if not runs:
        emit_lines(m.NO_RUNS)
        return
    table = Table(list(m.HISTORY_COLUMNS))
    for r in runs:
        tier = r["chosen"] if r["chosen"] == r["requested"] else f"{r['chosen']} (asked {r['requested']})"
        took = m.duration(r["actual_seconds"]) if r["actual_seconds"] else "-"
        estimate = m.duration_range(r["predicted_low"], r["predicted_high"]) if r["predicted_low"] else "-"
        table.add(r["started_at"][:19].replace("T", " "), r["function"], tier, took, estimate, r["outcome"])
    emit_table(table)
