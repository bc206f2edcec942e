"""Play a queue forward in time under a policy: the simulation's core, and the queue's own start estimates.

Tasks wait in buckets of the same owner, tier, priority, memory need and device, oldest first; within a bucket every
policy prefers the oldest, so a free card only has to weigh each bucket's first task.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from qms_cli.queue.policy import Order, State, Waiting, fits


class Outcome(NamedTuple):
    task: Waiting
    start: float
    finish: float
    run: float
    under_way: float  # when it was queued, how long until the last run then under way would end (0: a card was free)
    first_free: float  # ... and until the first of them would end
    card: int


class Busy(NamedTuple):
    """A task already running when play starts."""

    card: int
    owner: str
    tier: str
    finish: float
    overdue: bool = False  # it had waited the policy's max_wait when it started


Bucket = tuple[str, str, int, int, bool]


class _Floor:
    """The cards and the waiting line at one moment of play."""

    def __init__(self, cards: Sequence[int], policy: Order, busy: Sequence[Busy], last_start: dict[str, float]):
        self.cards, self.policy = cards, policy
        self.max_wait: float = getattr(policy, "max_wait", math.inf)
        self.last = dict(last_start)
        self.buckets: dict[Bucket, deque[tuple[Waiting, float]]] = {}
        self.wanting: dict[tuple[str, str], int] = {}  # (owner, tier) -> tasks waiting
        self.held: dict[str, int] = {}
        self.on_card: dict[int, Busy] = {}
        self.finishing: list[tuple[float, int]] = []
        self.seen: dict[int, tuple[float, float]] = {}  # task -> (first, last) end of the runs under way then
        for b in busy:
            self._occupy(b)
        self.idle = [i for i in range(len(cards)) if i not in self.on_card]

    def _occupy(self, b: Busy) -> None:
        heapq.heappush(self.finishing, (b.finish, b.card))
        self.on_card[b.card] = b
        self.held[b.tier] = self.held.get(b.tier, 0) + 1

    def arrive(self, task: Waiting, run: float, now: float) -> None:
        self.buckets.setdefault((task.owner, task.tier, task.priority, task.need, task.processor),
                                deque()).append((task, run))
        self.wanting[task.owner, task.tier] = self.wanting.get((task.owner, task.tier), 0) + 1
        ends = [b.finish - now for b in self.on_card.values()] if len(self.on_card) == len(self.cards) else [0.0]
        self.seen[task.id] = (min(ends, default=0.0), max(ends, default=0.0))

    def finish_next(self) -> float:
        at, card = heapq.heappop(self.finishing)
        self.held[self.on_card.pop(card).tier] -= 1
        self.idle.append(card)
        return at

    def fill(self, now: float, out: list[Outcome]) -> None:
        """Give each idle card the policy's first task that fits it."""
        for card in sorted(self.idle):
            if not self.buckets:
                return
            busy = frozenset(b.owner for b in self.on_card.values())
            wanted = frozenset(t for (o, t), n in self.wanting.items() if n and o not in busy)
            overdue = sum(1 for b in self.on_card.values() if b.overdue)
            key = self.policy.key(State(now=now, cards=len(self.cards), held=self.held, wanted=wanted,
                                        last_start=self.last, busy_owners=busy, overdue_held=overdue))
            capacity = self.cards[card]
            heads = [(key(q[0][0]), b) for b, q in self.buckets.items() if fits(q[0][0], capacity)]
            if not heads:
                continue
            bucket = min(heads)[1]
            task, run = self.buckets[bucket].popleft()
            if not self.buckets[bucket]:
                del self.buckets[bucket]
            self.wanting[task.owner, task.tier] -= 1
            self.last[task.owner] = now
            self.idle.remove(card)
            self._occupy(Busy(card=card, owner=task.owner, tier=task.tier, finish=now + run,
                              overdue=now - task.queued_at >= self.max_wait))
            first, last = self.seen.pop(task.id)
            out.append(Outcome(task=task, start=now, finish=now + run, run=run, under_way=last, first_free=first,
                               card=card))


def play(arrivals: Iterable[tuple[Waiting, float]], cards: Sequence[int], policy: Order, *, now: float = 0.0,
         busy: Sequence[Busy] = (), last_start: dict[str, float] | None = None) -> list[Outcome]:
    """Start every task that can start, in the policy's order, until all have run.

    arrivals: (task, run seconds); those queued before `now` are waiting at `now`.
    cards: each card's memory in bytes (0: any task fits; -1: the processor). A task that fits no card never
    starts (left out).
    """
    pending = deque(sorted(arrivals, key=lambda a: (a[0].queued_at, a[0].id)))
    floor = _Floor(cards, policy, busy, last_start or {})
    out: list[Outcome] = []
    while pending and pending[0][0].queued_at <= now:
        floor.arrive(*pending.popleft(), now)
    while True:
        floor.fill(now, out)
        next_arrival = pending[0][0].queued_at if pending else math.inf
        next_finish = floor.finishing[0][0] if floor.finishing else math.inf
        if next_arrival == next_finish == math.inf:
            return out
        if next_finish <= next_arrival:
            now = floor.finish_next()
        else:
            now = next_arrival
            floor.arrive(*pending.popleft(), now)
