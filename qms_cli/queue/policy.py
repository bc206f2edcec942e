"""Which waiting task a free card takes next. Pure: the same queue gives the same choice.

The fair policy, rule by rule (an earlier rule outranks a later one):
1. Aging: a task that has waited `max_wait` (default 1 hour) is overdue and goes first, oldest first, on up to
   half the cards. So a task starts within `max_wait`, plus the run under way on a card, plus the overdue tasks
   queued before it (on half the cards); the simulation checks max_wait + the longest run.
2. Priority: high, then normal, then low.
3. Quota: a tier holding its quota of the cards (High: three quarters) goes last while someone with nothing
   running waits for another tier (it still takes a card that would otherwise stay idle).
4. Reserved minimum, and turns for newcomers: a tier holding fewer cards than its reserve (default a quarter
   of the cards, at least one, for each tier), and anyone with nothing running, go before the rest.
5. Fair share between owners: the owner whose latest task started longest ago (or never) goes first, so owners
   take turns: one who queued 200 images does not hold up another's single video.
6. First come, first served.
Only tasks whose plan fits the card's free memory are candidates: a task that fits nowhere waits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

PRIORITIES = {"low": 0, "normal": 1, "high": 2}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}


class Waiting(NamedTuple):
    """A queued task as the policy sees it."""

    id: int
    owner: str
    tier: str
    priority: int
    queued_at: float
    seconds: float  # predicted run time
    need: int = 0  # graphics memory its plan needs, bytes (0: fits any card)
    processor: bool = False  # planned on the processor: only a place that serves the processor takes it


def fits(task: Waiting, capacity: int) -> bool:
    """Whether a card (its memory when idle, bytes; 0: any task fits) or the processor (capacity -1, as
    model.PROCESSOR) can take the task: the processor takes what was planned for it, a card the rest."""
    if capacity < 0:
        return task.processor
    return not task.processor and (not capacity or task.need <= capacity)


class State(NamedTuple):
    """What the policy weighs besides the task itself."""

    now: float
    cards: int
    held: Mapping[str, int]  # tier -> cards running it
    wanted: frozenset[str]  # tiers that someone with nothing running waits for
    last_start: Mapping[str, float]  # owner -> when their latest task started
    busy_owners: frozenset[str] = frozenset()  # owners with a task running
    overdue_held: int = 0  # cards running a task that was overdue when it started


Key = Callable[[Waiting], tuple[float, ...]]


class Order(Protocol):
    name: str

    def key(self, state: State) -> Key: ...


class Fifo:
    """First come, first served."""

    name = "fifo"

    def key(self, state: State) -> Key:
        return lambda w: (w.queued_at, w.id)


class StrictPriority:
    """Highest priority first, then first come, first served (no bound, no fairness)."""

    name = "priority"

    def key(self, state: State) -> Key:
        return lambda w: (-w.priority, w.queued_at, w.id)


def _shares() -> dict[str, float]:
    return {"low": 0.25, "standard": 0.25, "high": 0.25}


@dataclass(frozen=True)
class Policy:
    """The fair policy and its settings (see the module docstring)."""

    max_wait: float = 3600.0
    quota: dict[str, float] = field(default_factory=lambda: {"high": 0.75})
    reserve: dict[str, float] = field(default_factory=_shares)
    name = "fair"

    @staticmethod
    def slots(share: float, cards: int) -> int:
        """Cards a share stands for: at least one for any share above nothing."""
        return 0 if share <= 0 else max(1, math.floor(share * cards + 1e-9))

    def key(self, state: State) -> Key:
        full = {t for t, share in self.quota.items()
                if state.held.get(t, 0) >= self.slots(share, state.cards) and state.wanted - {t}}
        short = {t for t, share in self.reserve.items() if state.held.get(t, 0) < self.slots(share, state.cards)}
        now, last, busy, max_wait = state.now, state.last_start, state.busy_owners, self.max_wait
        overdue_first = state.overdue_held < max(1, state.cards // 2)

        def key(w: Waiting) -> tuple[float, ...]:
            if overdue_first and now - w.queued_at >= max_wait:
                return (0, 0, 0, 0, w.queued_at, w.id)
            rule = 3 if w.tier in full else 1 if w.tier in short or w.owner not in busy else 2
            return (1, -w.priority, rule, last.get(w.owner, -math.inf), w.queued_at, w.id)

        return key



def order(policy: Order, waiting: list[Waiting], running: list[tuple[str, str]], cards: int, now: float,
          last_start: Mapping[str, float]) -> list[Waiting]:
    """The waiting tasks in the order a card that frees now would take them (the first that fits wins).
    running: (owner, tier) of each task under way."""
    held: dict[str, int] = {}
    for _, tier in running:
        held[tier] = held.get(tier, 0) + 1
    busy = frozenset(o for o, _ in running)
    s = State(now=now, cards=cards, held=held, wanted=frozenset(w.tier for w in waiting if w.owner not in busy),
              last_start=last_start, busy_owners=busy)
    return sorted(waiting, key=policy.key(s))


def from_settings(values: Mapping[str, str]) -> Policy:
    """The fair policy as the queue stores it (qms queue policy); defaults for what is not set."""
    import json

    default = Policy()
    return Policy(max_wait=float(values.get("max_wait", default.max_wait)),
                  quota=json.loads(values["quota"]) if "quota" in values else default.quota,
                  reserve=json.loads(values["reserve"]) if "reserve" in values else default.reserve)


def to_settings(policy: Policy) -> dict[str, str]:
    import json

    return {"max_wait": repr(policy.max_wait), "quota": json.dumps(policy.quota, sort_keys=True),
            "reserve": json.dumps(policy.reserve, sort_keys=True)}
