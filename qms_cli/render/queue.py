"""The queue for people and programs: a task as `qms queue ... --json` gives it, a stored reason and what a
worker says (facts from the core) in words, from the catalogue (render/messages/queue.py)."""

from __future__ import annotations

from typing import Any

from qms_cli.queue.events import Said
from qms_cli.queue.lease import parse as parse_lease
from qms_cli.queue.model import QueuedTask
from qms_cli.queue.policy import PRIORITY_NAMES
from qms_cli.queue.service import Estimate, iso
from qms_cli.render import messages as m


def task_reason(task: QueuedTask) -> str | None:
    """A stored task's reason, in words."""
    return None if task.reason_kind is None else m.reason(task.reason_kind, task.reason_facts)


def worker_line(said: Said) -> str:
    """What a worker says (qms_cli/queue/events.py), in words."""
    f, task = said.facts, said.task or 0
    kind = said.kind
    if kind == "running":
        return m.worker_running(task, f["owner"], f["function"], f["tier"], m.duration_range(f["low"], f["high"]))
    if kind == "ended":
        why = f["reason"]
        return m.ended(task, f["state"], f["seconds"], m.reason(why.kind, why.facts) if why is not None else None)
    if kind == "prepare_failed":
        return m.worker_prepare_failed(task, f["error"], f["marked"], f["detail"])
    if kind in ("unreachable", "not_recorded"):
        return (m.queue_unreachable if kind == "unreachable" else m.not_recorded)(f["problem"])
    if kind == "lower":
        return m.worker_lower(task, f["tier"])
    said_of_task = {"lost": m.worker_lost, "returned": m.worker_returned, "delivered": m.outcome_delivered}
    return said_of_task[kind](task) if kind in said_of_task else m.QUEUE_BACK


def view(t: QueuedTask, estimate: Estimate | None, now: float) -> dict[str, Any]:
    """A task as --json gives it (schemas/queue-task.schema.json)."""
    d = {("reason" if k == "reason_kind" else k): v for k, v in t._asdict().items() if k != "reason_facts"}
    d["reason"] = task_reason(t)
    for k in ("queued_at", "claimed_at", "heartbeat", "started_at", "finished_at"):
        d[k] = iso(d[k])
    d["priority"] = PRIORITY_NAMES[t.priority]
    d["lease"] = parse_lease(t.lease)
    d["need_bytes"] = d.pop("need")
    d["predicted_seconds"] = [t.predicted_low, t.predicted, t.predicted_high]
    for k in ("predicted", "predicted_low", "predicted_high"):
        d.pop(k)
    known = estimate is not None and estimate.position is not None and t.state in ("queued", "running")
    d["position"] = estimate.position if known and estimate else None
    d["starts_in_seconds"] = list(estimate.start) if known and estimate and estimate.position else None
    d["finishes_in_seconds"] = list(estimate.finish) if known and estimate else None
    d["starts_at"] = [iso(now + s) for s in estimate.start] if known and estimate and estimate.position else None
    d["finishes_at"] = [iso(now + s) for s in estimate.finish] if known and estimate else None
    d["as_of"] = iso(now)
    return d
