"""Timing one piece of work: warm up, then repeat until the median is steady (or time is up)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple


class Timing(NamedTuple):
    seconds: float  # median
    repeats: int
    spread: float  # half the interquartile range, relative to the median


def timed(run: Callable[[], Any], *, cap_s: float, sync: Callable[[], None] = lambda: None, warmup: int = 1,
          min_repeats: int = 3, max_repeats: int = 30, target_spread: float = 0.05) -> Timing:
    """Median of repeated runs: at least `min_repeats`, until the spread is within +-`target_spread` of the
    median, `cap_s` seconds have passed, or `max_repeats` runs."""
    for _ in range(warmup):
        run()
        sync()
    times: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - t0)
        if len(times) >= min_repeats:
            med = statistics.median(times)
            spread = spread_of(times) / med if med > 0 else 0.0
            if spread <= target_spread or time.perf_counter() - start > cap_s or len(times) >= max_repeats:
                return Timing(med, len(times), spread)


def spread_of(times: list[float]) -> float:
    """Half the interquartile range."""
    if len(times) < 2:
        return 0.0
    q = statistics.quantiles(times, n=4, method="inclusive")
    return (q[2] - q[0]) / 2
