"""The history of real runs: SQLite (WAL), versioned with PRAGMA user_version; the queue's tables live here too.

Every statement qms runs on the history lives here. A database written by a newer qms, or one that is not a
qms history at all, is reported and never written to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError

# what the history's tables are and how each version came about: runs/schema.py
from qms_cli.runs.schema import COLUMNS as COLUMNS
from qms_cli.runs.schema import LATEST as LATEST
from qms_cli.runs.schema import MIGRATIONS as MIGRATIONS
from qms_cli.runs.schema import OUTCOMES as OUTCOMES


def default_path() -> Path:
    """$QMS_DB, else history.sqlite3 in the user data folder (--db overrides both)."""
    from qms_cli.paths import history_file

    return history_file()


APPLICATION_ID = 0x716D7331  # "qms1" in the header's application_id field: this file is a qms history


def _timeout() -> float:
    from qms_cli.env import seconds

    return seconds("QMS_DB_TIMEOUT", 10.0, minimum=0.0, maximum=86400.0)


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """An open history database for writing, migrated and checked; DataError (nothing written) if it cannot
    be used: not a history, written by a newer qms, or damaged (PRAGMA quick_check, before any write)."""
    if not create and not path.exists():
        raise DataError(f"{path}: no history yet (qms run and qms record write it)")
    timeout = _timeout()
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        raise DataError(f"{path}: cannot open the history database ({e})") from None
    with _closed_on_error(db, path):
        version = _identify(db, path)
        _check(db, path)
        if version < LATEST:
            _migrate(db, path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    return db


def open_read(path: Path, *, check: bool = True) -> sqlite3.Connection:
    """The history opened read-only (no migration, no journal change, no lock a writer waits on); check: run
    PRAGMA quick_check first (what a whole-history command costs anyway; planning skips it). DataError if it
    does not exist, is not a history, or is damaged."""
    from urllib.parse import quote

    if not path.is_file():
        raise DataError(f"{path}: no history yet (qms run and qms record write it)")
    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", timeout=_timeout(),
                             isolation_level=None, uri=True)
    except sqlite3.Error as e:
        raise DataError(f"{path}: cannot open the history database ({e})") from None
    with _closed_on_error(db, path):
        if _identify(db, path) == 0:
            raise DataError(f"{path}: no history yet (qms run and qms record write it)")
        if check:
            _check(db, path)
    return db


@contextmanager
def _closed_on_error(db: sqlite3.Connection, path: Path) -> Iterator[None]:
    """Opening a history: any failure closes the connection; a damaged file is a DataError naming it."""
    try:
        yield
    except sqlite3.DatabaseError as e:
        db.close()
        raise DataError(why(path, e)) from None
    except DataError:
        db.close()
        raise


def _identify(db: sqlite3.Connection, path: Path) -> int:
    """The history's schema version (0: an empty file, a new history); DataError for a file that is not a qms
    history or was written by a newer qms. Reads the header and the schema only, so it runs before any write."""
    application = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    ours = application == APPLICATION_ID
    if application not in (0, APPLICATION_ID) or (version == 0 and tables):
        raise DataError(f"{path}: this SQLite database is not a qms history (it has other tables); "
                        "it was left untouched: use another --db")
    if version > LATEST and (ours or "runs" in tables):
        raise DataError(f"{path}: written by a newer qms (history schema {version}; this qms knows up to "
                        f"{LATEST}); it was left untouched: upgrade qms, or use another --db")
    if version and not ours:  # a history from before application_id: know it by its runs table
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        if version > LATEST or not set(COLUMNS) <= columns:
            raise DataError(f"{path}: this SQLite database is not a qms history (schema {version} without qms's "
                            "tables); it was left untouched: use another --db")
    return int(version)


def _check(db: sqlite3.Connection, path: Path) -> None:
    """PRAGMA quick_check (about 2 ms for 1,000 runs, 21 ms for 10,000, 130 ms for 100,000 on a 2-core sandbox);
    a damaged history is refused rather than written into or half read."""
    found = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        first = found[0].replace("*** in database main ***", "").strip().splitlines()[0] if found else "?"
        raise DataError(f"{path}: the history database is damaged ({first}); it was left untouched: restore a "
                        "backup, or move it aside to start a new history")


def why(path: Path, e: sqlite3.Error) -> str:
    text = str(e)
    if "locked" in text or "busy" in text:
        return f"{path}: the history database is busy (locked by another process for {_timeout():.0f} s)"
    if "readonly" in text or "read-only" in text:
        return f"{path}: the history database is read-only ({text})"
    if "not a database" in text or "malformed" in text:
        return f"{path}: not a qms history database, or damaged ({text}); it was left untouched"
    return f"{path}: {text}"


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to LATEST in one transaction (another process may be doing the same)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _identify(db, path)  # again, under the write lock
        for step in range(version + 1, LATEST + 1):
            migration = MIGRATIONS[step]
            if callable(migration):
                migration(db)
            else:
                for statement in migration.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {step}")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


@contextmanager
def writing(db: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """One write transaction (BEGIN IMMEDIATE: the write lock from the start), rolled back on any error;
    a database error becomes a DataError that says what is wrong."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db.cursor()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.Error as e:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise DataError(why(Path(db_path(db)), e)) from None


