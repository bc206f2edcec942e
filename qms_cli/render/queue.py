"""The queue for programs: a task as `qms queue ... --json` gives it, its reason in words."""

from __future__ import annotations

from typing import Any

from qms_cli.queue.lease import parse as parse_lease
from qms_cli.queue.model import QueuedTask
from qms_cli.queue.policy import PRIORITIES
from qms_cli.queue.service import Estimate, iso
from qms_cli.render.messages.queue import task_reason


def view(t: QueuedTask, estimate: Estimate | None, now: float) -> dict[str, Any]:
    """A task as --json gives it (schemas/queue-task.schema.json)."""
    d = {("reason" if k == "reason_kind" else k): v for k, v in t._asdict().items() if k != "reason_facts"}
    d["reason"] = task_reason(t)
    for k in ("queued_at", "claimed_at", "heartbeat", "started_at", "finished_at"):
        d[k] = iso(d[k])
    d["priority"] = {v: k for k, v in PRIORITIES.items()}[t.priority]
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
