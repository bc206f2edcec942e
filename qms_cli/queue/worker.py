"""A worker for one card: claim the next task by the policy, re-plan it on the memory free now, run it through
the runner (as `qms run` does), record it in the history, and mark it done or failed.

While a task runs, a second connection heartbeats it every HEARTBEAT seconds; a cancelled task's run is
stopped, and so is a run whose claim was given away (the worker stopped answering for LEASE seconds). Ctrl-C
(or SIGTERM) stops the run and returns the task to the queue as it was; a killed worker's task goes back once
its claim runs out.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from qms_cli.errors import UsageError
from qms_cli.queue.model import HEARTBEAT, QueuedTask, WorkerInfo
from qms_cli.queue.policy import from_settings, order
from qms_cli.queue.store import Snapshot, Store


class Card(NamedTuple):
    """The card this worker serves, and how to read it again."""

    qm: Any  # QualityManager over this card alone
    refresh: Callable[[], Any]  # -> Resources read now (this card alone)


class Ended(NamedTuple):
    task: QueuedTask | None  # as the queue holds it afterwards (None: the claim was lost)
    interrupted: bool


def worker_id(gpu: int | None) -> tuple[str, str]:
    host = socket.gethostname()
    return host, f"{host}/{'cpu' if gpu is None else f'gpu{gpu}'}/{os.getpid()}"


class Worker:
    def __init__(self, store: Store, reopen: Callable[[], Store], card: Card, runner: list[str],
                 say: Callable[[str], None], history_db: Path) -> None:
        self.store, self.reopen, self.card, self.runner, self.say = store, reopen, card, runner, say
        self.history_db = history_db
        gpu = card.qm.resources.best_gpu
        self.gpu = gpu.index if gpu is not None else None
        host, wid = worker_id(self.gpu)
        capacity = card.qm.resources.available_vram if gpu is None else card.qm.resources.idle_available(gpu)
        self.info = WorkerInfo(wid, host, self.gpu, gpu.name if gpu else "processor", capacity, 0.0, 0.0, None)
        self._plans: dict[int, Any] = {}
        self.policy = from_settings({})
        self._now: Any = card.qm

    def serve(self, once: bool, poll: float) -> Iterator[Ended]:
        """Claim and run tasks until interrupted (once: at most one); yields each task as it ends."""
        try:
            while True:
                self.store.beat(self.info._replace(task=None))
                self.policy = from_settings(self.store.settings())
                # Read the card before the claim: the claim holds the queue's lock only while it chooses.
                self._now = self.card.qm.on(self.card.refresh(), project=False)
                claimed = self.store.claim(self.info, self._pick)
                if claimed is None:
                    if once:
                        return
                    time.sleep(poll)
                    continue
                ended = self._run(claimed)
                yield ended
                if once or ended.interrupted:
                    return
        finally:
            with contextlib.suppress(Exception):
                self.store.leave(self.info.id)

    def _pick(self, snap: Snapshot) -> Iterator[tuple[QueuedTask, str]]:
        """The waiting tasks in the policy's order that can run on this card now, with the tier each runs at."""
        from qms_cli.running import plan_config_key

        if not snap.waiting:
            return
        cards = max(1, len(snap.workers))
        by_id = {t.id: t for t in snap.waiting}
        ranked = order(self.policy, [t.waiting() for t in snap.waiting], [(t.owner, t.tier) for t in snap.running],
                       cards, snap.now, snap.last_start)
        for w in ranked:
            t = by_id[w.id]
            try:
                plan = self._now.plan(t.function, t.requested, t.node, t.count, t.frames)
            except Exception:
                continue
            same = plan_config_key(plan) == t.config_key
            if plan.route.runnable and (same or t.allow_fallback):  # nothing that lacks memory here now
                self._plans[t.id] = plan
                yield t, plan.route.chosen.tier.id

    def _run(self, t: QueuedTask) -> Ended:
        from qms_cli.render import messages as m

        plan = self._plans.pop(t.id)
        self._plans.clear()
        r = plan.route.chosen
        self.store.beat(self.info._replace(task=t.id))
        self.say(m.worker_running(t.id, t.owner, t.function, r.tier.label,
                                  m.duration_range(r.prediction.low, r.prediction.high)))
        if r.tier.id != t.tier:
            self.say(m.worker_lower(t.id, r.tier.label))
        stop, lost = threading.Event(), threading.Event()
        beats = threading.Thread(target=self._heartbeat, args=(t.id, stop, lost), daemon=True)
        beats.start()
        try:
            result = self._execute(t, plan, stop)
        except BaseException:
            stop.set()
            beats.join()
            self.store.release(t.id, self.info.id)
            raise
        cancelled_here = result.outcome == "cancelled" and not stop.is_set()
        stop.set()
        beats.join()
        if lost.is_set():
            self.say(m.worker_lost(t.id))
            return Ended(None, False)
        if cancelled_here:  # Ctrl-C or SIGTERM reached the worker
            self.store.release(t.id, self.info.id)
            self.say(m.worker_returned(t.id))
            return Ended(self.store.get(t.id), True)
        self._record(t, plan, result)
        reason = {"ok": None, "cancelled": m.REASON_CANCELLED_RUNNING,
                  "oom": m.REASON_OUT_OF_MEMORY}.get(result.outcome, m.reason_exit(result.exit_code))
        self.store.finish(t.id, self.info.id, result.outcome, reason, result.exit_code, result.seconds)
        ended = self.store.get(t.id)
        if ended is not None:
            self.say(m.ended(t.id, ended.state, result.seconds, reason))
        return Ended(ended, False)

    def _execute(self, t: QueuedTask, plan: Any, stop: threading.Event) -> Any:
        import io

        from qms_cli import running
        from qms_cli.plan_json import PlanEncoder

        doc = io.StringIO()
        PlanEncoder(self.card.qm.resources).write(doc, [(None, plan)], t.project, [])
        path = running.plan_file(doc.getvalue())
        try:
            env = running.environment(plan, path, dict(os.environ))
            env.update(QMS_TASK_ID=str(t.id), QMS_OWNER=t.owner)
            r = plan.route.chosen
            gpu = None if r.on_cpu or self.card.qm.resources.source != "nvml" else self.gpu
            return running.execute(self.runner, env, gpu, stop)
        finally:
            path.unlink(missing_ok=True)

    def _heartbeat(self, task_id: int, stop: threading.Event, lost: threading.Event) -> None:
        """Keep the claim alive from a connection of its own; stop the run if it was cancelled or given away."""
        store = self.reopen()
        try:
            while not stop.wait(HEARTBEAT):
                try:
                    status = store.heartbeat(task_id, self.info.id)
                except Exception:
                    continue
                if status != "ok":
                    if status == "lost":
                        lost.set()
                    stop.set()
        finally:
            store.close()

    def _record(self, t: QueuedTask, plan: Any, result: Any) -> None:
        """Add the run to this machine's history; a history that cannot be written is a warning."""
        from qms_cli import history, running
        from qms_cli.errors import DataError
        from qms_cli.render import messages as m

        row = running.row(plan, result, project=t.project, fingerprint=self.card.qm.router.fingerprint_of_rung(
            plan.route.chosen), proceeded=None, source="queue")
        try:
            conn = history.connect(self.history_db)
            try:
                history.insert(conn, [row])
            finally:
                conn.close()
        except DataError as e:
            self.say(m.not_recorded(e.message))


def runner_argv(runner: str | None) -> list[str]:
    """The runner command from --runner or $QMS_RUNNER, split as a shell would (no shell runs it)."""
    import shlex

    text = runner or os.environ.get("QMS_RUNNER")
    if not text or not text.strip():
        raise UsageError("give the command that generates with --runner (or $QMS_RUNNER), e.g. "
                         "qms queue work --runner 'python generate.py'")
    try:
        return shlex.split(text)
    except ValueError as e:
        raise UsageError(f"--runner {text!r}: {e}") from None


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
