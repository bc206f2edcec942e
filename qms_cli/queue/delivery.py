"""A finished run's outcome on its way to the history and the queue, through this machine's journal (journal.py):
written there first, then the history row, then the queue's record; each step survives being cut short.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError
from qms_cli.queue import journal
from qms_cli.queue.base import Store
from qms_cli.queue.events import Said
from qms_cli.queue.reasons import Reason, legacy


def entry(task_id: int, worker_id: str, outcome: str, reason: Reason | None, exit_code: int | None,
          seconds: float | None, row: dict[str, Any]) -> dict[str, Any]:
    """A journal entry: everything the history and the queue take of one finished run."""
    return {"task": task_id, "worker": worker_id, "outcome": outcome,
            "reason": None if reason is None else {"kind": reason.kind, "facts": reason.facts},
            "exit_code": exit_code, "seconds": seconds, "row": row, "recorded": False}


def reason_of(entry: dict[str, Any]) -> Reason | None:
    """The entry's reason; an entry an older qms wrote holds a sentence instead."""
    value = entry.get("reason")
    if isinstance(value, dict):
        return Reason(str(value.get("kind")), dict(value.get("facts") or {}))
    if isinstance(value, str):
        return legacy(value, str(entry.get("outcome")), entry.get("exit_code"), 0, True)
    return None


class Delivery:
    """Delivers outcomes into `store` and the history database at `history_db`; `say` hears what happens."""

    def __init__(self, store: Store, history_db: Path, say: Callable[[Said], None]) -> None:
        self.store, self.history_db, self.say = store, history_db, say

    def keep_and_deliver(self, task_id: int, item: dict[str, Any], patiently: Callable[[Callable[[], None]], None]
                         ) -> None:
        """Journal the outcome, then deliver it (waiting while the database is away)."""
        path = journal.path_for(self.store.key, task_id)
        with journal.taken(path):
            try:
                journal.write(path, item)
                kept: Path | None = path
            except DataError:  # no journal here: deliver straight away (lost if the worker dies meanwhile)
                kept = None
            patiently(lambda: self.deliver(kept, item))

    def deliver_kept(self, worker_id: str) -> None:
        """Outcomes left in this machine's journal (a database that was away, a worker killed meanwhile): into
        the history and the queue; then claims in this worker's name that it is not running go back."""
        left = []
        for path in journal.pending(self.store.key):
            with journal.taken(path) as mine:
                item = journal.read(path) if mine else None
                if item is None:
                    left.append(path)
                    continue
                self.deliver(path, item)
                self.say(Said("delivered", int(item["task"])))
        keep = [t for t in map(journal.task_of, left) if t is not None]
        self.store.release_strays(worker_id, keep)

    def deliver(self, path: Path | None, item: dict[str, Any]) -> None:
        """History first (once), then the queue, then the entry goes."""
        if not item["recorded"]:
            self.record(item["row"])
            item["recorded"] = True
            if path is not None:
                journal.write(path, item)
        self.store.finish(int(item["task"]), str(item["worker"]), str(item["outcome"]), reason_of(item),
                          item["exit_code"], item["seconds"])
        if path is not None:
            journal.remove(path)

    def record(self, row: dict[str, Any]) -> None:
        """Add the run to this machine's history; a history that cannot be written is a warning."""
        from qms_cli.runs import history

        try:
            conn = history.connect(self.history_db)
            try:
                history.insert(conn, [row])
            finally:
                conn.close()
        except DataError as e:
            self.say(Said("not_recorded", None, {"problem": e.message}))
