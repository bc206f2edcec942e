"""Why a task ended, as the queue stores it: a kind and its facts (JSON), never a sentence (issue 16).
render/messages/queue.py `reason` words them.

Kinds and their facts:
  cancelled_waiting   {}                 cancelled before it started
  cancelled_running   {}                 cancelled while running
  out_of_memory       {}                 the run ran out of graphics memory
  runner_exit         {"code": int}      the runner exited with a code other than 0
  worker_lost         {"times": int}     its worker stopped answering this many times (ATTEMPTS): given up
  prepare_failed      {"error": str}     the worker could not prepare the run (qms's own error, by type name)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from qms_cli.queue.tables import has_column

KINDS = ("cancelled_waiting", "cancelled_running", "out_of_memory", "runner_exit", "worker_lost", "prepare_failed")


class Reason(NamedTuple):
    kind: str
    facts: dict[str, Any]


def of_outcome(outcome: str, exit_code: int | None) -> Reason | None:
    """Why a run ended, from the runner's outcome (ok | failed | oom | cancelled): None for ok."""
    if outcome == "ok":
        return None
    if outcome == "cancelled":
        return Reason("cancelled_running", {})
    if outcome == "oom":
        return Reason("out_of_memory", {})
    return Reason("runner_exit", {"code": exit_code})


def encode(facts: dict[str, Any] | None) -> str | None:
    return None if facts is None else json.dumps(facts, separators=(",", ":"), sort_keys=True)


def decode(text: str | None) -> dict[str, Any]:
    try:
        facts = json.loads(text) if text else {}
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}


# The sentences qms stored before schema 4 (history) / the reason_facts column (PostgreSQL), read once to
# convert them; anything else is known by the task's outcome instead.
_LEGACY: list[tuple[re.Pattern[str], Callable[[tuple[str, ...]], Reason]]] = [
    (re.compile(r"cancelled before it started"), lambda g: Reason("cancelled_waiting", {})),
    (re.compile(r"cancelled while running"), lambda g: Reason("cancelled_running", {})),
    (re.compile(r"ran out of graphics memory"), lambda g: Reason("out_of_memory", {})),
    (re.compile(r"the runner exited with code (-?\d+)"), lambda g: Reason("runner_exit", {"code": int(g[0])})),
    (re.compile(r"its worker stopped (\d+) times?"), lambda g: Reason("worker_lost", {"times": int(g[0])})),
]


def legacy(text: str, outcome: str | None, exit_code: int | None, attempts: int, started: bool) -> Reason:
    """A sentence stored by an older qms, as a kind and facts."""
    for pattern, make in _LEGACY:
        found = pattern.fullmatch(text.strip())
        if found:
            return make(found.groups())
    if outcome == "lost":
        return Reason("worker_lost", {"times": attempts})
    if outcome == "cancelled":
        return Reason("cancelled_running" if started else "cancelled_waiting", {})
    return of_outcome(outcome or "failed", exit_code) or Reason("runner_exit", {"code": exit_code})


Rows = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
Run = Callable[[str, Sequence[Any]], int]

# The reason column becomes the kind, beside a column of facts (both databases support RENAME COLUMN).
RENAME = "ALTER TABLE queue_tasks RENAME COLUMN reason TO reason_kind"
ADD_FACTS = "ALTER TABLE queue_tasks ADD COLUMN reason_facts TEXT"
HAS_FACTS = has_column("reason_facts")


def upgrade(rows: Rows, run: Run) -> int:
    """Convert the stored sentences to kinds and facts, in the transaction given (the columns renamed and added
    first); returns how many rows changed."""
    run(RENAME, ())
    run(ADD_FACTS, ())
    changed = 0
    for task_id, text, outcome, code, attempts, started in rows(
            "SELECT id, reason_kind, outcome, exit_code, attempts, started_at FROM queue_tasks "
            "WHERE reason_kind IS NOT NULL", ()):
        reason = legacy(str(text), outcome, code, int(attempts), started is not None)
        changed += run("UPDATE queue_tasks SET reason_kind = ?, reason_facts = ? WHERE id = ?",
                       (reason.kind, encode(reason.facts), task_id))
    return changed
