"""What `qms plan` does with its options: plan, refuse under --strict, print, and ask before a step down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qms_cli.cli.common import Settings
from qms_cli.errors import Cancelled, DataError, Declined, UsageError

TABLE_LIMIT = 50  # more tasks than this: the summary alone


def run_plan(settings: Settings, functions: list[str], quality: str | None, node: str | None, count: int,
             frames: int | None, seconds: float | None, tasks_path: Path | None, max_time: str | None, strict: bool,
             yes: bool, technical: bool, project: str | None, vram_limit: str | None, reserve: str | None,
             hardware: str | None, as_json: bool, interactive: bool,
             fleet: tuple[str | None, str, bool] = (None, "60s", False)) -> None:
    from qms_cli.plan.manager import QualityManager, Task
    from qms_cli.units import parse_duration

    limit = None
    if max_time is not None:
        try:
            limit = parse_duration(max_time)
        except UsageError as e:
            raise UsageError(f"--max-time: {e.message}") from None
    url, max_age, local_fallback = fleet
    if url is not None:
        from qms_cli.cli.fleet_flow import manager_for

        qm: Any = manager_for(url, profiles=settings.profiles, project=project, reserve=reserve,
                              max_age=parse_duration(max_age), local_fallback=local_fallback,
                              vram_limit=vram_limit, hardware=hardware)
    else:
        qm = QualityManager.from_project(project, profiles=settings.profiles, vram_limit=vram_limit,
                                         reserve=reserve, hardware=hardware)
    errors: list[tuple[int, str]] = []
    if tasks_path is not None:
        if functions:
            raise UsageError("give functions on the command line or --tasks FILE, not both")
        plans = _plan_file(qm, tasks_path, quality, limit, strict, errors)
    else:
        plans = _plan_args(qm, functions, Task, quality, node, count, frames, seconds, limit)
    if strict:
        for _, p in plans:
            if p.fallback:
                from qms_cli.render import messages as m

                raise Declined(m.strict_refused(p.route.function, p.route.requested.name, p.route.chosen.tier.name))
    if qm.warnings:
        from qms_cli.render.messages import machine
        from qms_cli.render.output import emit_lines

        emit_lines(*machine.notices(qm.warnings), err=True)
    _say_project_problem(qm)
    stuck = sum(not p.route.runnable for _, p in plans)
    if as_json:
        # A batch lists the rungs tried only with --technical: they are ~2 KB a task.
        _json(qm, plans, errors, rungs=tasks_path is None or technical)
    else:
        _people(qm, plans, errors, tasks_path, technical)
    if stuck:  # said before anything runs: no configuration fits this machine's memory (issue 14, item 4)
        from qms_cli.render import messages as m

        raise Declined(m.not_runnable_refused(stuck))
    if not as_json:
        _confirm([p for _, p in plans], yes, interactive)


def _plan_args(qm: Any, functions: list[str], task: Any, quality: str | None, node: str | None, count: int,
               frames: int | None, seconds: float | None, limit: float | None) -> list[tuple[int | None, Any]]:
    names = functions or qm.catalog.tiers.functions
    out: list[tuple[int | None, Any]] = []
    for fn in names:
        name = qm.catalog.tiers.function(fn)
        video = qm.catalog.models.models[qm.catalog.tiers.tiers[0].mappings[name].model].modality == "video"
        # Without named functions, a video length applies to the video functions only.
        f, s = (frames, seconds) if functions or video else (None, None)
        out.append((None, qm.plan(task(name, quality, node, count, f, s), max_time=limit)))
    return out


def _plan_file(qm: Any, path: Path, quality: str | None, limit: float | None, strict: bool,
               errors: list[tuple[int, str]]) -> list[tuple[int | None, Any]]:
    from dataclasses import replace

    from qms_cli.plan.tasks_file import read_tasks

    good, bad = read_tasks(path)
    errors += [(e.line, e.message) for e in bad]
    plans: list[tuple[int | None, Any]] = []
    for line, task in good:
        try:
            if quality and not task.quality:  # --quality applies to lines that name none
                task = replace(task, quality=quality)
            plans.append((line, qm.plan(task, max_time=limit)))
        except UsageError as e:
            errors.append((line, e.message))
    errors.sort()
    if errors and strict:
        more = f" (and {len(errors) - 1} more bad lines)" if len(errors) > 1 else ""
        raise DataError(f"{path}:{errors[0][0]}: {errors[0][1]}{more}; --strict plans nothing when a line is bad")
    return plans


def _json(qm: Any, plans: list[tuple[int | None, Any]], errors: list[tuple[int, str]], rungs: bool) -> None:
    import sys

    from qms_cli.plan.plan_json import PlanEncoder
    from qms_cli.render.messages.plan import WORDING

    project = str(qm.project.path) if qm.project else None
    problem = qm.project_problem.as_json() if qm.project_problem else None
    PlanEncoder(qm.resources, rungs, words=WORDING).write(sys.stdout, plans, project,
                                                          [{"line": n, "message": msg} for n, msg in errors], problem)


def _say_project_problem(qm: Any) -> None:
    """Planned although the project file could not be used (every task named its quality): say so."""
    if qm.project_problem is not None:
        from qms_cli.render import messages as m
        from qms_cli.render.output import emit_lines

        emit_lines(m.project_set_aside(qm.project_problem), err=True)


def _people(qm: Any, plans: list[tuple[int | None, Any]], errors: list[tuple[int, str]], path: Path | None,
            technical: bool) -> None:
    from qms_cli.render import messages as m
    from qms_cli.render import plan as view
    from qms_cli.render.output import emit_lines
    from qms_cli.render.table import emit_panel, emit_table

    only = [p for _, p in plans]
    if len(only) <= TABLE_LIMIT:
        emit_table(view.task_table(only))
        emit_panel(view.explanations(only), m.PANEL_TITLE)
        if technical:
            for p in only:
                emit_lines(*view.technical_lines(p))
                emit_table(view.rungs_table(p))
    if path is not None:
        emit_lines(*view.summary_lines(only, len(errors)))
        emit_lines(*(m.skipped_line(str(path), n, msg) for n, msg in errors), err=True)
    emit_lines(view.calibration_line(qm.router.calibrated))


def _confirm(plans: list[Any], yes: bool, interactive: bool) -> None:
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_lines

    lower = [p for p in plans if p.fallback]
    if not lower or yes:
        return
    tiers = dict.fromkeys(p.route.chosen.tier.label for p in lower)
    if not interactive:
        emit_lines(m.proceeding_without_asking(", ".join(tiers)), err=True)
        return
    import typer

    question = m.confirm_fallback(next(iter(tiers))) if len(tiers) == 1 else m.CONFIRM_SEVERAL
    if not typer.confirm(question, default=True):
        raise Cancelled(m.CANCELLED)
