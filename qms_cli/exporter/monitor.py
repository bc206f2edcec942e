"""What the exporter publishes, gathered on an interval: cards, tiers on this machine, and the history.

A snapshot is plain data; metrics.py turns the latest one into Prometheus metrics when scraped, so a scrape
never waits on NVML or the database.
"""

from __future__ import annotations

import socket
import time
from typing import Any, NamedTuple

RATIO_BUCKETS = (0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)  # actual / estimated time


class CardSample(NamedTuple):
    gpu: str
    uuid: str
    model_name: str
    total: int | None
    used: int | None
    free: int | None
    reserved: int | None
    available: int
    up: bool


class Snapshot(NamedTuple):
    hostname: str
    taken_at: float
    cards: tuple[CardSample, ...]
    available: int  # on the best card
    tiers: tuple[tuple[str, str, bool, float], ...]  # (tier, function, runs here as asked, predicted seconds)
    runs: tuple[tuple[str, str, str, int], ...]  # (tier, function, outcome, count)
    fallbacks: tuple[tuple[str, str, int], ...]  # (requested, actual, count)
    ratio_buckets: tuple[int, ...]  # cumulative counts per RATIO_BUCKETS, then +Inf
    ratio_sum: float
    queue: Any = None  # queue.store.Stats, when there is a queue


def take(*, hostname: str | None = None, profiles: str | None = None, hardware: str | None = None,
         vram_limit: str | None = None, reserve: str | None = None, db: str | None = None,
         queue: str | None = None) -> Snapshot:
    """Probe, route every tier and function here, and count the history and the queue."""
    from qms_cli.plan.manager import QualityManager

    qm = QualityManager.from_project(None, profiles=profiles, vram_limit=vram_limit, reserve=reserve,
                                     hardware=hardware, db=db)
    res = qm.resources
    cards = tuple(CardSample(str(g.index), g.uuid or "", g.name, g.total, g.used, g.free, g.reserved,
                             res.available(g), g.usable) for g in res.gpus)
    tiers = []
    for tier in qm.catalog.tiers.tiers:
        for fn in qm.catalog.tiers.functions:
            route = qm.router.route(fn, tier)
            runs_here = route.chosen.tier.id == tier.id and not route.chosen.on_cpu
            tiers.append((tier.id, fn, runs_here, route.chosen.prediction.seconds))
    runs, fallbacks, buckets, total = _history(db)
    return Snapshot(hostname or socket.gethostname(), time.time(), cards, res.available_vram, tuple(tiers), runs,
                    fallbacks, buckets, total, _queue(queue, db))


def _queue(url: str | None, db: str | None) -> Any:
    """The queue's numbers: the shared queue (--queue, $QMS_QUEUE_URL), else this machine's, if it has one."""
    from pathlib import Path

    from qms_cli.env import text
    from qms_cli.paths import history_file

    url = url or text("QMS_QUEUE_URL")
    path = Path(db) if db else history_file()
    if url is None:
        if not path.exists() or not _has_queue(path):
            return None
        from qms_cli.queue.store import SQLiteStore

        store: Any = SQLiteStore(path, read_only=True)  # reads in a read transaction: no write lock
    else:
        from qms_cli.queue.store import open_store

        store = open_store(url, path)
    try:
        return store.stats()
    finally:
        store.close()


def _has_queue(path: Any) -> bool:
    """Whether the history holds the queue's tables (a history from before the queue does not)."""
    from qms_cli.runs import history

    conn = history.open_read(path, check=False)
    try:
        return history.has_queue(conn)
    finally:
        conn.close()


def _history(db: str | None) -> tuple[Any, Any, tuple[int, ...], float]:
    from pathlib import Path

    from qms_cli.paths import history_file

    path = Path(db) if db else history_file()
    empty = ((), (), (0,) * (len(RATIO_BUCKETS) + 1), 0.0)
    if not path.exists():
        return empty
    from qms_cli.runs import history

    conn = history.open_read(path, check=False)  # read-only: a scrape never holds up a writer
    try:
        runs, fallbacks, counts, total = history.run_totals(conn, RATIO_BUCKETS)  # one read: the numbers agree
    finally:
        conn.close()
    cumulative, running = [], 0
    for i in range(len(RATIO_BUCKETS) + 1):
        running += counts.get(i, 0)
        cumulative.append(running)
    return runs, fallbacks, tuple(cumulative), float(total)
