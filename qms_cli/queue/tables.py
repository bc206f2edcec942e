"""The queue's tables, for both databases (SQLite: part of the history's schema; PostgreSQL: created on connect).

`ddl` is the schema as it first shipped; later columns come by the same steps on both databases (SQLite: the
history's migrations; PostgreSQL: on connect, each only where it is missing): the lease (issue 15), and the
reason as a kind and facts (issue 16, qms_cli/queue/reasons.py).
"""

from __future__ import annotations


def ddl(*, key: str, real: str, big: str) -> str:
    """CREATE statements; key/real/big are the dialect's auto-increment key, float and 64-bit integer types."""
    return f"""
    CREATE TABLE IF NOT EXISTS queue_tasks (
        id {key},
        queued_at {real} NOT NULL,
        owner TEXT NOT NULL, function TEXT NOT NULL, requested TEXT NOT NULL,
        priority INTEGER NOT NULL, node TEXT, count INTEGER NOT NULL, frames INTEGER, project TEXT,
        allow_fallback INTEGER NOT NULL,
        tier TEXT NOT NULL, config_key TEXT NOT NULL, need {big} NOT NULL,
        predicted {real} NOT NULL, predicted_low {real} NOT NULL, predicted_high {real} NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        worker TEXT, host TEXT, gpu INTEGER,
        claimed_at {real}, heartbeat {real}, started_at {real}, finished_at {real},
        attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,
        ran_tier TEXT, outcome TEXT, reason TEXT, exit_code INTEGER, actual_seconds {real}
    );
    CREATE INDEX IF NOT EXISTS queue_tasks_state ON queue_tasks (state, id);
    CREATE INDEX IF NOT EXISTS queue_tasks_owner ON queue_tasks (owner, started_at);
    CREATE TABLE IF NOT EXISTS queue_workers (
        id TEXT PRIMARY KEY, host TEXT NOT NULL, gpu INTEGER, card TEXT NOT NULL, capacity {big} NOT NULL,
        started_at {real} NOT NULL, heartbeat {real} NOT NULL, task {big}
    );
    CREATE TABLE IF NOT EXISTS queue_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """


# Who holds a claim (worker and runner: host, boot, process ids and start times; JSON), issue 15. Added to
# queues made before it: SQLite's history migration 3; PostgreSQL on connect, only where it is missing (an
# ALTER TABLE takes the table's exclusive lock even when there is nothing to add, and would stall every claim).
LEASE_COLUMN = "ALTER TABLE queue_tasks ADD COLUMN lease TEXT"
def has_column(name: str) -> str:
    """PostgreSQL: a query with a row when queue_tasks has the column (an older qms made the table without it)."""
    return f"SELECT 1 FROM information_schema.columns WHERE table_name = 'queue_tasks' AND column_name = '{name}'"


HAS_LEASE = has_column("lease")

SQLITE = ddl(key="INTEGER PRIMARY KEY", real="REAL", big="INTEGER")
POSTGRES = ddl(key="BIGSERIAL PRIMARY KEY", real="DOUBLE PRECISION", big="BIGINT")
