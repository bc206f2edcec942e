"""Estimates that learn: per hardware fingerprint and configuration, a robust correction from real runs.

The correction is the median of actual / estimated time over the latest runs (a wild run cannot move a median
far), shrunk towards 1 by two pseudo-runs at the estimate (one run alone moves it a third of the way; six,
three quarters). With five runs or more, the time range shown becomes their observed spread around it.
"""

from __future__ import annotations

from typing import NamedTuple

from qms_cli.estimate.candidate import Candidate

SHRINK = 2  # pseudo-runs at the model's own estimate
MIN_FOR_BAND = 5


class Learned(NamedTuple):
    factor: float  # multiply the model's time by this
    band: tuple[float, float] | None  # observed spread, as factors of the corrected time
    runs: int


def config_key(c: Candidate) -> str:
    """A configuration's identity in the history: what runs, and where (card or processor)."""
    cfg = c.config
    return (f"{cfg.model}|{cfg.resolution}|{cfg.steps}|{cfg.frames or ''}|{' '.join(sorted(cfg.options))}|"
            f"{'cpu' if c.cpu else 'gpu'}")


def correction(ratios: list[float]) -> Learned | None:
    """What the runs say about the estimate (ratios are actual / estimated, newest first)."""
    if not ratios:
        return None
    from qms_cli.estimate.stats import percentile

    n = len(ratios)
    med = percentile(ratios, 0.5)
    factor = 1 + (med - 1) * n / (n + SHRINK)
    band = None
    if n >= MIN_FOR_BAND:
        band = (max(0.05, min(0.9, percentile(ratios, 0.1) / med)), max(1.1, percentile(ratios, 0.9) / med))
    return Learned(factor, band, n)
