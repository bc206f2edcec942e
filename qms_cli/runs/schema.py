"""The history database's schema: the runs table, the queue's tables, and every version's migration step.

`runs/history.py` applies them (PRAGMA user_version counts the steps done); a new step is appended here with
LATEST raised, never an old one changed: a history written by any version of qms upgrades in order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from qms_cli.queue.tables import LEASE_COLUMN as QUEUE_LEASE
from qms_cli.queue.tables import SQLITE as QUEUE_TABLES

LATEST = 4
COLUMNS = ("started_at", "finished_at", "project", "node", "function", "requested", "chosen", "model",
           "resolution", "steps", "frames", "count", "options", "config_key", "device", "fingerprint",
           "model_seconds", "predicted_low", "predicted", "predicted_high", "predicted_peak", "actual_seconds",
           "actual_peak", "outcome", "exit_code", "fallback", "proceeded", "source")
OUTCOMES = ("ok", "failed", "oom", "cancelled")
MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection], Any]] = {
    1: f"""
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL, finished_at TEXT,
        project TEXT, node TEXT, function TEXT NOT NULL,
        requested TEXT NOT NULL, chosen TEXT NOT NULL,
        model TEXT, resolution INTEGER, steps INTEGER, frames INTEGER, count INTEGER NOT NULL DEFAULT 1,
        options TEXT, config_key TEXT, device TEXT, fingerprint TEXT,
        model_seconds REAL, predicted_low REAL, predicted REAL, predicted_high REAL, predicted_peak INTEGER,
        actual_seconds REAL, actual_peak INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN {OUTCOMES!r}),
        exit_code INTEGER, fallback INTEGER NOT NULL DEFAULT 0, proceeded INTEGER,
        source TEXT NOT NULL
    );
    CREATE INDEX runs_learning ON runs (fingerprint, config_key, started_at);
    CREATE INDEX runs_time ON runs (started_at);
    """,
    2: QUEUE_TABLES,  # qms queue: the same tables as the PostgreSQL queue's
    3: QUEUE_LEASE,  # who holds a queue claim (issue 15)
    4: lambda db: _queue_reasons(db),  # why a task ended: a kind and facts, not a sentence (issue 16)
}


def _queue_reasons(db: sqlite3.Connection) -> None:
    """History schema 4: the queue's stored reasons become kinds and facts (qms_cli/queue/reasons.py)."""
    from qms_cli.queue.reasons import upgrade

    upgrade(lambda sql, args: db.execute(sql, tuple(args)).fetchall(),
            lambda sql, args: db.execute(sql, tuple(args)).rowcount)
