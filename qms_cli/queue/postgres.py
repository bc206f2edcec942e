"""The queue on PostgreSQL, for many machines (psycopg, the `postgres` extra).

What differs from SQLite: time is the server's clock (hosts' clocks need not agree), a claim locks only the
row it takes (FOR UPDATE SKIP LOCKED: two workers never wait on each other or take the same task), the
tables are created on first use under an advisory lock, and a connection lost (a server restarting) is
opened again on the next transaction; the one under way when it went fails with Unreachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from qms_cli.errors import DataError
from qms_cli.queue import reasons
from qms_cli.queue.base import Store, Tx, Unreachable
from qms_cli.queue.tables import HAS_LEASE, LEASE_COLUMN, POSTGRES

_LOCK = 0x716D7351  # pg_advisory_xact_lock key while creating the tables ("qmsQ")


def masked(url: str) -> str:
    """The address without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class PostgresStore(Store):
    """The queue in a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.where = self.key = masked(url)
        self.url = url
        try:
            import psycopg
        except ImportError:
            raise DataError(f"{self.where}: the PostgreSQL queue needs psycopg: pip install 'qms-cli[postgres]'"
                            ) from None
        self._errors: type[Exception] = psycopg.Error
        self._lost: type[Exception] = psycopg.OperationalError
        self.conn: Any = None
        try:
            self._connect()
        except Unreachable as e:
            raise DataError(e.message) from None
        with self.tx() as tx:
            tx.rows("SELECT pg_advisory_xact_lock(?)", (_LOCK,))
            for statement in POSTGRES.split(";"):
                if statement.strip():
                    tx.run(statement)
            if not tx.rows(HAS_LEASE):
                tx.run(LEASE_COLUMN)
            if not tx.rows(reasons.HAS_FACTS):
                reasons.upgrade(tx.rows, tx.run)

    def _connect(self) -> None:
        import psycopg

        try:
            self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5, application_name="qms")
        except psycopg.Error as e:
            raise Unreachable(f"{self.where}: cannot reach the queue database ({_first_line(e)})") from None

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        if self.conn is None or self.conn.closed or self.conn.broken:
            self._connect()
        try:
            with self.conn.transaction(), self.conn.cursor() as cursor:
                yield Tx(_Cursor(cursor), "%s")
        except self._lost as e:
            self.conn.close()
            raise Unreachable(f"{self.where}: lost the queue database ({_first_line(e)})") from None
        except self._errors as e:
            raise DataError(f"{self.where}: {_first_line(e)}") from None

    def now(self, tx: Tx) -> float:
        return float(tx.rows("SELECT extract(epoch FROM clock_timestamp())::float8")[0][0])

    def take(self, tx: Tx, task_id: int) -> bool:
        return bool(tx.rows("SELECT 1 FROM queue_tasks WHERE id = ? AND state = 'queued' FOR UPDATE SKIP LOCKED",
                            (task_id,)))

    def stale(self, tx: Tx, before: float) -> list[tuple[int, int, str | None]]:
        return [(int(i), int(a), h) for i, a, h in tx.rows(
            "SELECT id, attempts, lease FROM queue_tasks WHERE state = 'running' AND heartbeat < ? "
            "FOR UPDATE SKIP LOCKED", (before,))]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _Cursor:
    """psycopg's cursor, with fetchall() that is empty (not an error) after a statement without rows."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, args: tuple[Any, ...]) -> None:
        self.cursor.execute(sql, args)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.cursor.fetchall()) if self.cursor.description else []

    @property
    def rowcount(self) -> int:
        return int(self.cursor.rowcount)
