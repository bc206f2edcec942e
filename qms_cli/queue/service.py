"""The queue for people and programs: plan a task into it, and say where each task stands and when it should
start and finish.

A task is planned as `qms plan` plans it (the same ladder, the processor its last rung) on an idle card: the
largest card a live worker serves, else this machine's (none: the processor). If it would need a lower quality
even there, it is refused unless fallback was allowed: it could never start as asked. A task planned on the
processor waits for a worker that serves the processor; one planned on a card, for a card.

Start and finish times come from playing the queue forward under the policy three times, with every run at
the low end, the middle and the high end of its estimate; tasks added later (a newcomer may go first under
the fair policy) and runs that overrun their estimate move them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from qms_cli.errors import Declined, UsageError
from qms_cli.queue.engine import Busy, play
from qms_cli.queue.model import PROCESSOR, NewTask, WorkerInfo
from qms_cli.queue.policy import PRIORITIES, Policy, fits
from qms_cli.queue.store import Snapshot

if TYPE_CHECKING:
    from qms_cli.hardware import Resources
    from qms_cli.plan.manager import Plan, QualityManager
    from qms_cli.plan.planner import Planner


class Spec(NamedTuple):
    """What `qms queue add` was asked."""

    function: str
    quality: str | None
    priority: str
    owner: str
    node: str | None = None
    count: int = 1  # type: ignore[assignment]  # shadows tuple.count
    frames: int | None = None
    seconds: float | None = None
    allow_fallback: bool = False


class Estimate(NamedTuple):
    """Where a task stands: its place in line (0: running; None: nothing serving the queue can take it) and
    seconds from now to its start and finish. The one answer every view gives (add, list, show, wait)."""

    position: int | None
    start: tuple[float, float]
    finish: tuple[float, float]
    processor: bool = False  # it runs on the processor (where it waits, when nothing can take it)


class NeverFits(Declined):
    """A task that could never start as asked, with the facts (render/messages `never_fits` words them):
    the function, the quality asked and the one it would get (names), on the processor, and what serves the
    queue: "card", "processor", "here" (no worker: this machine's card) or "no card"."""

    def __init__(self, function: str, requested: str, actual: str, processor: bool, serving: str) -> None:
        super().__init__("never_fits")
        self.facts = (function, requested, actual, processor, serving)


def owner() -> str:
    """The login name (the default owner)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "someone"


def idle_resources(qm: Planner, workers: list[WorkerInfo]) -> Resources:
    """The card a task is planned on: the largest a live worker serves (idle), else this machine's, idle;
    with only workers that serve the processor, no card."""
    from qms_cli.hardware.resources import Gpu

    res = qm.resources
    if workers and all(w.capacity == PROCESSOR for w in workers):
        return res._replace(gpus=())
    if workers:
        w = max(workers, key=lambda w: (w.capacity, w.id))
        card = Gpu(index=w.gpu or 0, name=w.card, total=w.capacity, used=0, free=w.capacity)
        return res._replace(gpus=(card,), reserve=0, source="queue")
    return res._replace(gpus=tuple(replace(g, free=g.total, used=0) for g in res.gpus if g.usable))


def plan_task(qm: QualityManager, spec: Spec, workers: list[WorkerInfo]) -> tuple[NewTask, Plan]:
    """The task as the queue stores it, and its plan; NeverFits if it could never start as asked."""
    from qms_cli.runs.running import plan_config_key

    if spec.priority not in PRIORITIES:
        raise UsageError(f"--priority {spec.priority!r} is not a priority; choose one of: {', '.join(PRIORITIES)}")
    if not spec.owner.strip():
        raise UsageError("--owner must not be empty")
    idle: Planner = qm.on(idle_resources(qm, workers))
    plan = idle.plan(spec.function, spec.quality, spec.node, spec.count, spec.frames, spec.seconds)
    r = plan.route.chosen
    if plan.fallback and not spec.allow_fallback:
        serving = "card" if any(w.capacity != PROCESSOR for w in workers) else "processor" if workers else None
        raise NeverFits(plan.route.function, plan.route.requested.name, r.tier.name, r.on_cpu,
                        serving or ("here" if idle.resources.gpus else "no card"))
    p = r.prediction
    project = str(qm.project.path) if qm.project else None
    new = NewTask(owner=spec.owner.strip(), function=plan.route.function, requested=plan.route.requested.id,
                  priority=PRIORITIES[spec.priority], node=spec.node, count=spec.count, frames=plan.frames,
                  project=project, allow_fallback=spec.allow_fallback, tier=r.tier.id, config_key=plan_config_key(plan),
                  need=int(p.peak), predicted=float(p.seconds), predicted_low=float(p.low),
                  predicted_high=float(p.high))
    return new, plan


def cards_of(resources: Resources) -> list[int]:
    """What each usable card of a machine could give a task when idle; none: the processor (PROCESSOR)."""
    return [resources.idle_available(g) for g in resources.gpus if g.usable] or [PROCESSOR]


def cards(snap: Snapshot, local: list[int]) -> list[int]:
    """What each card serving the queue can give a task (PROCESSOR: a worker on the processor): the live
    workers', else this machine's."""
    return [w.capacity for w in snap.workers] or local


def project(snap: Snapshot, policy: Policy, capacities: list[int]) -> dict[int, Estimate]:
    """Each active task's place in line and start and finish ranges, if the queue stays as it is."""
    if not capacities:
        return {}
    card_of = {w.task: i for i, w in enumerate(snap.workers) if w.task is not None}
    free_cards = [i for i in range(len(capacities)) if i not in card_of.values()]
    runs: list[dict[int, float]] = []
    starts: list[dict[int, float]] = []
    order: list[int] = []
    for pick in ("predicted_low", "predicted", "predicted_high"):
        busy = []
        spare = list(free_cards)
        for t in snap.running:
            card = card_of.get(t.id)
            if card is None:
                card = next((i for i in spare if fits(t.waiting(), capacities[i])), None)
                if card is not None:
                    spare.remove(card)
            if card is None:
                continue
            left = max(0.0, (t.started_at or snap.now) + getattr(t, pick) - snap.now)
            overdue = (t.started_at or 0) - t.queued_at >= policy.max_wait
            busy.append(Busy(card=card, owner=t.owner, tier=t.tier, finish=snap.now + left, overdue=overdue))
        tasks = [(t.waiting(), float(getattr(t, pick))) for t in snap.waiting]
        outcomes = play(tasks, capacities, policy, now=snap.now, busy=busy, last_start=snap.last_start)
        starts.append({o.task.id: o.start - snap.now for o in outcomes})
        runs.append({o.task.id: o.run for o in outcomes})
        if pick == "predicted":
            order = [o.task.id for o in sorted(outcomes, key=lambda o: (o.start, o.task.queued_at))]
    where = {t.id: t.processor for t in snap.waiting + snap.running}
    out = {t.id: Estimate(None, (math.inf, math.inf), (math.inf, math.inf), where[t.id]) for t in snap.waiting}
    for position, task_id in enumerate(order, start=1):
        known = [s[task_id] for s in starts if task_id in s]
        lo, hi = min(known), max(known)
        out[task_id] = Estimate(position, (lo, hi), (lo + runs[0].get(task_id, 0.0), hi + runs[2].get(task_id, 0.0)),
                                where[task_id])
    for t in snap.running:
        elapsed = snap.now - (t.started_at or snap.now)
        out[t.id] = Estimate(0, (-elapsed, -elapsed), (max(0.0, t.predicted_low - elapsed),
                                                         max(0.0, t.predicted_high - elapsed)), where[t.id])
    return out


def iso(ts: float | None) -> str | None:
    """A queue time (seconds since the epoch) as ISO 8601, UTC."""
    from datetime import datetime, timezone

    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")
