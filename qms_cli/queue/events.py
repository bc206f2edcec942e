"""What a worker tells the person running it, as facts: render/messages/queue.py `worker_line` words each kind.

Kinds (task: the task's id, where there is one) and their facts:
  running        owner, function, tier (its label), low, high (seconds: the estimate)
  lower          tier (the label it runs at: lower than asked, allowed)
  lost           -   (the claim was given to another worker; the run here was stopped)
  returned       -   (Ctrl-C or SIGTERM: the task went back to the queue)
  ended          state, seconds, reason (a reasons.Reason or None)
  delivered      -   (an outcome kept on this machine reached the queue)
  prepare_failed error (its type), detail (the error and where: for a bug report); the task was marked failed
  unreachable    problem (why the database cannot be reached)
  back           -   (the database can be reached again)
  not_recorded   problem (why the history could not be written)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from qms_cli.errors import DataError


class Said(NamedTuple):
    kind: str
    task: int | None = None
    facts: dict[str, Any] = {}  # noqa: RUF012  # never changed after it is made


class QueueGone(DataError):
    """The queue's database could not be reached for `minutes`: the worker stops (cli words it)."""

    def __init__(self, minutes: float) -> None:
        super().__init__("queue_gone")
        self.minutes = minutes
