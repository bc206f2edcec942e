"""What `qms plan` does with its options: plan, refuse under --strict, print, and ask before a step down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qms_cli.cli.common import Settings
from qms_cli.errors import Cancelled, DataError, Declined, UsageError
from qms_cli.values import Value

if TYPE_CHECKING:
    from qms_cli.plan.manager import Plan
    from qms_cli.plan.planner import Planner

TABLE_LIMIT = 50  # more tasks than this: the summary alone


@dataclass(frozen=True, eq=False, repr=False)
class PlanRequest(Value):
    """What `qms plan` was asked: the tasks (named functions, else every one, or a tasks file), how to plan them,
    on which machine (or fleet, from Prometheus), and how to answer."""

    functions: tuple[str, ...] = ()
    quality: str | None = None
    node: str | None = None
    count: int = 1
    frames: int | None = None
    seconds: float | None = None
    tasks_path: Path | None = None
    max_time: str | None = None
    strict: bool = False
    yes: bool = False
    technical: bool = False
    project: str | None = None
    vram_limit: str | None = None
    reserve: str | None = None
    hardware: str | None = None
    as_json: bool = False
    interactive: bool = False
    prometheus: str | None = None  # plan across the machines this Prometheus knows
    max_age: str = "60s"
    local_fallback: bool = False


def run_plan(settings: Settings, request: PlanRequest) -> None:
    from qms_cli.plan.manager import QualityManager
    from qms_cli.units import parse_duration

    r = request
    limit = None
    if r.max_time is not None:
        try:
            limit = parse_duration(r.max_time)
        except UsageError as e:
            raise UsageError(f"--max-time: {e.message}") from None
    qm: Planner
    if r.prometheus is not None:
        from qms_cli.cli.fleet_flow import manager_for

        qm = manager_for(r.prometheus, profiles=settings.profiles, project=r.project, reserve=r.reserve,
                         max_age=parse_duration(r.max_age), local_fallback=r.local_fallback,
                         vram_limit=r.vram_limit, hardware=r.hardware)
    else:
        qm = QualityManager.from_project(r.project, profiles=settings.profiles, vram_limit=r.vram_limit,
                                         reserve=r.reserve, hardware=r.hardware)
    errors: list[tuple[int, str]] = []
    if r.tasks_path is not None:
        if r.functions:
            raise UsageError("give functions on the command line or --tasks FILE, not both")
        plans = _plan_file(qm, r.tasks_path, r.quality, limit, r.strict, errors)
    else:
        plans = _plan_args(qm, r, limit)
    if r.strict:
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
    if r.as_json:
        # A batch lists the rungs tried only with --technical: they are ~2 KB a task.
        _json(qm, plans, errors, rungs=r.tasks_path is None or r.technical)
    else:
        _people(qm, plans, errors, r.tasks_path, r.technical)
    if stuck:  # said before anything runs: no configuration fits this machine's memory (issue 14, item 4)
        from qms_cli.render import messages as m

        raise Declined(m.not_runnable_refused(stuck))
    if not r.as_json:
        _confirm([p for _, p in plans], r.yes, r.interactive)


def _plan_args(qm: Planner, r: PlanRequest, limit: float | None) -> list[tuple[int | None, Plan]]:
    from qms_cli.plan.manager import Task

    names = r.functions or qm.catalog.tiers.functions
    out: list[tuple[int | None, Plan]] = []
    for fn in names:
        name = qm.catalog.tiers.function(fn)
        video = qm.catalog.models.models[qm.catalog.tiers.tiers[0].mappings[name].model].modality == "video"
        # Without named functions, a video length applies to the video functions only.
        f, s = (r.frames, r.seconds) if r.functions or video else (None, None)
        task = Task(name, quality=r.quality, node=r.node, count=r.count, frames=f, seconds=s)
        out.append((None, qm.plan(task, max_time=limit)))
    return out


def _plan_file(qm: Planner, path: Path, quality: str | None, limit: float | None, strict: bool,
               errors: list[tuple[int, str]]) -> list[tuple[int | None, Plan]]:
    from dataclasses import replace

    from qms_cli.plan.tasks_file import read_tasks

    good, bad = read_tasks(path)
    errors += [(e.line, e.message) for e in bad]
    plans: list[tuple[int | None, Plan]] = []
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


def _json(qm: Planner, plans: list[tuple[int | None, Plan]], errors: list[tuple[int, str]], rungs: bool) -> None:
    import sys

    from qms_cli.plan.plan_json import PlanEncoder
    from qms_cli.render.messages.plan import WORDING

    project = str(qm.project.path) if qm.project else None
    problem = qm.project_problem.as_json() if qm.project_problem else None
    PlanEncoder(qm.resources, rungs, words=WORDING).write(sys.stdout, plans, project,
                                                          [{"line": n, "message": msg} for n, msg in errors], problem)


def _say_project_problem(qm: Planner) -> None:
    """Planned although the project file could not be used (every task named its quality): say so."""
    if qm.project_problem is not None:
        from qms_cli.render import messages as m
        from qms_cli.render.output import emit_lines

        emit_lines(m.project_set_aside(qm.project_problem), err=True)


def _people(qm: Planner, plans: list[tuple[int | None, Plan]], errors: list[tuple[int, str]], path: Path | None,
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


def _confirm(plans: list[Plan], yes: bool, interactive: bool) -> None:
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
