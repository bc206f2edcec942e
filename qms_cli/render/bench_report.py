"""`qms bench --report DIR`: a self-contained HTML page (no scripts) of what the run measured.

It says what the terminal says, from the same functions (render/bench.py `result_lines`, `result_table`), and
charts every measurement: the sizes the estimates were fitted to as well as the held-out ones, full-size rungs,
or an external runner's tasks. A section with nothing in it is left out.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from qms_cli.bench.rungs import RungsOutcome
from qms_cli.estimate.calibration import Calibration
from qms_cli.render import messages as m
from qms_cli.render.bench import RunnerOutcome, fitted_points, result_lines, result_table
from qms_cli.render.svg import paired_bars
from qms_cli.render.table import Table

Row = tuple[str, "float | None", float]  # label, predicted, measured


def write_report(folder: Path, outcome: Any, cal: Calibration | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    times, memory = measured_rows(outcome, cal)
    sections = [f"<p>{html.escape(line)}</p>" for line in result_lines(outcome, cal)]
    kinds = {name.rsplit(" · ", 1)[-1] for name, _, _ in times + memory}
    if {m.FITTED_MARK, m.HELD_OUT_MARK} <= kinds:
        sections.append(f"<p>{html.escape(m.REPORT_FITTED_NOTE)}</p>")
    key = (f'<p class="key"><span style="background:{LIGHT}"></span>{html.escape(m.REPORT_KEY[0])}'
           f'<span style="background:{DARK}"></span>{html.escape(m.REPORT_KEY[1])}</p>')
    if times:
        sections.append(f"<h2>{html.escape(m.REPORT_TIME)}</h2>{key}{bars(times, 's')}")
    if memory:
        sections.append(f"<h2>{html.escape(m.REPORT_MEMORY)}</h2>{key}"
                        f"{bars([(n, None if p is None else p / 2**20, x / 2**20) for n, p, x in memory], 'MB')}")
    table = result_table(outcome)
    if table is not None and table.rows:
        sections.append(f"<h2>{html.escape(m.REPORT_FIGURES)}</h2>{html_table(table)}")
    title = html.escape(m.BENCH_REPORT_TITLE)
    heading = f"<p>{html.escape(cal.device)} · {html.escape(cal.date)}</p>" if cal is not None else ""
    page = PAGE.format(title=title, heading=heading, body="\n".join(sections))
    path = folder / "bench.html"
    path.write_text(page, encoding="utf-8")
    return path


def measured_rows(outcome: Any, cal: Calibration | None) -> tuple[list[Row], list[Row]]:
    """(time in seconds, peak memory in bytes): every measurement of the run, predicted beside measured."""
    times: list[Row] = []
    memory: list[Row] = []
    if isinstance(outcome, RungsOutcome):
        for c in outcome.checks:
            if c.measured_bytes is None:
                continue
            name = " · ".join((c.tier, c.function, m.bench_settings(c.options), m.bench_phase(c.phase)))
            if c.measured_seconds is not None:
                times.append((name, c.predicted_seconds, c.measured_seconds))
            memory.append((name, float(c.predicted_bytes), float(c.measured_bytes)))
        return times, memory
    if isinstance(outcome, RunnerOutcome):
        for r in outcome.results:
            name = f"{r.tier} · {r.function}"
            times.append((name, r.predicted_seconds, r.seconds))
            if r.peak_bytes:
                memory.append((name, None, float(r.peak_bytes)))
        return times, memory
    for e in outcome.evaluations:
        name = " · ".join((m.bench_option(e.option) if e.option else e.tier or m.bench_family(e.family),
                           e.function or m.bench_phase(e.kind),
                           e.size, m.HELD_OUT_MARK))
        times.append((name, e.predicted, e.measured))
        if e.measured_bytes is not None:
            memory.append((name, e.predicted_bytes, e.measured_bytes))
    fitted_times, fitted_memory = fitted_points(cal)
    return times + fitted_times, memory + fitted_memory


LIGHT, DARK = "#9ecae1", "#3182bd"


def bars(rows: list[Row], unit: str) -> str:
    """Horizontal bars, predicted (light) and measured (dark), as inline SVG; each bar says its figure."""
    return paired_bars(rows, unit, (LIGHT, DARK), (m.REPORT_KEY[0], m.REPORT_KEY[1]))


def html_table(table: Table) -> str:
    """The terminal's table, cell for cell."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:64em}} table{{border-collapse:collapse}}
td,th{{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}}
.key span{{display:inline-block;width:1em;height:.8em;margin:0 .3em 0 1em}}</style>
</head><body>
<h1>{title}</h1>{heading}
{body}
</body></html>
"""
