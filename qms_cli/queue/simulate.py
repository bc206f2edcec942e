"""A discrete-event simulation of the queue: the same arrivals under FIFO, strict priority and the fair policy.

Run times are the estimator's predictions for each tier on the simulated card, drawn around the estimate with
the spread its range implies (lognormal, mean at the estimate, the range's high end as the 90th percentile).
Arrivals are Poisson at the asked load; owners are picked uniformly; at `flood_at` one owner queues a batch at
once, and during the hour after it, `solo` people who have nothing else queued add one task each.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, NamedTuple

from qms_cli.estimate.stats import percentile
from qms_cli.queue.engine import Outcome, play
from qms_cli.queue.policy import Fifo, Order, Policy, StrictPriority, Waiting

FLOOD_OWNER = "batch"
SOLO_OWNER = "solo"
OWNERS = tuple(f"user{i}" for i in range(1, 9))


class Workload(NamedTuple):
    tasks: tuple[tuple[Waiting, float], ...]  # (task, actual run seconds)
    flood_at: float | None
    horizon: float


class Settings(NamedTuple):
    mix: dict[str, float]  # tier -> share of tasks
    predicted: dict[str, tuple[float, float]]  # tier -> (expected seconds, 90th percentile)
    gpus: int = 4
    load: float = 0.7
    hours: float = 8.0
    owners: tuple[str, ...] = OWNERS
    seed: int = 1
    flood: int = 200
    flood_tier: str = "low"
    flood_at: float = 2 * 3600
    solo: int = 30
    priorities: tuple[float, float, float] = (0.1, 0.8, 0.1)  # low, normal, high


def make_workload(s: Settings, *, batch: bool = True) -> Workload:
    """The arrivals, reproducible from the seed; batch=False leaves the batch out and changes nothing else.
    The load counts the regular traffic only."""
    total = sum(s.mix.values())
    shares = {t: v / total for t, v in s.mix.items() if v > 0}
    tiers, weights = list(shares), list(shares.values())
    mean = sum(shares[t] * s.predicted[t][0] for t in shares)
    rate = s.load * s.gpus / mean
    horizon = s.hours * 3600
    tasks: list[tuple[Waiting, float]] = []

    def add(rng: random.Random, owner: str, tier: str, priority: int, at: float) -> None:
        expected, p90 = s.predicted[tier]
        sigma = max(0.01, math.log(max(p90 / expected, 1.0001)) / 1.2816)
        run = expected * math.exp(rng.gauss(-sigma * sigma / 2, sigma))
        tasks.append((Waiting(id=len(tasks), owner=owner, tier=tier, priority=priority, queued_at=at, seconds=expected),
                      run))

    rng = random.Random(s.seed)
    t = rng.expovariate(rate)
    while t < horizon:
        add(rng, rng.choice(s.owners), rng.choices(tiers, weights)[0], rng.choices([0, 1, 2], s.priorities)[0], t)
        t += rng.expovariate(rate)
    flood_at = s.flood_at if s.flood and s.flood_at < horizon else None
    if flood_at is not None:
        rng = random.Random(f"{s.seed}-solo")
        for i in range(s.solo):
            add(rng, f"{SOLO_OWNER}{i + 1}", rng.choices(tiers, weights)[0], 1, flood_at + rng.uniform(0, 3600))
        rng = random.Random(f"{s.seed}-batch")
        for _ in range(s.flood if batch else 0):
            add(rng, FLOOD_OWNER, s.flood_tier, 1, flood_at)
    return Workload(tuple(tasks), flood_at, horizon)


def _stats(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    waits = [o.start - o.task.queued_at for o in outcomes]
    slow = [(o.start - o.task.queued_at) / o.run for o in outcomes]
    return {"tasks": len(waits), "mean_wait": sum(waits) / len(waits) if waits else 0.0,
            "p50_wait": percentile(waits, 0.5), "p90_wait": percentile(waits, 0.9), "max_wait": max(waits, default=0.0),
            "p50_slowdown": percentile(slow, 0.5), "p90_slowdown": percentile(slow, 0.9)}


def _group(outcomes: Sequence[Outcome], by: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(getattr(o.task, by), []).append(o)
    rank = {"low": 0, "standard": 1, "high": 2}
    return {k: _stats(v) for k, v in sorted(groups.items(), key=lambda kv: (rank.get(kv[0], 3), kv[0]))}


def _spread(groups: dict[str, dict[str, Any]]) -> float:
    means = [g["mean_wait"] for g in groups.values()]
    return max(means) - min(means) if means else 0.0


def metrics(outcomes: list[Outcome], workload: Workload, gpus: int,
            without_batch: list[Outcome] | None = None) -> dict[str, Any]:
    """Per tier and owner waits and slowdowns, throughput, utilisation, and the goals' figures.
    without_batch: the same run with the batch left out, to tell what the batch cost single-task owners."""
    horizon = workload.horizon
    busy = sum(max(0.0, min(o.finish, horizon) - o.start) for o in outcomes if o.start < horizon)
    regular = [o for o in outcomes if o.task.owner != FLOOD_OWNER]
    owners: dict[str, list[Outcome]] = {}
    for o in outcomes:
        owners.setdefault(SOLO_OWNER if o.task.owner.startswith(SOLO_OWNER) else o.task.owner, []).append(o)
    batch = owners.get(FLOOD_OWNER, [])
    last_batch_start = max((o.start for o in batch), default=0.0)
    solo = [o for o in owners.get(SOLO_OWNER, []) if o.task.queued_at < last_batch_start]  # during the flood
    tiers, regular_tiers = _group(outcomes, "tier"), _group(regular, "tier")
    return {
        "tasks": len(outcomes),
        "solo_tasks_during_batch": len(solo),
        "tiers": tiers,
        "owners": {k: _stats(v) for k, v in sorted(owners.items())},
        "tier_wait_spread": _spread(tiers),
        "tier_wait_spread_without_batch": _spread(regular_tiers),
        "regular_tiers": regular_tiers,
        "solo_p90_wait": percentile([o.start - o.task.queued_at for o in solo], 0.9),
        "solo_p90_wait_beyond_runs_under_way": percentile(
            [max(0.0, o.start - o.task.queued_at - o.under_way) for o in solo], 0.9),
        "solo_p90_wait_beyond_first_run_to_end": percentile(
            [max(0.0, o.start - o.task.queued_at - o.first_free) for o in solo], 0.9),
        "solo_p90_delay_from_batch": _delay(solo, without_batch),
        "batch_done_after": max((o.finish for o in batch), default=0.0) - (workload.flood_at or 0.0),
        "max_wait": max((o.start - o.task.queued_at for o in outcomes), default=0.0),
        "longest_run": max((o.run for o in outcomes), default=0.0),
        "throughput_per_hour": sum(1 for o in outcomes if o.finish <= horizon) / (horizon / 3600),
        "utilisation": busy / (gpus * horizon),
    }


def _delay(solo: list[Outcome], without_batch: list[Outcome] | None) -> float:
    """90th percentile of how much later each single-task owner's task started because of the batch."""
    if without_batch is None:
        return 0.0
    alone = {o.task.id: o.start for o in without_batch}
    return percentile([o.start - alone[o.task.id] for o in solo], 0.9)


