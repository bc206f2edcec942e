"""What the history says: accuracy of the estimates per tier and function, and usage statistics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from qms_cli.estimate.stats import percentile

WITHIN = 0.20  # the product promises +-20%


def accuracy(rows: Iterable[tuple[str, str, float, float, str]]) -> list[dict[str, Any]]:
    """Rows of (tier, function, predicted, actual, started_at) -> per tier and function: runs, median and 90th
    percentile absolute percentage error, share within +-20%, bias (+: runs take longer than estimated, we were
    too optimistic), and the median error week by week (the trend)."""
    groups: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for tier, function, predicted, actual, started in rows:
        groups[(tier, function)].append(((actual - predicted) / predicted, started))
    out = []
    for (tier, function), items in sorted(groups.items()):
        signed = [e for e, _ in items]
        absolute = [abs(e) for e in signed]
        weeks: dict[str, list[float]] = defaultdict(list)
        for e, started in items:
            year, week, _ = datetime.fromisoformat(started).isocalendar()
            weeks[f"{year}-W{week:02d}"].append(abs(e))
        out.append({"tier": tier, "function": function, "runs": len(items),
                    "median_ape": percentile(absolute, 0.5), "p90_ape": percentile(absolute, 0.9),
                    "within_20": sum(1 for e in absolute if e <= WITHIN) / len(absolute),
                    "bias": percentile(signed, 0.5),
                    "trend": [{"week": w, "median_ape": percentile(v, 0.5)} for w, v in sorted(weeks.items())]})
    return out


def stats(rows: Iterable[tuple[str, str, str, int, int | None, float | None]]) -> dict[str, Any]:
    """Rows of (tier, function, outcome, fallback, proceeded, actual seconds) -> usage, fallbacks, failures,
    time per tier."""
    total = 0
    per_tier: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_function: dict[str, int] = defaultdict(int)
    fallbacks = accepted = asked = 0
    for tier, function, outcome, fallback, proceeded, seconds in rows:
        total += 1
        t = per_tier[tier]
        t["runs"] += 1
        t["seconds"] += seconds or 0.0
        t[outcome] += 1
        per_function[function] += 1
        if fallback:
            fallbacks += 1
            if proceeded is not None:
                asked += 1
                accepted += proceeded
    tiers = {tier: {"runs": int(v["runs"]), "share": v["runs"] / total, "seconds": v["seconds"],
                    "failed": int(v["failed"]), "out_of_memory": int(v["oom"]), "cancelled": int(v["cancelled"]),
                    "failure_rate": (v["failed"] + v["oom"]) / v["runs"]} for tier, v in sorted(per_tier.items())}
    return {"runs": total, "tiers": tiers, "functions": dict(sorted(per_function.items())),
            "fallback_rate": fallbacks / total if total else 0.0, "fallbacks": fallbacks,
            "fallbacks_asked": asked, "fallbacks_accepted": accepted,
            "acceptance": accepted / asked if asked else None}


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """A small chart for people: one character a value, higher is worse."""
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1)))] for v in values)
