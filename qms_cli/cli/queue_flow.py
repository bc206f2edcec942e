"""What the `qms queue` commands do with their options."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qms_cli.cli.common import Settings
from qms_cli.errors import DataError, Declined, UsageError


class Where:
    """The queue and history a command uses, and how to plan for this machine."""

    def __init__(self, queue: str | None, db: Path | None, vram_limit: str | None = None,
                 reserve: str | None = None, hardware: str | None = None) -> None:
        self.queue, self.db = queue, db
        self.vram_limit, self.reserve, self.hardware = vram_limit, reserve, hardware
        self.local: list[int] | None = None  # this machine's cards, read once per command

    def open(self) -> Any:
        from qms_cli.queue.store import open_store

        return open_store(self.queue, self.db)

    @contextmanager
    def store(self) -> Iterator[Any]:
        store = self.open()
        try:
            yield store
        finally:
            store.close()

    def local_cards(self, settings: Settings) -> list[int]:
        """What this machine's cards can give a task when idle (used when no worker is running)."""
        if self.local is None:
            from qms_cli.hardware import probe
            from qms_cli.queue.service import cards_of

            self.local = cards_of(probe(self.vram_limit, self.reserve, self.hardware,
                                        settings.catalog() if self.hardware else None))
        return self.local

    def history_db(self) -> Path:
        from qms_cli.runs import history

        return self.db or history.default_path()


def _estimates(store: Any, snap: Any, where: Where, settings: Settings) -> dict[int, Any]:
    from qms_cli.queue.policy import from_settings
    from qms_cli.queue.service import cards, project

    local = [] if snap.workers else where.local_cards(settings)
    return project(snap, from_settings(store.settings()), cards(snap, local))


def _standing(est: Any) -> str:
    from qms_cli.render import messages as m

    return m.standing(est.position, est.start, est.finish, est.processor)


def add(settings: Settings, spec: Any, where: Where, project_path: str | None, as_json: bool) -> None:
    from qms_cli.plan.manager import QualityManager
    from qms_cli.queue.service import NeverFits, cards_of, plan_task
    from qms_cli.render import messages as m
    from qms_cli.render.messages.plan import notice
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.render.queue import view

    qm = QualityManager.from_project(project_path, profiles=settings.profiles, vram_limit=where.vram_limit,
                                     reserve=where.reserve, hardware=where.hardware, db=where.db)
    where.local = cards_of(qm.resources)
    with where.store() as store:
        try:
            new, plan = plan_task(qm, spec, store.snapshot().workers)
        except NeverFits as e:
            raise Declined(m.never_fits(*e.facts)) from None
        if qm.project_problem is not None:
            emit_lines(m.project_set_aside(qm.project_problem), err=True)
        if not plan.route.runnable:  # no worker here could ever run it: refused before it is queued
            emit_lines(*(f"{m.NOTICE_MARK} {notice(n).message}" for n in plan.route.notices), err=True)
            raise Declined(m.not_runnable_refused(1))
        task = store.add(new)
        snap = store.snapshot()
        est = _estimates(store, snap, where, settings).get(task.id)
    if as_json:
        emit_json({**view(task, est, snap.now),
                   "project_problem": qm.project_problem.as_json() if qm.project_problem else None})
        return
    if plan.fallback or plan.route.chosen.on_cpu:
        emit_lines(*(f"{m.NOTICE_MARK} {notice(n).message}" for n in plan.route.notices), err=True)
    emit_lines(m.queued(task.id, _standing(est) if est else m.standing(None, (0, 0), (0, 0))))
    if not snap.workers:
        emit_lines(_no_workers(where, settings), err=True)


def list_tasks(settings: Settings, where: Where, finished: int, as_json: bool) -> None:
    from qms_cli.queue.service import iso
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.render.queue import view
    from qms_cli.render.table import Table, emit_table

    with where.store() as store:
        snap = store.snapshot()
        est = _estimates(store, snap, where, settings)
        done = store.recent(finished) if finished else []
    active = sorted(snap.running + snap.waiting, key=lambda t: (_place(est.get(t.id)), t.id))
    if as_json:
        emit_json({"as_of": iso(snap.now) if active else None,
                   "workers": [w._asdict() for w in snap.workers],
                   "tasks": [view(t, est.get(t.id), snap.now) for t in active + done]})
        return
    if not active and not done:
        emit_lines(m.QUEUE_EMPTY)
        return
    tiers = settings.catalog().tiers
    table = Table(m.QUEUE_COLUMNS)
    for t in active + done:
        e = est.get(t.id) if t.state in ("queued", "running") else None
        place = "" if e is None or e.position is None else "▶" if e.position == 0 else str(e.position)
        starts = "" if e is None or not e.position else m.about(*e.start)
        ends = "" if e is None or e.position is None else m.about(*e.finish) if not e.position else \
            m.finishing(e.start, e.finish)
        tier = tiers.get(t.ran_tier or t.tier)
        table.add(place, str(t.id), t.owner, t.function, tier.label if tier else t.tier,
                  _priority(t.priority), t.state, m.duration_range(t.predicted_low, t.predicted_high), starts, ends,
                  highlight=t.state == "running")
    emit_table(table)
    if not snap.workers and active:
        emit_lines(_no_workers(where, settings), err=True)


