"""A worker for one card: claim the next task by the policy, re-plan it on the memory free now, run it through
the runner (as `qms run` does), record it in the history, and mark it done or failed.

While a task runs, a second connection heartbeats it every HEARTBEAT seconds; a cancelled task's run is
stopped, and so is a run whose claim was given away (the worker stopped answering for LEASE seconds). Ctrl-C
(or SIGTERM) stops the run and returns the task to the queue as it was; a killed worker's runner dies with it
(lease.py) and its task goes back once its claim runs out.

A finished run's outcome is written to this machine's journal first and delivered from there (delivery.py),
so a database away when a run ends loses nothing and reruns nothing; while it is away the worker waits and
tries again (bounded waits, RECONNECT seconds in all). A task this worker cannot prepare (its plan or its
runner's setup raises) is marked failed, with why, and the worker goes on; what it says, it says as facts
(events.py) for the command line to word.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from qms_cli.errors import DataError, UsageError
from qms_cli.plan.notices import Wording
from qms_cli.queue.base import Snapshot, Store, Unreachable
from qms_cli.queue.delivery import Delivery, entry
from qms_cli.queue.events import QueueGone, Said
from qms_cli.queue.lease import claim_of, spawn_options
from qms_cli.queue.model import HEARTBEAT, PROCESSOR, QueuedTask, WorkerInfo
from qms_cli.queue.policy import from_settings, order
from qms_cli.queue.reasons import Reason, of_outcome

if TYPE_CHECKING:
    from qms_cli.hardware import Resources
    from qms_cli.plan.manager import Plan, QualityManager
    from qms_cli.runs.running import RunResult

T = TypeVar("T")
RECONNECT = 600.0  # seconds a worker keeps trying to reach the queue's database before it stops (exit 1)


class Card(NamedTuple):
    """The card this worker serves, and how to read it again."""

    qm: QualityManager  # over this card alone
    refresh: Callable[[], Resources]  # read now (this card alone)


class Ended(NamedTuple):
    task: QueuedTask | None  # as the queue holds it afterwards (None: the claim was lost)
    interrupted: bool


def worker_id(gpu: int | None) -> tuple[str, str]:
    host = socket.gethostname()
    return host, f"{host}/{'cpu' if gpu is None else f'gpu{gpu}'}/{os.getpid()}"


class Worker:
    def __init__(self, store: Store, reopen: Callable[[], Store], card: Card, runner: list[str],
                 say: Callable[[Said], None], history_db: Path, words: Wording) -> None:
        self.store, self.reopen, self.card, self.runner, self.say = store, reopen, card, runner, say
        self.words = words  # how the plan file a runner reads words its notices (render/messages/plan.py)
        self.delivery = Delivery(store, history_db, say)
        self._unprepared: dict[int, tuple[QueuedTask, BaseException]] = {}  # plans that raised during a claim
        gpu = card.qm.resources.best_gpu
        self.gpu = gpu.index if gpu is not None else None
        host, wid = worker_id(self.gpu)
        capacity = PROCESSOR if gpu is None else card.qm.resources.idle_available(gpu)
        self.info = WorkerInfo(id=wid, host=host, gpu=self.gpu, card=gpu.name if gpu else "processor",
                               capacity=capacity, started_at=0.0, heartbeat=0.0, task=None)
        self._plans: dict[int, Plan] = {}
        self.policy = from_settings({})
        self._now: QualityManager = card.qm
        self._lease: str | None = None

    def _patiently(self, call: Callable[[], T]) -> T:
        """call(), again and again while the queue's database cannot be reached (waits of up to 5 s)."""
        waited, delay, warned = 0.0, 0.25, False
        while True:
            try:
                result = call()
            except Unreachable as e:
                if waited >= RECONNECT:
                    raise QueueGone(RECONNECT / 60) from None
                if not warned:
                    self.say(Said("unreachable", None, {"problem": e.message}))
                    warned = True
                time.sleep(delay)
                waited, delay = waited + delay, min(2 * delay, 5.0)
                continue
            if warned:
                self.say(Said("back"))
            return result

    def serve(self, once: bool, poll: float) -> Iterator[Ended]:
        """Claim and run tasks until interrupted (once: at most one); yields each task as it ends."""
        try:
            while True:
                self._patiently(lambda: self.delivery.deliver_kept(self.info.id))
                self._patiently(lambda: self.store.beat(self.info._replace(task=None)))
                self.policy = from_settings(self._patiently(self.store.settings))
                # Read the card before the claim: the claim holds the queue's lock only while it chooses.
                self._now = self.card.qm.on(self.card.refresh(), project=False)
                claimed = self._patiently(partial(self.store.claim, self.info, self._pick, claim_of()))
                self._fail_unprepared()
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
        from qms_cli.runs.running import plan_config_key

        if not snap.waiting:
            return
        cards = max(1, len(snap.workers))
        by_id = {t.id: t for t in snap.waiting}
        ranked = order(self.policy, [t.waiting() for t in snap.waiting], [(t.owner, t.tier) for t in snap.running],
                       cards, snap.now, snap.last_start)
        for w in ranked:
            t = by_id[w.id]
            if t.processor != (self.gpu is None):
                continue  # a task runs where it was planned: on a card, or on the processor
            try:
                plan = self._now.plan(t.function, t.requested, t.node, t.count, t.frames)
            except Exception as e:  # a bug, or a task this worker's profiles cannot plan: failed once claimed
                self._unprepared[t.id] = (t, e)
                continue
            same = plan_config_key(plan) == t.config_key
            if plan.route.runnable and (same or t.allow_fallback):  # nothing that lacks memory here now
                self._plans[t.id] = plan
                yield t, plan.route.chosen.tier.id

    def _fail_unprepared(self) -> None:
        """Tasks whose plan raised while this worker chose: each marked failed (if still waiting), and said."""
        failed, self._unprepared = self._unprepared, {}
        for t, error in failed.values():
            self._prepare_failed(t, error, partial(self.store.fail, t.id, _reason(error)))

    def _prepare_failed(self, t: QueuedTask, error: BaseException, mark: Callable[[], bool]) -> None:
        detail = "".join(traceback.format_exception(error)).rstrip()
        marked = self._patiently(mark)
        self.say(Said("prepare_failed", t.id, {"error": type(error).__name__, "detail": detail, "marked": marked}))

    def _run(self, t: QueuedTask) -> Ended:
        plan = self._plans.pop(t.id)
        self._plans.clear()
        r = plan.route.chosen
        with contextlib.suppress(DataError):
            self.store.beat(self.info._replace(task=t.id))
        self.say(Said("running", t.id, {"owner": t.owner, "function": t.function, "tier": r.tier.label,
                                        "low": r.prediction.low, "high": r.prediction.high}))
        if r.tier.id != t.tier:
            self.say(Said("lower", t.id, {"tier": r.tier.label}))
        try:
            prepared = self._prepare(t, plan)
        except Exception as e:  # marked failed rather than released: it would fail the same way anywhere
            why = _reason(e)
            self._prepare_failed(t, e, lambda: self.store.finish(t.id, self.info.id, "failed", why, None, None))
            return Ended(self._patiently(lambda: self.store.get(t.id)), False)
        stop, lost = threading.Event(), threading.Event()
        beats = threading.Thread(target=self._heartbeat, args=(t.id, stop, lost), daemon=True)
        beats.start()
        try:
            result = self._execute(t, plan, prepared, stop)
        except BaseException:
            stop.set()
            beats.join()
            with contextlib.suppress(DataError):  # else the task goes back when its claim runs out
                self.store.release(t.id, self.info.id)
            raise
        finally:
            self._lease = None
        cancelled_here = result.outcome == "cancelled" and not stop.is_set()
        stop.set()
        beats.join()
        if lost.is_set():
            self.say(Said("lost", t.id))
            return Ended(None, False)
        if cancelled_here:  # Ctrl-C or SIGTERM reached the worker
            self._patiently(lambda: self.store.release(t.id, self.info.id))
            self.say(Said("returned", t.id))
            return Ended(self._patiently(lambda: self.store.get(t.id)), True)
        reason = of_outcome(result.outcome, result.exit_code)
        item = entry(t.id, self.info.id, result.outcome, reason, result.exit_code, result.seconds,
                     self._row(t, plan, result))
        self.delivery.keep_and_deliver(t.id, item, self._patiently)
        ended = self._patiently(lambda: self.store.get(t.id))
        if ended is not None:
            self.say(Said("ended", t.id, {"state": ended.state, "seconds": result.seconds, "reason": reason}))
        return Ended(ended, False)

    def _prepare(self, t: QueuedTask, plan: Plan) -> tuple[Path, dict[str, str]]:
        """The runner's plan file and environment."""
        import io

        from qms_cli.plan.plan_json import PlanEncoder
        from qms_cli.runs import running

        doc = io.StringIO()
        PlanEncoder(self.card.qm.resources, words=self.words).write(doc, [(None, plan)], t.project, [])
        path = running.plan_file(doc.getvalue())
        try:
            env = running.environment(plan, path, dict(os.environ))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        # QMS_ATTEMPT: 2 and up when an earlier worker stopped mid-run (on another host that run may even
        # have finished: across hosts the queue runs a task at least once), so a runner can make reruns harmless.
        env.update(QMS_TASK_ID=str(t.id), QMS_OWNER=t.owner, QMS_ATTEMPT=str(t.attempts + 1))
        return path, env

    def _execute(self, t: QueuedTask, plan: Any, prepared: tuple[Path, dict[str, str]],
                 stop: threading.Event) -> Any:
        from qms_cli.runs import running

        path, env = prepared
        try:
            r = plan.route.chosen
            gpu = None if r.on_cpu or self.card.qm.resources.source != "nvml" else self.gpu
            return running.execute(self.runner, env, gpu, stop, spawn_options(),
                                   lambda pid: self._started(t.id, pid))
        finally:
            path.unlink(missing_ok=True)

    def _started(self, task_id: int, pid: int) -> None:
        """The runner runs: name it in the lease at once (the heartbeats repeat it)."""
        self._lease = claim_of(pid)
        with contextlib.suppress(DataError):
            self.store.heartbeat(task_id, self.info.id, self._lease)

    def _heartbeat(self, task_id: int, stop: threading.Event, lost: threading.Event) -> None:
        """Keep the claim alive from a connection of its own; stop the run if it was cancelled or given away."""
        store: Store | None = None
        try:
            while not stop.wait(HEARTBEAT):
                try:
                    store = store or self.reopen()
                    status = store.heartbeat(task_id, self.info.id, self._lease)
                except DataError:  # the database away: the next beat tries again (a bug is not caught here)
                    continue
                if status != "ok":
                    if status == "lost":
                        lost.set()
                    stop.set()
        finally:
            if store is not None:
                store.close()

    def _row(self, t: QueuedTask, plan: Plan, result: RunResult) -> dict[str, Any]:
        from qms_cli.runs import running

        return running.row(plan, result, project=t.project, fingerprint=self.card.qm.router.fingerprint_of_rung(
            plan.route.chosen), proceeded=None, source="queue")


def _reason(error: BaseException) -> Reason:
    return Reason("prepare_failed", {"error": type(error).__name__})


def runner_argv(runner: str | None) -> list[str]:
    """The runner command from --runner or $QMS_RUNNER, split as a shell would (no shell runs it)."""
    import shlex

    from qms_cli.env import text as variable

    text = runner or variable("QMS_RUNNER")
    if not text or not text.strip():
        raise UsageError("give the command that generates with --runner (or $QMS_RUNNER), e.g. "
                         "qms queue work --runner 'python generate.py'")
    try:
        return shlex.split(text)
    except ValueError as e:
        raise UsageError(f"--runner {text!r}: {e}") from None
