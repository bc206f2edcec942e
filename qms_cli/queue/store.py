"""Where the queue lives: one interface (base.py), two databases: SQLite, in the history database (one machine),
here; PostgreSQL (many machines), postgres.py. Claims are atomic on both (base.py says how).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qms_cli.queue.base import WAIT_BUCKETS, Pick, Snapshot, Stats, Store, Tx, Unreachable, task

__all__ = ["WAIT_BUCKETS", "Pick", "SQLiteStore", "Snapshot", "Stats", "Store", "Tx", "Unreachable", "open_store",
           "task"]


class SQLiteStore(Store):
    """The queue in the history database (one machine)."""

    def __init__(self, path: Path, *, read_only: bool = False, clock: Callable[[], float] = time.time) -> None:
        from qms_cli.runs import history

        self.clock = clock
        self.where = str(path)
        self.key = str(path.resolve())
        self.db = history.open_read(path, check=False) if read_only else history.connect(path)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        from qms_cli.runs.history import reading

        with reading(self.db) as cursor:
            yield Tx(cursor, "?")

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        from qms_cli.runs.history import writing

        with writing(self.db) as cursor:
            yield Tx(cursor, "?")

    def close(self) -> None:
        self.db.close()


def open_store(queue: str | None, db: Path | None) -> Store:
    """The queue: --queue / $QMS_QUEUE_URL (postgresql://...), else the history database (--db, $QMS_DB)."""
    from qms_cli.env import text

    url = queue or text("QMS_QUEUE_URL")
    if url and url.startswith(("postgresql://", "postgres://")):
        from qms_cli.queue.postgres import PostgresStore

        return PostgresStore(url)
    if url:
        from qms_cli.errors import UsageError

        raise UsageError(f"--queue {url!r}: give a postgresql://user@host/database address (or leave it out to "
                         "use this machine's database)")
    from qms_cli.runs import history

    return SQLiteStore(db or history.default_path())