def _no_workers(where: Where, settings: Settings) -> str:
    from qms_cli.queue.model import PROCESSOR
    from qms_cli.render import messages as m

    return m.NO_WORKERS_NO_CARD if where.local_cards(settings) == [PROCESSOR] else m.NO_WORKERS


def _place(e: Any) -> float:
    return 1e18 if e is None or e.position is None else e.position


def _priority(value: int) -> str:
    from qms_cli.queue.policy import PRIORITY_NAMES

    return PRIORITY_NAMES[value]


def _get(store: Any, task_id: int) -> Any:
    from qms_cli.render import messages as m

    task = store.get(task_id)
    if task is None:
        raise DataError(m.no_such_task(task_id))
    return task


def show(settings: Settings, where: Where, task_id: int, as_json: bool) -> None:
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.render.queue import view

    with where.store() as store:
        task = _get(store, task_id)
        snap = store.snapshot()
        est = _estimates(store, snap, where, settings).get(task_id) if task.state in ("queued", "running") else None
    if as_json:
        emit_json(view(task, est, snap.now))
        return
    emit_lines(_line(task, est))


def _line(task: Any, est: Any) -> str:
    from qms_cli.render import messages as m
    from qms_cli.render.queue import task_reason

    if task.state in ("queued", "running"):
        state = _standing(est) if est else m.standing(None, (0, 0), (0, 0))
        return f"Task {task.id} ({task.owner}, {task.function}): {state}"
    return m.ended(task.id, task.state, task.actual_seconds, task_reason(task))


def cancel(where: Where, task_id: int, as_json: bool) -> None:
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.render.queue import view

    with where.store() as store:
        before = _get(store, task_id)
        if before.state not in ("queued", "running"):
            raise DataError(m.already_ended(task_id, before.state))
        task = store.cancel(task_id)
    if as_json:
        emit_json(view(task, None, time.time()))
    elif task.state == "running":
        emit_lines(m.cancel_asked(task_id))
    else:
        emit_lines(m.ended(task_id, task.state, None, None))


def wait(settings: Settings, where: Where, task_id: int, notify: bool, interval: float, as_json: bool) -> None:
    """Follow a task to its end with a status line; the exit code follows its outcome."""
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_json
    from qms_cli.render.queue import task_reason, view

    live = sys.stderr.isatty()
    shown = ""
    with where.store() as store:
        while True:
            task = _get(store, task_id)
            if task.state not in ("queued", "running"):
                break
            snap = store.snapshot()
            line = _line(task, _estimates(store, snap, where, settings).get(task_id))
            if line != shown:
                sys.stderr.write(f"\r\x1b[K{line}" if live else f"{line}\n")
                sys.stderr.flush()
                shown = line
            time.sleep(interval)
    if live and shown:
        sys.stderr.write("\r\x1b[K")
    final = m.ended(task.id, task.state, task.actual_seconds, task_reason(task))
    if notify:
        _notify(m.notify_title(task.id, task.state), final)
    if as_json:
        emit_json(view(task, None, time.time()))
    if task.state == "failed":
        raise DataError(final[0].lower() + final[1:].rstrip("."))
    if task.state == "cancelled":
        raise Declined(final[0].lower() + final[1:].rstrip("."))
    if not as_json:
        sys.stderr.write(final + "\n")


def _notify(title: str, body: str) -> None:
    """The desktop's notifier where there is one (notify-send, macOS), else the terminal bell."""
    import os
    import shutil
    import subprocess

    argv: list[str] | None = None
    if sys.platform == "darwin" and shutil.which("osascript"):
        argv = ["osascript", "-e", f"display notification {body!r} with title {title!r}"]
    elif shutil.which("notify-send") and any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                         "DBUS_SESSION_BUS_ADDRESS")):
        argv = ["notify-send", "--app-name=qms", title, body]
    if argv is not None:
        try:
            if subprocess.run(argv, capture_output=True, timeout=5).returncode == 0:
                return
        except (OSError, subprocess.SubprocessError):
            pass
    sys.stderr.write("\a")
    sys.stderr.flush()


def policy(where: Where, max_wait: str | None, quota: str | None, reserve: str | None, as_json: bool) -> None:
    from qms_cli.queue.policy import Policy, from_settings, to_settings
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.units import parse_duration, parse_shares

    tiers = ("low", "standard", "high")
    with where.store() as store:
        current = from_settings(store.settings())
        if max_wait is not None or quota is not None or reserve is not None:
            if max_wait is not None and parse_duration(max_wait) <= 0:
                raise UsageError(f"--max-wait {max_wait!r}: give a duration above 0, e.g. 1h")
            current = Policy(parse_duration(max_wait) if max_wait is not None else current.max_wait,
                             parse_shares(quota, "--quota", tiers, fractions=True) if quota is not None
                             else current.quota,
                             parse_shares(reserve, "--reserve", tiers, fractions=True) if reserve is not None
                             else current.reserve)
            store.configure(to_settings(current))
    if as_json:
        emit_json({"max_wait_seconds": current.max_wait, "quota": current.quota, "reserve": current.reserve})
        return

    def shares(d: dict[str, float]) -> str:
        return ", ".join(f"{t} {v:.0%}" for t, v in d.items()) or "none"

    emit_lines(m.policy_line(current.max_wait, shares(current.quota), shares(current.reserve)))
