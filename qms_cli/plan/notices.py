"""What a route says about itself, as facts: its status here, why it stepped down and what would help, and what
the tier above would need. Bytes and seconds, tiers and kinds; never a sentence (render/messages/plan.py words
them, for people and for the plan JSON)."""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

from collections.abc import Callable
from typing import NamedTuple

from qms_cli.catalog.tiers import Tier


class Status(NamedTuple):
    """How a route runs here, decided once (explain.status): `plan`'s Status column, `qms tiers`, the exporter."""

    kind: str  # "runs", "slower" (memory-saving settings), "falls_back", "processor", "cannot_run"
    card: int | None = None  # card size (bytes): as designed when slower, at all when falling back or on the processor
    ram: int | None = None  # cannot_run: main memory (bytes) the lightest rung whose graphics memory is there needs

    @property
    def runs_as_asked(self) -> bool:
        """The tier asked for runs on the card (perhaps with memory-saving settings)."""
        return self.kind in ("runs", "slower")


RUNS = Status("runs")


class Shortfall(NamedTuple):
    """Why the tier asked for does not run as designed: what it needs against what is there."""

    kind: str  # "graphics_memory", "main_memory", "no_card", "too_slow", "nothing_fits", "time_limit"
    need: int = 0  # bytes: graphics memory (graphics_memory, no_card) or main memory (main_memory, nothing_fits)
    available: int = 0  # bytes of the same memory available for work
    seconds: float = 0.0  # too_slow: the fastest time of the tier asked for; time_limit: of the quickest choice
    limit: float = 0.0  # too_slow, time_limit: the time allowed


class Remedy(NamedTuple):
    """What would enable the tier asked for (or run it at full speed)."""

    kind: str  # "card", "close_programs", "main_memory", "more_time", "full_speed", "free_main_memory"
    card: int = 0  # bytes: the size of card to use (card, close_programs, full_speed)
    need: int = 0  # bytes of main memory to have free (main_memory)
    held: int = 0  # bytes of graphics memory other programs hold (close_programs)


class Notice(NamedTuple):
    """A step down (or a slower way, or a limit missed), as facts; `kind` and the tier ids are for programs."""

    kind: str  # "quality_fallback", "processor", "slower_settings", "time_limit", "not_runnable"
    function: str
    requested: Tier
    actual: Tier  # the tier that runs (or, not runnable, the processor rung's)
    on_cpu: bool  # the chosen rung runs on the processor
    shortfall: Shortfall
    remedy: Remedy | None = None  # none for a time limit no choice meets


class Upgrade(NamedTuple):
    """What this machine offers, or would need, for a tier (the one asked for, or the one above what runs)."""

    kind: str  # "runs", "runs_slower", "main_memory", "card"
    tier: Tier
    seconds: float = 0.0  # runs, runs_slower: the predicted time here
    need: int = 0  # bytes: runs_slower, card: the card size; main_memory: the main memory to have free


class NoticeText(NamedTuple):
    """A notice in words (what the plan JSON carries beside its kind)."""

    message: str
    reason: str
    suggestion: str


class Wording(NamedTuple):
    """How render/ words notices and hints, handed to what writes plan JSON (a plan never words itself)."""

    notice: Callable[[Notice], NoticeText]
    upgrade: Callable[[Upgrade], str]