@contextmanager
def reading(db: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """One read transaction (BEGIN DEFERRED: a consistent snapshot, and no write lock a writer waits on)."""
    try:
        db.execute("BEGIN")
        try:
            yield db.cursor()
        finally:
            db.execute("COMMIT")
    except sqlite3.Error as e:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise DataError(why(Path(db_path(db)), e)) from None


def insert(db: sqlite3.Connection, rows: list[dict[str, Any]]) -> int:
    """Add rows (dicts keyed by COLUMNS) in one transaction; returns how many."""
    marks = ", ".join("?" for _ in COLUMNS)
    with writing(db) as cursor:
        cursor.executemany(f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({marks})",
                           [tuple(r.get(c) for c in COLUMNS) for r in rows])
    return len(rows)


def db_path(db: sqlite3.Connection) -> str:
    return str(db.execute("PRAGMA database_list").fetchone()[2])


def select(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query, read whole; a database error becomes a DataError that says what is wrong."""
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        raise DataError(why(Path(db_path(db)), e)) from None


def rows(db: sqlite3.Connection, *, since: str | None = None, limit: int | None = None,
         newest_first: bool = False, columns: tuple[str, ...] = ("id", *COLUMNS)) -> Iterator[tuple[Any, ...]]:
    """Rows, oldest first (or newest first), from `since` (ISO time) on."""
    sql = f"SELECT {', '.join(columns)} FROM runs"
    args: list[Any] = []
    if since:
        sql += " WHERE started_at >= ?"
        args.append(since)
    sql += " ORDER BY started_at DESC, id DESC" if newest_first else " ORDER BY started_at, id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    try:
        yield from db.execute(sql, args)
    except sqlite3.Error as e:
        raise DataError(why(Path(db_path(db)), e)) from None


def prune(db: sqlite3.Connection, before: str) -> int:
    """Delete the rows started before `before` (ISO time); returns how many."""
    with writing(db) as cursor:
        n = cursor.execute("DELETE FROM runs WHERE started_at < ?", (before,)).rowcount
    return int(n)


def ratios(db: sqlite3.Connection, fingerprints: list[str], per_key: int = 20) -> dict[tuple[str, str], list[float]]:
    """(fingerprint, configuration) -> actual / model time of its latest successful runs, newest first."""
    marks = ", ".join("?" for _ in fingerprints)
    sql = f"""
        SELECT fingerprint, config_key, actual_seconds / model_seconds FROM (
            SELECT fingerprint, config_key, actual_seconds, model_seconds,
                   row_number() OVER (PARTITION BY fingerprint, config_key ORDER BY started_at DESC, id DESC) AS n
            FROM runs
            WHERE outcome = 'ok' AND fingerprint IN ({marks}) AND model_seconds > 0 AND actual_seconds > 0)
        WHERE n <= ?"""
    out: dict[tuple[str, str], list[float]] = {}
    for fp, key, ratio in select(db, sql, (*fingerprints, per_key)):
        out.setdefault((fp, key), []).append(ratio)
    return out


def accuracy_rows(db: sqlite3.Connection, since: str | None = None) -> list[tuple[Any, ...]]:
    """(chosen, function, predicted, actual seconds, started at) of the successful runs timed both ways."""
    return select(db, "SELECT chosen, function, predicted, actual_seconds, started_at FROM runs WHERE outcome = 'ok'"
                  " AND actual_seconds > 0 AND predicted > 0" + (" AND started_at >= ?" if since else ""),
                  (since,) if since else ())


def stats_rows(db: sqlite3.Connection, since: str | None = None) -> list[tuple[Any, ...]]:
    """(chosen, function, outcome, fallback, proceeded, actual seconds) of each run; a recorded run (qms record)
    asked nobody, whatever its row says (older versions stored "went ahead"): proceeded None."""
    return select(db, "SELECT chosen, function, outcome, fallback, CASE WHEN source = 'record' THEN NULL ELSE "
                  "proceeded END, actual_seconds FROM runs" + (" WHERE started_at >= ?" if since else ""),
                  (since,) if since else ())
