"""`qms bench` for people: progress while measuring, then the errors per tier and function, and a report."""

from __future__ import annotations

import html
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

from qms_cli.bench.rungs import RungsOutcome
from qms_cli.calibration import GOAL_P90, Calibration, goal_met
from qms_cli.render import messages as m
from qms_cli.render.output import emit_json, emit_lines, use_rich
from qms_cli.render.table import Table, emit_table


class RunnerOutcome(NamedTuple):
    results: list[Any]
    interrupted: bool


class _Plain:
    """One line per measurement on stderr (or nothing, for --json)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.monotonic()

    def __enter__(self) -> _Plain:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, done: int, total: int, job: dict[str, Any], result: dict[str, Any] | None) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (total - done) if done else 0
        took = f"{result['seconds'] * 1000:.0f} ms" if result and result.get("status") == "ok" else \
            (result or {}).get("status", "")
        sys.stderr.write(f"[{done:>3}/{total}] {m.bench_job(job)}: {took} · {m.duration(eta)} left\n")


class _Rich:
    """A progress bar with the time left, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task(m.BENCH_MEASURING, total=None)

    def __enter__(self) -> _Rich:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def update(self, done: int, total: int, job: dict[str, Any], result: dict[str, Any] | None) -> None:
        self.bar.update(self.task, completed=done, total=total, description=m.bench_job(job))


def progress(quiet: bool) -> Any:
    return _Rich() if not quiet and use_rich() else _Plain(quiet)


def result_json(outcome: Any, cal: Calibration | None, saved: Path | None) -> dict[str, Any]:
    if isinstance(outcome, RungsOutcome):
        checks = [{**asdict(c), "options": list(c.options)} for c in outcome.checks]
        return {"kind": "rungs", "interrupted": outcome.interrupted, "saved": None, "runs": [], "evaluations": [],
                "memory": None, "failures": [], "calibration": None,
                "rungs": {"device": outcome.device, "limit_bytes": outcome.limit, "verdicts": outcome.verdicts,
                          "checks": checks}}
    if isinstance(outcome, RunnerOutcome):
        runs = [{"tier": r.tier, "function": r.function, "seconds": r.seconds, "peak_bytes": r.peak_bytes,
                 "exit_code": r.exit_code, "predicted_seconds": r.predicted_seconds, "argv": list(r.argv)}
                for r in outcome.results]
        return {"kind": "runner", "interrupted": outcome.interrupted, "saved": str(saved) if saved else None,
                "runs": runs, "evaluations": [], "failures": [],
                "calibration": cal.as_json() if cal else None}
    evaluations = [{"kind": e.kind, "family": e.family, "tier": e.tier, "function": e.function, "size": e.size,
                    "option": e.option, "predicted_seconds": e.predicted, "measured_seconds": e.measured,
                    "error": e.error, "predicted_peak_bytes": _whole(e.predicted_bytes),
                    "measured_peak_bytes": _whole(e.measured_bytes), "memory_error": e.memory_error}
                   for e in outcome.evaluations]
    return {"kind": "model-shaped", "interrupted": outcome.interrupted, "saved": str(saved) if saved else None,
            "runs": [], "evaluations": evaluations, "memory": memory_accuracy(outcome.evaluations),
            "failures": list(outcome.failures), "calibration": cal.as_json() if cal else None}


