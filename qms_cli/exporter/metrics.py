"""Prometheus metrics for qms (prometheus-client, its own registry), served over HTTP or written to a file.

Names follow Prometheus conventions (qms_ prefix, _bytes/_seconds, counters _total) and labels join with
NVIDIA's DCGM exporter (gpu, UUID, modelName, hostname).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from qms_cli.exporter.monitor import RATIO_BUCKETS, Snapshot

CARD_LABELS = ("gpu", "UUID", "modelName", "hostname")
log = logging.getLogger("qms.exporter")


class Refresh(NamedTuple):
    """What a refresh has to say: "failed" (the first time for this `problem`) or "recovered"; worded by
    render/messages/machine.py."""

    kind: str
    problem: str | None = None  # failed: failure_kind's one line


class Latest:
    """The snapshot scrapes read, replaced whole by the refresher (no scrape ever waits for one)."""

    def __init__(self, first: Snapshot) -> None:
        self.snapshot = first
        self.errors = 0
        self.failing: set[str] = set()  # the kinds of failure said since the last good refresh

    def refresh(self, take: Callable[[], Snapshot], say: Callable[[Refresh], None] | None = None) -> None:
        """Take a new snapshot; on failure keep the last one and say so once per kind of failure (one line, no
        traceback), and once when refreshing works again. Without `say`, the facts go to the log."""
        try:
            self.snapshot = take()
        except Exception as e:
            self.errors += 1
            kind = failure_kind(e)
            if kind not in self.failing:
                self.failing.add(kind)
                (say or _log)(Refresh("failed", kind))
        else:
            if self.failing:
                (say or _log)(Refresh("recovered"))
            self.failing.clear()


def _log(event: Refresh) -> None:
    log.warning("refresh %s%s", event.kind, f": {event.problem}" if event.problem else "")


def failure_kind(e: Exception) -> str:
    """One line for a failed refresh: qms's own explanation, or the error's type and first line (secrets out)."""
    from qms_cli.errors import QmsError
    from qms_cli.redact import text

    message = e.message if isinstance(e, QmsError) else f"{type(e).__name__}: {e}"
    return text(message.strip().splitlines()[0] if message.strip() else type(e).__name__)


class QmsCollector:
    """Yields the metric families of the latest snapshot."""

    def __init__(self, latest: Latest) -> None:
        self.latest = latest

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        from qms_cli import __version__

        s = self.latest.snapshot
        host = s.hostname
        info = GaugeMetricFamily("qms_build_info", "qms version (always 1).", labels=["version", "hostname"])
        info.add_metric([__version__, host], 1)
        yield info
        for name, field, text in (("total", "total", "Graphics memory on the card."),
                                  ("used", "used", "Graphics memory in use."),
                                  ("free", "free", "Graphics memory free."),
                                  ("reserved", "reserved", "Graphics memory held by the driver.")):
            family = GaugeMetricFamily(f"qms_gpu_memory_{name}_bytes", text, labels=list(CARD_LABELS))
            for c in s.cards:
                value = getattr(c, field)
                if value is not None:
                    family.add_metric([c.gpu, c.uuid, c.model_name, host], value)
            yield family
        available = GaugeMetricFamily("qms_gpu_available_bytes", "Free graphics memory less the reserve: what a "
                                      "task can use.", labels=list(CARD_LABELS))
        up = GaugeMetricFamily("qms_gpu_up", "1 if the card answers and can take work.", labels=list(CARD_LABELS))
        for c in s.cards:
            available.add_metric([c.gpu, c.uuid, c.model_name, host], c.available)
            up.add_metric([c.gpu, c.uuid, c.model_name, host], 1 if c.up else 0)
        yield available
        yield up
        best = GaugeMetricFamily("qms_available_bytes", "Graphics memory available for work on the best card.",
                                 labels=["hostname"])
        best.add_metric([host], s.available)
        yield best
        runs_here = GaugeMetricFamily("qms_tier_runs_here", "1 if the tier runs here as asked (no lower tier, not "
                                      "on the processor).", labels=["tier", "function", "hostname"])
        seconds = GaugeMetricFamily("qms_tier_predicted_seconds", "Predicted time of one task at the tier here.",
                                    labels=["tier", "function", "hostname"])
        for tier, fn, ok, secs in s.tiers:
            runs_here.add_metric([tier, fn, host], 1 if ok else 0)
            seconds.add_metric([tier, fn, host], secs)
        yield runs_here
        yield seconds
        yield _filled(CounterMetricFamily("qms_runs", "Runs recorded in the history.",
                                          labels=["tier", "function", "outcome", "hostname"]), s.runs, host)
        yield _filled(CounterMetricFamily("qms_fallbacks", "Runs at a lower tier than asked.",
                                          labels=["requested", "actual", "hostname"]), s.fallbacks, host)
        ratio = HistogramMetricFamily("qms_estimate_ratio", "Actual time / estimated time of successful runs.",
                                      labels=["hostname"])
        ratio.add_metric([host], _buckets(RATIO_BUCKETS, s.ratio_buckets), s.ratio_sum)
        yield ratio
        if s.queue is not None:
            yield from _queue_families(s.queue, host)
        refreshed = GaugeMetricFamily("qms_exporter_last_refresh_timestamp_seconds", "When the numbers above were "
                                      "gathered.", labels=["hostname"])
        refreshed.add_metric([host], s.taken_at)
        yield refreshed
        errors = CounterMetricFamily("qms_exporter_refresh_errors", "Refreshes that failed (the previous numbers "
                                     "were kept).", labels=["hostname"])
        errors.add_metric([host], self.latest.errors)
        yield errors


def _queue_families(q: Any, host: str) -> Iterator[Any]:
    from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

    from qms_cli.queue.store import WAIT_BUCKETS

    yield _filled(GaugeMetricFamily("qms_queue_tasks", "Tasks in the queue, waiting or running.",
                                    labels=["state", "tier", "owner", "hostname"]), q.tasks, host)
    yield _filled(GaugeMetricFamily("qms_queue_oldest_wait_seconds", "How long the oldest waiting task has waited.",
                                    labels=["tier", "hostname"]), q.oldest, host)
    waits = HistogramMetricFamily("qms_queue_wait_seconds", "Wait from queueing to start of the tasks that started.",
                                  labels=["tier", "hostname"])
    for tier, buckets, total in q.waits:
        waits.add_metric([tier, host], _buckets(WAIT_BUCKETS, buckets), total)
    yield waits
    workers = GaugeMetricFamily("qms_queue_workers", "Workers taking tasks (heartbeat within the lease).",
                                labels=["hostname"])
    workers.add_metric([host], q.workers)
    yield workers


def _filled(family: Any, rows: Any, host: str) -> Any:
    """`family` with one sample per row: the row's labels, this host, the row's last value."""
    for *labels, value in rows:
        family.add_metric([*labels, host], value)
    return family


def _buckets(bounds: Any, counts: Any) -> list[tuple[str, float]]:
    """Cumulative histogram buckets as prometheus_client takes them (the last count is +Inf's)."""
    return [(str(b), n) for b, n in zip(bounds, counts, strict=False)] + [("+Inf", counts[-1])]


def registry_for(latest: Latest) -> Any:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(QmsCollector(latest))
    return registry


def write_textfile(path: str, snapshot: Snapshot) -> None:
    """One snapshot for node_exporter's textfile collector (written to a temporary file, then renamed)."""
    from prometheus_client import write_to_textfile

    write_to_textfile(path, registry_for(Latest(snapshot)))


def serve(host: str, port: int, interval: float, take: Callable[[], Snapshot],
          ready: Callable[[str, int], None], say: Callable[[Refresh], None] | None = None) -> None:
    """Serve /metrics until interrupted, refreshing every `interval` seconds in this thread (exporter/server.py:
    idle connections time out, open ones are bounded)."""
    from qms_cli.exporter.server import MetricsServer, listen

    latest = Latest(take())
    server = MetricsServer(listen(host, port), registry_for(latest))
    server.start()
    ready(host, server.port)
    stop = threading.Event()
    try:
        while not stop.wait(interval):
            latest.refresh(take, say)
    finally:
        server.close()
