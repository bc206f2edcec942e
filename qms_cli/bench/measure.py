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


class ProcessPeak:
    """The working memory of one piece of work on the processor: the peak resident memory while it runs above
    what was resident when it started (Linux: /proc's high-water mark, reset through clear_refs; the C library
    first hands freed memory back so an earlier, larger job does not hide this one). `available` is False
    where the system offers no such counter; the work is then timed only."""

    def __init__(self) -> None:
        self._trim: Callable[[int], int] | None = None
        self.available = _proc_status("VmHWM") is not None and _reset_peak()
        try:
            import ctypes
            import ctypes.util

            self._trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            self._trim = None

    def measure(self, run: Callable[[], Any], sync: Callable[[], Any] = lambda: None) -> int | None:
        if not self.available:
            return None
        if self._trim is not None:
            self._trim(0)
        _reset_peak()
        before = _proc_status("VmRSS") or 0
        run()
        return max(0, (_proc_status("VmHWM") or 0) - before)


def _proc_status(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False
