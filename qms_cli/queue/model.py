"""The queue's records: a task as stored, a task to add, a worker."""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at import.

from typing import Any, NamedTuple

from qms_cli.env import seconds
from qms_cli.queue.policy import Waiting

ACTIVE = ("queued", "running")
# Seconds a claim lives without a heartbeat before the task goes back to the queue ($QMS_QUEUE_LEASE, default
# 30), and between a worker's heartbeats (a sixth of that: five beats may be missed before a claim runs out).
LEASE = seconds("QMS_QUEUE_LEASE", 30.0, minimum=1.0, maximum=86400.0)
HEARTBEAT = LEASE / 6
ATTEMPTS = 3  # a task whose worker stopped this many times is failed rather than run again
PROCESSOR = -1  # the capacity of a worker (or a place in the queue's projection) that serves the processor


def on_processor(config_key: str) -> bool:
    """Whether a configuration (as the history keys it) runs on the processor: the ladder's last rung."""
    return config_key.endswith("|cpu")


class NewTask(NamedTuple):
    """A planned task, ready to store."""

    owner: str
    function: str
    requested: str  # the tier asked for (resolved: option, node, project or default)
    priority: int
    node: str | None
    count: int  # type: ignore[assignment]  # the column's name (shadows tuple.count)
    frames: int | None
    project: str | None
    allow_fallback: bool
    tier: str  # the tier the plan chose on an idle card
    config_key: str  # the configuration it chose
    need: int  # its predicted peak graphics memory, bytes
    predicted: float
    predicted_low: float
    predicted_high: float


class QueuedTask(NamedTuple):
    """A task as the queue holds it (columns of queue_tasks, in order)."""

    id: int
    queued_at: float
    owner: str
    function: str
    requested: str
    priority: int
    node: str | None
    count: int  # type: ignore[assignment]  # the column's name (shadows tuple.count)
    frames: int | None
    project: str | None
    allow_fallback: bool
    tier: str
    config_key: str
    need: int
    predicted: float
    predicted_low: float
    predicted_high: float
    state: str
    worker: str | None
    host: str | None
    gpu: int | None
    claimed_at: float | None
    heartbeat: float | None
    started_at: float | None
    finished_at: float | None
    attempts: int
    cancel_requested: bool
    ran_tier: str | None  # the tier it ran at (lower than `tier` only if fallback was allowed)
    outcome: str | None  # ok | failed | oom | cancelled | lost
    reason_kind: str | None  # why it ended (qms_cli/queue/reasons.py), worded by render
    reason_facts: dict[str, Any] | None  # the reason's facts (stored as JSON)
    exit_code: int | None
    actual_seconds: float | None
    lease: str | None  # who holds the claim: host, boot, worker and runner (qms_cli/queue/lease.py)

    def waiting(self) -> Waiting:
        """As the policy sees it. A task allowed to fall back fits any card; one planned on the processor runs
        only where a worker serves the processor."""
        processor = on_processor(self.config_key)
        need = 0 if self.allow_fallback or processor else self.need
        return Waiting(id=self.id, owner=self.owner, tier=self.tier, priority=self.priority, queued_at=self.queued_at,
                       seconds=self.predicted, need=need, processor=processor)

    @property
    def processor(self) -> bool:
        return on_processor(self.config_key)


COLUMNS = QueuedTask._fields
NEW_COLUMNS = NewTask._fields


class WorkerInfo(NamedTuple):
    """A worker as the queue knows it: one card on one host."""

    id: str
    host: str
    gpu: int | None
    card: str  # the card's name
    capacity: int  # graphics memory it can give a task when idle (total less the reserve), bytes
    started_at: float
    heartbeat: float
    task: int | None


WORKER_COLUMNS = WorkerInfo._fields
