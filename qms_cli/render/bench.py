"""`qms bench` for people: progress while measuring, then the errors per tier and function, and a report."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

from qms_cli.bench.rungs import RungsOutcome
from qms_cli.estimate.calibration import GOAL_P90, Calibration, goal_met
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
    table = result_table(outcome)
    if table is not None:
        emit_table(table)
    lines = result_lines(outcome, cal)
    if saved:
        lines.append(m.bench_saved(str(saved)))
    if report:
        lines.append(m.bench_report(str(report / "bench.html")))
    emit_lines(*lines)


def result_table(outcome: Any) -> Table | None:
    """The table of what was measured (the terminal's, and the report's "All figures")."""
    if isinstance(outcome, RungsOutcome):
        return rung_table(outcome)
    if isinstance(outcome, RunnerOutcome):
        table = Table(list(m.RUNNER_COLUMNS))
        for r in outcome.results:
            table.add(r.tier, r.function, f"{r.seconds:.1f} s", f"{r.predicted_seconds:.1f} s",
                      m.size_or_na(r.peak_bytes), str(r.exit_code))
        return table
    if not outcome.evaluations:
        return None
    table = Table(list(m.EVAL_COLUMNS))
    for e in outcome.evaluations:
        table.add(m.bench_option(e.option) if e.option else e.tier or "-", e.function or m.bench_phase(e.kind), e.size,
                  f"{e.predicted * 1000:.0f} ms", f"{e.measured * 1000:.0f} ms", f"{e.error:.1%}",
                  m.size_or_na(_whole(e.predicted_bytes)), m.size_or_na(_whole(e.measured_bytes)))
    return table


def result_lines(outcome: Any, cal: Calibration | None) -> list[str]:
    """What the run found, in sentences: the terminal prints them under the table and the report at its top,
    word for word."""
    lines: list[str] = []
    if isinstance(outcome, RungsOutcome):
        v = outcome.verdicts
        lines.append(m.bench_rungs(v["agree"], v["unsafe"], v["cautious"], v["unmeasured"],
                                   m.size_or_na(outcome.limit)))
        if outcome.margin and cal is not None:
            lines.append(m.bench_margin(outcome.margin))
    elif not isinstance(outcome, RunnerOutcome):
        held_out = memory_accuracy(outcome.evaluations)
        memory = held_out or fitted_memory(cal)
        if memory:
            lines.append(m.bench_memory(memory["measured"], memory["under_predicted"], memory["max_over"],
                                        cal.device == "processor" if cal else True, held_out is not None))
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
    return lines


def fitted_memory(cal: Calibration | None) -> dict[str, Any] | None:
    """As memory_accuracy, over the sizes the memory model was fitted to (a run without held-out sizes)."""
    points = fitted_points(cal)[1]
    errs = [(p - x) / x for _, p, x in points if p is not None and x]
    if not errs:
        return None
    over = [e for e in errs if e >= 0]
    return {"measured": len(errs), "under_predicted": len(errs) - len(over), "max_over": max(over, default=0.0)}


def fitted_points(cal: Calibration | None) -> tuple[list[tuple[str, float | None, float]],
                                                    list[tuple[str, float | None, float]]]:
    """(time, memory): per size the model was fitted to, its label, what the fitted model predicts and what was
    measured (seconds; bytes)."""
    from qms_cli.bench.session import _size
    from qms_cli.estimate import memfit
    from qms_cli.estimate.calibration import predicted

    times: list[tuple[str, float | None, float]] = []
    memory: list[tuple[str, float | None, float]] = []
    if cal is None or not cal.fit:
        return times, memory
    margin = cal.memory_margin or 1.0
    for s in cal.samples:
        if not s.fit or s.kind == "runner" or (s.detail or {}).get("options"):
            continue
        label = f"{m.bench_family(s.family)} · {m.bench_phase(s.kind)} · {_size(s)} · {m.FITTED_MARK}"
        times.append((label, predicted(cal.fit, s), s.seconds))
        if memfit.measured(s):
            fits = cal.memory or {}
            memory.append((label, memfit.predicted_peak(fits, s, margin) if s.family in fits else None,
                           float(memfit.peak(s))))
    return times, memory


def rung_table(outcome: Any) -> Table:
    table = Table(list(m.BENCH_RUNG_COLUMNS))
    for c in outcome.checks:
        table.add(c.tier, c.function, m.bench_settings(c.options), m.bench_phase(c.phase),
                  m.size_or_na(c.predicted_bytes), m.size_or_na(c.measured_bytes), m.bench_said(c.router_fits),
                  m.bench_happened(c.status, c.fits, c.why), highlight=c.fits is not None and c.fits != c.router_fits)
    return table
