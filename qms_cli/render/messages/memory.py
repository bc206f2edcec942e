"""Sentences about main memory, runnable tasks and the card sizes people are told (issue 14 item 4; issue 13)."""

from __future__ import annotations

STATUS_CANNOT_RUN = "Cannot run here"


def reason_main_memory(tier: str, need: str, available: str) -> str:
    return f"{tier} needs about {need} of main memory here; {available} are free."


def suggest_main_memory(tier: str, need: str) -> str:
    return f"To use {tier}: about {need} of main memory free (close other programs, or add memory)."


def cannot_run(function: str, need: str, available: str) -> str:
    return (f"This machine cannot run {function} at any quality: it needs about {need} of main memory "
            f"and has {available} free.")


SUGGEST_CANNOT_RUN = "Close other programs to free main memory, or use a machine with more."


def upgrade_hint_main_memory(tier: str, need: str) -> str:
    return f"For {tier}: about {need} of main memory free."


def here_cannot_run(need: str) -> str:
    """A tier that cannot run here at any quality, for `qms tiers`."""
    return f"cannot run here (needs {need} of main memory)"


def options_relaxed(left_out: str, added: str) -> str:
    """--technical: how a rung's memory options differ from the tier's mapping."""
    parts = ([f"without {left_out}"] if left_out else []) + ([f"with {added}"] if added else [])
    return "as mapped" if not parts else "; ".join(parts) + " (compared with the mapping)"


def not_runnable_refused(tasks: int) -> str:
    """The one line `plan`, `run` and `queue add` end with when a task cannot run here at all (exit 3)."""
    if tasks == 1:
        return "Nothing was started: this task cannot run on this machine."
    return f"Nothing was started: {tasks} tasks cannot run on this machine."