def memory_accuracy(evaluations: Any) -> dict[str, Any] | None:
    """Peak memory on the held-out sizes (memory options aside): how many were under-predicted, and by how much
    the rest were over (the goal: none under, none more than 20% over)."""
    errs = [e.memory_error for e in evaluations if e.option is None and e.memory_error is not None]
    if not errs:
        return None
    over = [x for x in errs if x >= 0]
    return {"measured": len(errs), "under_predicted": len(errs) - len(over), "worst_under": min(min(errs), 0.0),
            "median_over": sorted(over)[len(over) // 2] if over else 0.0, "max_over": max(over, default=0.0)}


def _whole(x: float | None) -> int | None:
    return None if x is None else int(x)


def emit_json_result(outcome: Any, cal: Calibration | None, saved: Path | None) -> None:
    emit_json(result_json(outcome, cal, saved))


def show(outcome: Any, cal: Calibration | None, saved: Path | None, report: Path | None) -> None:
    lines: list[str] = []
    if isinstance(outcome, RungsOutcome):
        emit_table(rung_table(outcome))
        v = outcome.verdicts
        lines.append(m.bench_rungs(v["agree"], v["unsafe"], v["cautious"], v["unmeasured"],
                                   m.size_or_na(outcome.limit)))
        if saved and outcome.margin:
            lines.append(m.bench_margin(outcome.margin))
    elif isinstance(outcome, RunnerOutcome):
        table = Table(list(m.RUNNER_COLUMNS))
        for r in outcome.results:
            table.add(r.tier, r.function, f"{r.seconds:.1f} s", f"{r.predicted_seconds:.1f} s",
                      m.size_or_na(r.peak_bytes), str(r.exit_code))
        emit_table(table)
    else:
        if outcome.evaluations:
            table = Table(list(m.EVAL_COLUMNS))
            for e in outcome.evaluations:
                table.add(m.bench_option(e.option) if e.option else e.tier or "-", e.function or e.kind, e.size,
                          f"{e.predicted * 1000:.0f} ms", f"{e.measured * 1000:.0f} ms", f"{e.error:.1%}",
                          m.size_or_na(_whole(e.predicted_bytes)), m.size_or_na(_whole(e.measured_bytes)))
            emit_table(table)
        memory = memory_accuracy(outcome.evaluations)
        if memory:
            lines.append(m.bench_memory(memory["measured"], memory["under_predicted"], memory["max_over"],
                                        cal.device == "processor" if cal else True))
        lines += [f"{m.NOTICE_MARK} {f}" for f in outcome.failures]
        if cal is None:
            lines.append(m.bench_too_few(outcome.measured))
        else:
            lines.append(m.bench_accuracy(cal.median_error, cal.p90_error, bool(outcome.evaluations)))
            if not goal_met(cal.p90_error):
                lines.append(m.bench_goal_missed(GOAL_P90, *cal.band))
    if outcome.interrupted:
        lines.append(m.bench_interrupted(outcome.measured if not isinstance(outcome, RunnerOutcome)
                                         else len(outcome.results)))
    if saved:
        lines.append(m.bench_saved(str(saved)))
    if report:
        lines.append(m.bench_report(str(report / "bench.html")))
    emit_lines(*lines)


def rung_table(outcome: Any) -> Table:
    table = Table(list(m.BENCH_RUNG_COLUMNS))
    for c in outcome.checks:
        table.add(c.tier, c.function, m.bench_settings(c.options), m.bench_phase(c.phase),
                  m.size_or_na(c.predicted_bytes), m.size_or_na(c.measured_bytes), m.bench_said(c.router_fits),
                  m.bench_happened(c.status, c.fits, c.why), highlight=c.fits is not None and c.fits != c.router_fits)
    return table


def write_report(folder: Path, outcome: Any, cal: Calibration | None) -> Path:
    """A self-contained HTML page: time per tier and function, measured against predicted, and memory."""
    folder.mkdir(parents=True, exist_ok=True)
    data = result_json(outcome, cal, None)
    rows = [(f"{e['tier'] or '-'} · {e['function'] or e['kind']} · {e['size']}", e["predicted_seconds"],
             e["measured_seconds"]) for e in data["evaluations"]]
    rows += [(f"{r['tier']} · {r['function']}", r["predicted_seconds"], r["seconds"]) for r in data["runs"]]
    memory = [(f"{e['option'] or e['tier'] or '-'} · {e['function'] or e['kind']} · {e['size']}",
               (e["predicted_peak_bytes"] or 0) / 2**20 or None, e["measured_peak_bytes"] / 2**20)
              for e in data["evaluations"] if e["measured_peak_bytes"] is not None]
    memory += [(f"{r['tier']} · {r['function']}", None, r["peak_bytes"] / 2**20) for r in data["runs"]
               if r["peak_bytes"]]
    checks = data.get("rungs", {}).get("checks", [])
    label = "{tier} · {function} · {settings} · {phase}"
    for c in checks:
        if c["measured_bytes"] is not None:
            name = label.format(tier=c["tier"], function=c["function"], settings=m.bench_settings(c["options"]),
                                phase=m.bench_phase(c["phase"]))
            rows.append((name, c["predicted_seconds"], c["measured_seconds"]))
            memory.append((name, c["predicted_bytes"] / 2**20, c["measured_bytes"] / 2**20))
    page = _PAGE.format(title=html.escape(m.BENCH_REPORT_TITLE), summary=html.escape(_summary(cal)),
                        time_chart=_bars(rows, "s") if rows else f"<p>{html.escape(m.BENCH_NO_EVALUATION)}</p>",
                        memory_chart=_bars(memory, "MB") if memory else f"<p>{html.escape(m.BENCH_NO_MEMORY)}</p>",
                        data=html.escape(json.dumps(data, indent=1)))
    path = folder / "bench.html"
    path.write_text(page, encoding="utf-8")
    return path


def _summary(cal: Calibration | None) -> str:
    if cal is None:
        return m.BENCH_NOTHING_FITTED
    missed = "" if goal_met(cal.p90_error) else " " + m.bench_goal_missed(GOAL_P90, *cal.band)
    return f"{cal.device} · {cal.date} · " + m.bench_accuracy(cal.median_error, cal.p90_error, True) + missed


def _bars(rows: list[tuple[str, float | None, float]], unit: str) -> str:
    """Horizontal bars, predicted (light) and measured (dark), as inline SVG."""
    top = max(max(p or 0, x) for _, p, x in rows) or 1.0
    width, label_w, bar_h = 760, 300, 12
    parts = []
    for i, (name, pred, meas) in enumerate(rows):
        y = 10 + i * 34
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(name)}</text>')
        if pred is not None:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{(width - label_w) * pred / top:.1f}" height="{bar_h}" '
                         f'fill="#9ecae1"><title>predicted {pred:.3g} {unit}</title></rect>')
        parts.append(f'<rect x="{label_w}" y="{y + bar_h + 2}" width="{(width - label_w) * meas / top:.1f}" '
                     f'height="{bar_h}" fill="#3182bd"><title>measured {meas:.3g} {unit}</title></rect>')
    height = 20 + len(rows) * 34
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{"".join(parts)}</svg>'


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:60em}} pre{{background:#f6f6f6;padding:1em;
overflow:auto;max-height:30em}} .key span{{display:inline-block;width:1em;height:.8em;margin:0 .3em 0 1em}}</style>
</head><body>
<h1>{title}</h1><p>{summary}</p>
<h2>Time: predicted and measured</h2>
<p class="key"><span style="background:#9ecae1"></span>predicted<span style="background:#3182bd"></span>measured</p>
{time_chart}
<h2>Memory at the peak: predicted and measured</h2>
{memory_chart}
<h2>All figures</h2><pre>{data}</pre>
</body></html>
"""
