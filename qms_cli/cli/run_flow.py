"""What `qms run` and `qms record` do with their options."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qms_cli.cli.common import Settings
from qms_cli.errors import Cancelled, DataError, Declined, UsageError

if TYPE_CHECKING:
    from qms_cli.plan.manager import QualityManager


def _manager(settings: Settings, project: str | None, vram_limit: str | None, reserve: str | None,
             hardware: str | None, db: Path | None) -> QualityManager:
    from qms_cli.plan.manager import QualityManager

    qm = QualityManager.from_project(project, profiles=settings.profiles, vram_limit=vram_limit, reserve=reserve,
                                     hardware=hardware, db=db)
    if qm.warnings:
        from qms_cli.render.messages import machine

        sys.stderr.write("".join(w + "\n" for w in machine.notices(qm.warnings)))
    return qm


def _save(rows: list[dict[str, Any]], db: Path | None) -> None:
    """Write rows; a history that cannot be written is a DataError for the caller to weigh."""
    from qms_cli.runs import history

    conn = history.connect(db or history.default_path())
    try:
        history.insert(conn, rows)
    finally:
        conn.close()


def run_task(settings: Settings, command: list[str], function: str | None, quality: str | None, node: str | None,
             count: int, frames: int | None, seconds: float | None, max_time: str | None, strict: bool, yes: bool,
             project: str | None, vram_limit: str | None, reserve: str | None, hardware: str | None,
             db: Path | None, interactive: bool) -> int:
    from qms_cli.plan.plan_json import PlanEncoder
    from qms_cli.render import messages as m
    from qms_cli.render.messages.plan import WORDING, notice
    from qms_cli.runs import running
    from qms_cli.units import parse_duration

    if not command:
        raise UsageError("give the command to run after --, e.g. qms run -f \"Create Image\" -- python gen.py")
    qm = _manager(settings, project, vram_limit, reserve, hardware, db)
    functions = qm.catalog.tiers.functions
    if function is None and len(functions) != 1:
        raise UsageError(f"name the function with --function; choose one of: {', '.join(functions)}")
    limit = parse_duration(max_time) if max_time else None
    plan = qm.plan(function or functions[0], quality, node, count, frames, seconds, limit)
    if qm.project_problem is not None:
        sys.stderr.write(m.project_set_aside(qm.project_problem) + "\n")
    r = plan.route.chosen
    project_path = str(qm.project.path) if qm.project else None
    proceeded: bool | None = None
    if not plan.route.runnable:
        sys.stderr.write("".join(f"{m.NOTICE_MARK} {notice(n).message}\n" for n in plan.route.notices))
        raise Declined(m.not_runnable_refused(1))
    if plan.fallback:
        if strict:
            raise Declined(m.strict_refused(plan.route.function, plan.route.requested.name, r.tier.name))
        sys.stderr.write("".join(f"{m.NOTICE_MARK} {notice(n).message}\n" for n in plan.route.notices))
        if yes:
            proceeded = True
        elif interactive:
            import typer

            proceeded = typer.confirm(m.confirm_fallback(r.tier.label), default=True, err=True)
            if not proceeded:
                _record_or_warn([running.row(plan, None, project=project_path, fingerprint=qm.router
                                             .fingerprint_of_rung(r), proceeded=False)], db)
                raise Cancelled(m.CANCELLED_RUN)
        else:
            sys.stderr.write(m.proceeding_without_asking(r.tier.label) + "\n")
    import io

    doc = io.StringIO()
    PlanEncoder(qm.resources, words=WORDING).write(doc, [(None, plan)], project_path, [],
                                                   qm.project_problem.as_json() if qm.project_problem else None)
    plan_path = running.plan_file(doc.getvalue())
    try:
        env = running.environment(plan, plan_path, dict(os.environ))
        gpu = None if r.on_cpu or r.device is None or qm.resources.source != "nvml" else r.device.index
        result = running.execute(command, env, gpu, forward_signals=True)
    finally:
        plan_path.unlink(missing_ok=True)
    _record_or_warn([running.row(plan, result, project=project_path, fingerprint=qm.router.fingerprint_of_rung(r),
                                 proceeded=proceeded)], db)
    took = m.duration(result.seconds)
    estimate = m.duration_range(r.prediction.low, r.prediction.high)
    line = {"ok": m.took(took, estimate), "failed": m.run_failed(took, result.exit_code),
            "oom": m.run_out_of_memory(took), "cancelled": m.run_cancelled(took)}[result.outcome]
    sys.stderr.write(line + "\n")
    return result.exit_code


def _record_or_warn(rows: list[dict[str, Any]], db: Path | None) -> None:
    """Record the run; a history failure is a warning: the generation itself already happened."""
    from qms_cli.render import messages as m

    try:
        _save(rows, db)
    except DataError as e:
        sys.stderr.write(m.not_recorded(e.message) + "\n")


def record_runs(settings: Settings, function: str | None, tier: str | None, seconds: float | None, peak: str | None,
                outcome: str, requested: str | None, node: str | None, count: int, frames: int | None,
                project: str | None, hardware: str | None, db: Path | None, as_json: bool) -> None:
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.runs import recording

    qm = _manager(settings, project, None, None, hardware, db)
    project_path = str(qm.project.path) if qm.project else None
    entries: list[tuple[int | None, dict[str, Any]]] = []
    errors: list[str] = []
    if function is not None or tier is not None or seconds is not None:
        entries.append((None, {"function": function, "tier": tier, "seconds": seconds, "peak": peak,
                               "outcome": outcome, "requested": requested, "node": node, "count": count,
                               "frames": frames}))
    elif not sys.stdin.isatty():
        for number, line in enumerate(sys.stdin, start=1):
            if line.strip():
                try:
                    entries.append((number, recording.parse_line(line)))
                except ValueError as e:
                    errors.append(f"line {number}: {e}")
    else:
        raise UsageError("give --function, --tier and --seconds, or JSON lines on stdin")
    rows = []
    for n, entry in entries:
        try:
            rows.append(recording.to_row(qm, {k: v for k, v in entry.items() if v is not None}, project_path))
        except UsageError as e:
            if n is None:
                raise
            errors.append(f"line {n}: {e.message}")
    errors.sort(key=lambda e: int(e.split()[1].rstrip(":")))
    if rows:
        _save(rows, db)
    if as_json:
        emit_json({"recorded": len(rows), "errors": errors})
    else:
        emit_lines(m.recorded(len(rows)))
        emit_lines(*errors, err=True)
    if errors:
        raise DataError(f"{len(errors)} line{'s' if len(errors) != 1 else ''} not recorded (see above)")
