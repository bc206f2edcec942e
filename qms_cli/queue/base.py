"""The queue's operations, for both databases: every statement the queue runs is here, or in postgres.py (what
differs there: the clock, row locks, connecting); store.py has the SQLite store and opens either.

Claims are atomic: SQLite takes the database's write lock for the whole claim (BEGIN IMMEDIATE); PostgreSQL
locks the one row it takes (FOR UPDATE SKIP LOCKED), so workers on many hosts never take the same task.
A worker heartbeats its task every HEARTBEAT seconds; a task whose heartbeat is older than LEASE goes back to
the queue (or fails, after ATTEMPTS tries), whoever looks next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from qms_cli.errors import DataError
from qms_cli.queue.model import (
    ACTIVE,
    ATTEMPTS,
    COLUMNS,
    LEASE,
    NEW_COLUMNS,
    WORKER_COLUMNS,
    NewTask,
    QueuedTask,
    WorkerInfo,
)
from qms_cli.queue.reasons import Reason, decode, encode

_TASK = ", ".join(COLUMNS)
_FACTS = COLUMNS.index("reason_facts")  # stored as JSON text
_FINISHED = ("done", "failed", "cancelled")
# A claimed task back in the queue, as it was before the claim.
_BACK = ("state = 'queued', worker = NULL, host = NULL, gpu = NULL, claimed_at = NULL, heartbeat = NULL, "
         "started_at = NULL, ran_tier = NULL, lease = NULL")


WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)  # seconds, for the exporter's wait histogram


class Unreachable(DataError):
    """The queue's database cannot be reached now (a server restarting, the network away); try again later."""


class Stats(NamedTuple):
    """The queue in numbers, for the exporter."""

    tasks: list[tuple[str, str, str, int]]  # (state, tier, owner, count) of waiting and running tasks
    oldest: list[tuple[str, float]]  # (tier, seconds the oldest waiting task has waited)
    waits: list[tuple[str, tuple[int, ...], float]]  # (tier, cumulative counts per WAIT_BUCKETS then +Inf, sum)
    workers: int


class Snapshot(NamedTuple):
    """The active queue at one moment: waiting and running tasks, owners' latest starts, live workers."""

    now: float
    waiting: list[QueuedTask]
    running: list[QueuedTask]
    last_start: dict[str, float]
    workers: list[WorkerInfo]


def task(row: Sequence[Any]) -> QueuedTask:
    t = QueuedTask(*row)
    return t._replace(allow_fallback=bool(t.allow_fallback), cancel_requested=bool(t.cancel_requested),
                      reason_facts=decode(row[_FACTS]) if t.reason_kind else None)


Pick = Callable[[Snapshot], Iterable[tuple[QueuedTask, str]]]


class Tx:
    """One transaction: statements written with `?` placeholders."""

    def __init__(self, cursor: Any, mark: str) -> None:
        self.cursor, self.mark = cursor, mark

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql.replace("?", self.mark), tuple(args))
        return list(self.cursor.fetchall())

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        self.cursor.execute(sql.replace("?", self.mark), tuple(args))
        return int(self.cursor.rowcount)


