"""Reasons stored as sentences by today's qms become kinds and facts (issue 16): a history database at schema 3
and a PostgreSQL queue made by today's code, with rows in them, opened by this qms; nothing else changes and
every reason reads as it did."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from qms_cli.queue.delivery import reason_of
from qms_cli.queue.reasons import Reason
from qms_cli.queue.store import SQLiteStore, Store, open_store
from qms_cli.render.queue import task_reason, view
from tests import postgres_server

# Today's queue: the tables as qms 0.x creates them (history schema 2 and 3; PostgreSQL on connect).
TODAY_TABLES = """
CREATE TABLE queue_tasks (
    id {key}, queued_at {real} NOT NULL,
    owner TEXT NOT NULL, function TEXT NOT NULL, requested TEXT NOT NULL,
    priority INTEGER NOT NULL, node TEXT, count INTEGER NOT NULL, frames INTEGER, project TEXT,
    allow_fallback INTEGER NOT NULL, tier TEXT NOT NULL, config_key TEXT NOT NULL, need {big} NOT NULL,
    predicted {real} NOT NULL, predicted_low {real} NOT NULL, predicted_high {real} NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    worker TEXT, host TEXT, gpu INTEGER,
    claimed_at {real}, heartbeat {real}, started_at {real}, finished_at {real},
    attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,
    ran_tier TEXT, outcome TEXT, reason TEXT, exit_code INTEGER, actual_seconds {real}, lease TEXT
);
CREATE TABLE queue_workers (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, gpu INTEGER, card TEXT NOT NULL, capacity {big} NOT NULL,
    started_at {real} NOT NULL, heartbeat {real} NOT NULL, task {big}
);
CREATE TABLE queue_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
TODAY_RUNS = """CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, project TEXT,
    node TEXT, function TEXT NOT NULL, requested TEXT NOT NULL, chosen TEXT NOT NULL, model TEXT, resolution INTEGER,
    steps INTEGER, frames INTEGER, count INTEGER NOT NULL DEFAULT 1, options TEXT, config_key TEXT, device TEXT,
    fingerprint TEXT, model_seconds REAL, predicted_low REAL, predicted REAL, predicted_high REAL,
    predicted_peak INTEGER, actual_seconds REAL, actual_peak INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'oom', 'cancelled')), exit_code INTEGER,
    fallback INTEGER NOT NULL DEFAULT 0, proceeded INTEGER, source TEXT NOT NULL)"""

# (state, outcome, reason as today's qms stored it, exit code, attempts, started) -> the kind and facts
ROWS = [
    (("done", "ok", None, 0, 0, True), None),
    (("failed", "failed", "the runner exited with code 2", 2, 0, True), Reason("runner_exit", {"code": 2})),
    (("failed", "oom", "ran out of graphics memory", 1, 0, True), Reason("out_of_memory", {})),
    (("failed", "lost", "its worker stopped 3 times", None, 3, True), Reason("worker_lost", {"times": 3})),
    (("failed", "lost", "its worker stopped 1 time", None, 1, True), Reason("worker_lost", {"times": 1})),
    (("cancelled", "cancelled", "cancelled before it started", None, 0, False), Reason("cancelled_waiting", {})),
    (("cancelled", "cancelled", "cancelled while running", 130, 0, True), Reason("cancelled_running", {})),
    (("queued", None, None, None, 1, False), None),
]
INSERT = ("INSERT INTO queue_tasks (queued_at, owner, function, requested, priority, count, allow_fallback, tier, "
          "config_key, need, predicted, predicted_low, predicted_high, state, outcome, reason, exit_code, attempts, "
          "started_at, finished_at) VALUES ({m}, 'ann', 'Create Image', 'low', 1, 1, 0, 'low', 'low|k', 1024, 10, 8, "
          "14, {m}, {m}, {m}, {m}, {m}, {m}, {m})")


def _values(n: int, row: tuple[object, ...]) -> tuple[object, ...]:
    state, outcome, reason, code, attempts, started = row
    return (1000.0 + n, state, outcome, reason, code, attempts, 1010.0 + n if started else None,
            1100.0 + n if state not in ("queued", "running") else None)


def check(store: Store) -> None:
    for n, (row, expected) in enumerate(ROWS, start=1):
        t = store.get(n)
        assert t is not None and (t.state, t.outcome, t.exit_code, t.attempts) == (row[0], row[1], row[3], row[4])
        got = None if t.reason_kind is None else Reason(t.reason_kind, t.reason_facts or {})
        assert got == expected, (n, row)
        assert task_reason(t) == row[2]  # read as today's qms says it
        assert view(t, None, 2000.0)["reason"] == row[2]


def test_a_history_written_by_todays_qms_keeps_its_runs_and_its_reasons_become_facts(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(TODAY_RUNS)
    conn.executescript(TODAY_TABLES.format(key="INTEGER PRIMARY KEY", real="REAL", big="INTEGER"))
    conn.execute("INSERT INTO runs (started_at, function, requested, chosen, outcome, source) VALUES "
                 "('2026-01-01', 'Create Image', 'low', 'low', 'ok', 'run')")
    for n, (row, _) in enumerate(ROWS, start=1):
        conn.execute(INSERT.format(m="?"), _values(n, row))
    conn.execute("PRAGMA user_version = 3")
    conn.execute(f"PRAGMA application_id = {0x716D7331}")
    conn.commit()
    conn.close()

    store = SQLiteStore(path)
    try:
        check(store)
        assert store.snapshot().waiting[0].id == len(ROWS)  # the waiting task still waits
    finally:
        store.close()
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(queue_tasks)")]
    stored = conn.execute("SELECT reason_kind, reason_facts FROM queue_tasks ORDER BY id").fetchall()
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    conn.close()
    assert "reason" not in columns and {"reason_kind", "reason_facts"} <= set(columns)
    assert version == 4 and runs == 1
    assert stored[1] == ("runner_exit", '{"code":2}') and stored[0] == (None, None)
    assert not any(" " in (kind or "") for kind, _ in stored)  # kinds, not sentences


def test_a_postgresql_queue_made_by_todays_qms_is_converted_once(pg_server: postgres_server.Server) -> None:
    import psycopg

    url = pg_server.database("migrate_reasons")
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in TODAY_TABLES.format(key="BIGSERIAL PRIMARY KEY", real="DOUBLE PRECISION",
                                             big="BIGINT").split(";"):
            if statement.strip():
                conn.execute(statement)  # type: ignore[arg-type]
        for n, (row, _) in enumerate(ROWS, start=1):
            conn.execute(INSERT.format(m="%s"), _values(n, row))  # type: ignore[arg-type]
    store = open_store(url, None)
    try:
        check(store)
    finally:
        store.close()
    again = open_store(url, None)  # opened again: nothing left to convert, nothing converted twice
    try:
        check(again)
    finally:
        again.close()
    with psycopg.connect(url) as conn:
        facts = conn.execute("SELECT reason_facts FROM queue_tasks WHERE id = 4").fetchone()
    assert facts is not None and json.loads(facts[0]) == {"times": 3}


def test_an_outcome_kept_by_todays_worker_is_delivered_with_its_reason_as_facts() -> None:
    kept = {"task": 3, "outcome": "failed", "reason": "the runner exited with code 5", "exit_code": 5}
    assert reason_of(kept) == Reason("runner_exit", {"code": 5})
    assert reason_of({"outcome": "ok", "reason": None}) is None
    assert reason_of({"outcome": "oom", "reason": {"kind": "out_of_memory", "facts": {}}}) == \
        Reason("out_of_memory", {})
