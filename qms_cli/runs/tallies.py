"""The history's numbers for the exporter, and the one histogram totaller (the queue's store uses it too): SQL
beside the history's store (history.py), read in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from qms_cli.runs.history import reading, select


def histogram(rows: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]], value: str, bounds: tuple[float, ...],
              source: str, by: str | None = None) -> dict[Any, tuple[tuple[int, ...], float]]:
    """A histogram of the SQL expression `value` over `source` (a table and its WHERE), in one query: per value
    of the column `by` (None: one group, keyed None), the cumulative counts at each bound then +Inf, and the sum.
    `rows` runs a statement (a history connection's, or a queue store transaction's). The exporter's histograms."""
    cases = " ".join(f"WHEN {value} <= {b} THEN {i}" for i, b in enumerate(bounds))
    group = f"{by}, " if by else ""
    counts: dict[Any, dict[int, int]] = {}
    sums: dict[Any, float] = {}
    for row in rows(f"SELECT {group}CASE {cases} ELSE {len(bounds)} END AS bucket, count(*), sum({value}) "
                    f"FROM {source} GROUP BY {group}bucket", ()):
        key = row[0] if by else None
        bucket, n, total = row[-3:]
        counts.setdefault(key, {})[int(bucket)] = int(n)
        sums[key] = sums.get(key, 0.0) + float(total)
    out: dict[Any, tuple[tuple[int, ...], float]] = {}
    for key in sorted(counts) if by else counts:
        cumulative, running = [], 0
        for i in range(len(bounds) + 1):
            running += counts[key].get(i, 0)
            cumulative.append(running)
        out[key] = (tuple(cumulative), sums[key])
    return out


def exporter_counts(db: sqlite3.Connection, ratio_bounds: tuple[float, ...]
                    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], tuple[int, ...], float]:
    """What the exporter publishes of the history, in one read transaction (the numbers agree with each other):
    (tier, function, outcome, count) of every run, (requested, chosen, count) of fallbacks, and the histogram of
    actual / estimated time of successful runs (cumulative counts per bound then +Inf, and the sum)."""
    with reading(db) as cursor:
        def rows(sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            return list(cursor.execute(sql, args).fetchall())

        runs = rows("SELECT chosen, function, outcome, count(*) FROM runs GROUP BY chosen, function, outcome", ())
        fallbacks = rows("SELECT requested, chosen, count(*) FROM runs WHERE fallback = 1 GROUP BY requested, chosen",
                         ())
        ratio = histogram(rows, "actual_seconds / predicted", ratio_bounds,
                          "runs WHERE outcome = 'ok' AND predicted > 0 AND actual_seconds > 0").get(None)
    buckets, total = ratio or ((0,) * (len(ratio_bounds) + 1), 0.0)
    return runs, fallbacks, buckets, total


def has_queue(db: sqlite3.Connection) -> bool:
    """Whether the history holds the queue's tables (a history from before the queue does not)."""
    return bool(select(db, "SELECT 1 FROM sqlite_master WHERE name = 'queue_tasks'"))