class Store:
    """The queue's operations, on whichever database the subclass opens."""

    where: str  # the database, for messages
    key: str  # the database, as this machine's journal of undelivered outcomes names it

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        raise NotImplementedError

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """A transaction that only reads (stats for the exporter); a plain one where the database has no other."""
        with self.tx() as tx:
            yield tx

    # The time a claim's lease is measured by (SQLite; tests give their own). PostgreSQL uses the server's clock.
    clock: Callable[[], float] = time.time

    def now(self, tx: Tx) -> float:
        return self.clock()

    def take(self, tx: Tx, task_id: int) -> bool:
        """Hold task_id for this transaction if it is still queued."""
        return bool(tx.rows("SELECT 1 FROM queue_tasks WHERE id = ? AND state = 'queued'", (task_id,)))

    def close(self) -> None:
        raise NotImplementedError

    def add(self, new: NewTask) -> QueuedTask:
        marks = ", ".join("?" for _ in NEW_COLUMNS)
        with self.tx() as tx:
            (row,) = tx.rows(f"INSERT INTO queue_tasks (queued_at, {', '.join(NEW_COLUMNS)}, state) "
                             f"VALUES (?, {marks}, 'queued') RETURNING {_TASK}",
                             (self.now(tx), *{**new._asdict(), "allow_fallback": int(new.allow_fallback)}.values()))
        return task(row)

    def get(self, task_id: int) -> QueuedTask | None:
        with self.tx() as tx:
            rows = tx.rows(f"SELECT {_TASK} FROM queue_tasks WHERE id = ?", (task_id,))
        return task(rows[0]) if rows else None

    def snapshot(self) -> Snapshot:
        """The active queue (returning stalled claims to it first)."""
        with self.tx() as tx:
            return self._snapshot(tx, self.now(tx))

    def _snapshot(self, tx: Tx, now: float) -> Snapshot:
        self._reclaim(tx, now)
        active = [task(r) for r in tx.rows(
            f"SELECT {_TASK} FROM queue_tasks WHERE state IN {ACTIVE!r} ORDER BY id")]
        owners = sorted({t.owner for t in active})
        last: dict[str, float] = {}
        if owners:
            marks = ", ".join("?" for _ in owners)
            last = {o: s for o, s in tx.rows(f"SELECT owner, max(started_at) FROM queue_tasks WHERE owner IN "
                                             f"({marks}) AND started_at IS NOT NULL GROUP BY owner", owners)}
        workers = [WorkerInfo(*r) for r in tx.rows(
            f"SELECT {', '.join(WORKER_COLUMNS)} FROM queue_workers WHERE heartbeat >= ? ORDER BY id", (now - LEASE,))]
        return Snapshot(now, [t for t in active if t.state == "queued"], [t for t in active if t.state == "running"],
                        last, workers)

    def _reclaim(self, tx: Tx, now: float) -> None:
        """Claims that stopped heartbeating: back to the queue, or failed after ATTEMPTS tries. Not a claim
        whose worker or runner still lives on this machine, nor one whose outcome waits in its journal."""
        from qms_cli.queue import journal
        from qms_cli.queue.lease import holder_lives

        stale = self.stale(tx, now - LEASE)
        for task_id, attempts, held in stale:
            if holder_lives(held) or journal.holds(self.key, task_id):
                continue
            if attempts + 1 >= ATTEMPTS:
                tx.run("UPDATE queue_tasks SET state = 'failed', outcome = 'lost', finished_at = ?, attempts = ?, "
                       "reason_kind = 'worker_lost', reason_facts = ? WHERE id = ?",
                       (now, attempts + 1, encode({"times": attempts + 1}), task_id))
            else:
                tx.run(f"UPDATE queue_tasks SET {_BACK}, attempts = ? WHERE id = ?", (attempts + 1, task_id))

    def stale(self, tx: Tx, before: float) -> list[tuple[int, int, str | None]]:
        return [(int(i), int(a), h) for i, a, h in tx.rows(
            "SELECT id, attempts, lease FROM queue_tasks WHERE state = 'running' AND heartbeat < ?", (before,))]

    def claim(self, worker: WorkerInfo, pick: Pick, lease: str | None = None) -> QueuedTask | None:
        """Take the first task `pick` offers (in its order, with the tier it will run at) that is still queued;
        `lease` names who holds it (qms_cli/queue/lease.py)."""
        with self.tx() as tx:
            now = self.now(tx)
            snap = self._snapshot(tx, now)
            for t, ran_tier in pick(snap):
                if self.take(tx, t.id):
                    (row,) = tx.rows(
                        f"UPDATE queue_tasks SET state = 'running', worker = ?, host = ?, gpu = ?, claimed_at = ?, "
                        f"heartbeat = ?, started_at = ?, ran_tier = ?, lease = ? WHERE id = ? RETURNING {_TASK}",
                        (worker.id, worker.host, worker.gpu, now, now, now, ran_tier, lease, t.id))
                    return task(row)
        return None

    def heartbeat(self, task_id: int, worker_id: str, lease: str | None = None) -> str:
        """'ok', 'cancel' (someone cancelled it: stop the run) or 'lost' (the claim was given away)."""
        with self.tx() as tx:
            rows = tx.rows("UPDATE queue_tasks SET heartbeat = ?, lease = coalesce(?, lease) WHERE id = ? AND "
                           "worker = ? AND state = 'running' RETURNING cancel_requested",
                           (self.now(tx), lease, task_id, worker_id))
        return "lost" if not rows else "cancel" if rows[0][0] else "ok"

    def finish(self, task_id: int, worker_id: str, outcome: str, reason: Reason | None, exit_code: int | None,
               seconds: float | None) -> bool:
        """Record the end of a claimed run; False if the claim had been given away and taken again meanwhile.
        A task given back to the queue but not yet taken again takes the outcome: it is not run twice."""
        state = {"ok": "done", "cancelled": "cancelled"}.get(outcome, "failed")
        with self.tx() as tx:
            return tx.run("UPDATE queue_tasks SET state = ?, outcome = ?, reason_kind = ?, reason_facts = ?, "
                          "exit_code = ?, actual_seconds = ?, finished_at = ?, worker = ?, lease = NULL WHERE id = ? "
                          "AND ((worker = ? AND state = 'running') OR state = 'queued')",
                          (state, outcome, reason.kind if reason else None, encode(reason.facts) if reason else None,
                           exit_code, seconds, self.now(tx), worker_id, task_id, worker_id)) == 1

    def fail(self, task_id: int, reason: Reason) -> bool:
        """A waiting task that cannot be run (a worker could not prepare it): failed, with why."""
        with self.tx() as tx:
            return tx.run("UPDATE queue_tasks SET state = 'failed', outcome = 'failed', reason_kind = ?, "
                          "reason_facts = ?, finished_at = ? WHERE id = ? AND state = 'queued'",
                          (reason.kind, encode(reason.facts), self.now(tx), task_id)) == 1

    def release_strays(self, worker_id: str, keep: Sequence[int]) -> int:
        """Claims held in this worker's name that it is not running (a claim whose answer a lost connection
        swallowed): back to the queue. `keep`: tasks whose outcome waits in the journal."""
        kept = "".join(f" AND id <> {int(i)}" for i in keep)
        with self.tx() as tx:
            return tx.run(f"UPDATE queue_tasks SET {_BACK} WHERE worker = ? AND state = 'running'{kept}",
                          (worker_id,))

    def release(self, task_id: int, worker_id: str) -> bool:
        """The worker stopped before the run ended: the task goes back to the queue as it was."""
        with self.tx() as tx:
            return tx.run(f"UPDATE queue_tasks SET {_BACK} WHERE id = ? AND worker = ? AND state = 'running'",
                          (task_id, worker_id)) == 1

    def cancel(self, task_id: int) -> QueuedTask | None:
        """A waiting task is cancelled at once; a running one is asked to stop (its worker ends it)."""
        with self.tx() as tx:
            now = self.now(tx)
            tx.run("UPDATE queue_tasks SET state = 'cancelled', outcome = 'cancelled', finished_at = ?, "
                   "reason_kind = 'cancelled_waiting', reason_facts = '{}' WHERE id = ? AND state = 'queued'",
                   (now, task_id))
            tx.run("UPDATE queue_tasks SET cancel_requested = 1 WHERE id = ? AND state = 'running'", (task_id,))
            rows = tx.rows(f"SELECT {_TASK} FROM queue_tasks WHERE id = ?", (task_id,))
        return task(rows[0]) if rows else None

    def beat(self, worker: WorkerInfo) -> None:
        """Say the worker is alive (and which task it runs): insert or update its row."""
        with self.tx() as tx:
            now = self.now(tx)
            if not tx.run("UPDATE queue_workers SET heartbeat = ?, task = ?, capacity = ? WHERE id = ?",
                          (now, worker.task, worker.capacity, worker.id)):
                tx.run(f"INSERT INTO queue_workers ({', '.join(WORKER_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       tuple(worker._replace(started_at=now, heartbeat=now)))

    def leave(self, worker_id: str) -> None:
        with self.tx() as tx:
            tx.run("DELETE FROM queue_workers WHERE id = ?", (worker_id,))

    def settings(self) -> dict[str, str]:
        """The queue's policy settings (qms queue policy), name -> JSON text."""
        with self.tx() as tx:
            return {n: v for n, v in tx.rows("SELECT name, value FROM queue_settings")}

    def configure(self, values: dict[str, str]) -> None:
        with self.tx() as tx:
            for name, value in values.items():
                if not tx.run("UPDATE queue_settings SET value = ? WHERE name = ?", (value, name)):
                    tx.run("INSERT INTO queue_settings (name, value) VALUES (?, ?)", (name, value))

    def stats(self) -> Stats:
        from qms_cli.runs.tallies import histogram

        with self.reading() as tx:
            now = self.now(tx)
            tasks = [(st, t, o, int(n)) for st, t, o, n in tx.rows(
                f"SELECT state, tier, owner, count(*) FROM queue_tasks WHERE state IN {ACTIVE!r} "
                "GROUP BY state, tier, owner ORDER BY state, tier, owner")]
            oldest = [(t, now - float(q)) for t, q in tx.rows(
                "SELECT tier, min(queued_at) FROM queue_tasks WHERE state = 'queued' GROUP BY tier ORDER BY tier")]
            waits = histogram(tx.rows, "started_at - queued_at", WAIT_BUCKETS,
                              "queue_tasks WHERE started_at IS NOT NULL", by="tier")
            (workers,) = tx.rows("SELECT count(*) FROM queue_workers WHERE heartbeat >= ?", (now - LEASE,))[0]
        return Stats(tasks, oldest, [(t, counts, total) for t, (counts, total) in waits.items()], int(workers))

    def recent(self, limit: int) -> list[QueuedTask]:
        """The latest finished tasks, newest first."""
        with self.tx() as tx:
            return [task(r) for r in tx.rows(f"SELECT {_TASK} FROM queue_tasks WHERE state IN {_FINISHED!r} "
                                             "ORDER BY finished_at DESC, id DESC LIMIT ?", (limit,))]