def compare(s: Settings, fair: Policy | None = None) -> dict[str, Any]:
    """The three policies on the same arrivals, and how the fair one does against the goals."""
    workload, calm = make_workload(s), make_workload(s, batch=False)
    fair = fair or Policy()
    orders: list[Order] = [Fifo(), StrictPriority(), fair]
    cards = [0] * s.gpus
    results = {o.name: metrics(play(workload.tasks, cards, o), workload, s.gpus, play(calm.tasks, cards, o))
               for o in orders}
    return {"settings": {**s._asdict(), "owners": list(s.owners), "priorities": dict(zip(("low", "normal", "high"),
                                                                                        s.priorities))},
            "policy": {"max_wait": fair.max_wait, "quota": fair.quota, "reserve": fair.reserve},
            "policies": results, "goals": goals(results, fair, s)}


def goals(results: dict[str, dict[str, Any]], fair: Policy, settings: Settings) -> list[dict[str, Any]]:
    """The issue's four goals for the fair policy: each with its figure, its target and whether it was met."""
    f, fifo = results["fair"], results["fifo"]
    bound = fair.max_wait + f["longest_run"]
    rows = [
        ("tier_wait_spread", "spread of the tiers' mean waits (without the batch owner)",
         f["tier_wait_spread_without_batch"], 30.0, fifo["tier_wait_spread_without_batch"]),
        ("solo_wait", "single-task owners' 90th-percentile wait beyond the runs already under way when they queued",
         f["solo_p90_wait_beyond_runs_under_way"], 30.0, fifo["solo_p90_wait_beyond_runs_under_way"]),
        ("max_wait", "longest wait, against max_wait + the longest run", f["max_wait"], bound, fifo["max_wait"]),
        ("throughput", "tasks finished per hour, at least 95% of FIFO's", f["throughput_per_hour"],
         0.95 * fifo["throughput_per_hour"], fifo["throughput_per_hour"]),
    ]
    return [{"goal": g, "what": what, "value": v, "target": target, "fifo": base,
             "met": v >= target if g == "throughput" else v <= target} for g, what, v, target, base in rows]
