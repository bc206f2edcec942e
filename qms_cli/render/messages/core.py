"""Words for people: tiers, projects, validation and plans. Part of the one message catalogue
(render/messages)."""

from __future__ import annotations

from qms_cli.catalog.tiers import Tier

NOT_APPLICABLE = "—"  # a cell with nothing to say (a task that cannot run has no time)


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 run", "2 runs", "0 runs"; `many` for irregular plurals ("1 is", "2 are" aside)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def tier_line(tier: Tier) -> str:
    """"⚖️ Standard — Balanced quality (designed to take 30-60 seconds on the card it is made for)"."""
    return f"{tier.label} — {tier.description} ({designed_for(tier)})"


def quality_set(tier: Tier, changed: bool) -> str:
    if not changed:
        return f"Quality was already {tier_line(tier)}"
    return f"Quality set to {tier_line(tier)}"


def override_set(node: str, tier: Tier, project_tier: Tier, changed: bool) -> str:
    verb = "already uses" if not changed else "now uses"
    return f"Node {node!r} {verb} {tier_line(tier)}; the project uses {project_tier.label}"


def override_cleared(node: str, project_tier: Tier, changed: bool) -> str:
    if not changed:
        return f"Node {node!r} had no quality of its own; it uses the project's {project_tier.label}"
    return f"Node {node!r} now follows the project's quality: {project_tier.label}"


def project_created(path: str, name: str, tier: Tier) -> str:
    return f"Created {path} for {name!r} with quality {tier_line(tier)}"


def project_heading(name: str, path: str) -> str:
    return f"Project {name!r} ({path})"


def project_quality(tier: Tier, is_default: bool) -> str:
    suffix = " (not set yet: the default)" if is_default else ""
    return f"Quality: {tier_line(tier)}{suffix}"


def node_quality(node: str, tier: Tier) -> str:
    return f"  {node}: {tier_line(tier)}"


NODES_HEADING = "Nodes with their own quality:"
HERE_COLUMN = "On this machine"


def here(status: str, runs_as: str, card: str) -> str:
    """A tier's fate on this machine, in a few words."""
    return {"runs": "runs",
            "slower": f"runs, slower (full speed needs a card with {card})",
            "processor": "runs on the processor (slow)",
            "falls_back": f"uses {runs_as} (needs a card with {card})"}[status]
TIERS_CAPTION_CURRENT = "▶ marks the quality this project uses."
CURRENT_MARK = "▶"
TIER_COLUMNS = ["Quality", "Description", "Designed for"]
TIER_COLUMNS_HERE = ["Quality", "Task", "This machine", "Designed for", HERE_COLUMN]
TIER_CARD_COLUMN = "Card"
TIER_COLUMNS_TECHNICAL = [TIER_CARD_COLUMN, "Configuration"]
TIERS_CAPTION_TIME = ("This machine: the time qms predicts here for one task. Designed for: the time the quality is "
                      "made to take on the card it is designed for.")


def designed_for(tier: Tier) -> str:
    """What a tier is made to take, never presented as this machine's time."""
    return f"designed to take {tier.time_label} on the card it is made for"


def time_here(function: str, took: str, runs_as: str | None) -> str:
    """"Create Image about 31 min – 2 h" (" as ⚡ Low" when a lower quality runs)."""
    instead = f" as {runs_as}" if runs_as else ""
    return f"{function} about {took}{instead}"


def time_here_cannot_run(function: str) -> str:
    """`qms show`: a function no quality can run on this machine."""
    return f"{function} cannot run here"


def times_here(parts: list[str]) -> str:
    """"  On this machine: Create Image about 3–12 min · Create Video about 46 min – 3.1 h"."""
    return "  On this machine: " + " · ".join(parts)


def validation_ok(files: int) -> str:
    return "1 file valid." if files == 1 else f"All {files} files valid."


def validation_failed(problems: int, files: int) -> str:
    return f"{plural(problems, 'problem')} in {plural(files, 'file')}."


# qms plan: fallbacks and their reasons, in plain words
def duration(seconds: float) -> str:
    """"45 s", "12 min", "2.5 h"."""
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 100 else f"{hours:,.0f} h"


def duration_range(low: float, high: float) -> str:
    """"20–80 s", "36 min – 2.4 h"."""
    lo, hi = duration(low), duration(high)
    lo_number, lo_unit = lo.rsplit(" ", 1)
    if lo_unit == hi.rsplit(" ", 1)[1] and not lo.startswith("under"):
        return f"{lo_number}–{hi}"
    return f"{lo} – {hi}"


def reason_memory(tier: str, need: str, available: str) -> str:
    return f"{tier} needs about {need} of graphics memory; {available} are free."


def reason_no_card(tier: str, need: str) -> str:
    return f"{tier} needs a graphics card with about {need} of memory free; this machine has none qms can use."


def reason_too_slow(tier: str, took: str, limit: str) -> str:
    return f"{tier} would take about {took}, longer than the {limit} allowed."


def using(tier: str, on_processor: bool) -> str:
    return f"Using {tier} on the processor, which is much slower." if on_processor else f"Using {tier}."


def suggest_close_or_card(tier: str, held: str, card: str) -> str:
    return (f"To use {tier}: close other programs using the graphics card (they hold {held}), "
            f"or use a card with {card} or more.")


def suggest_card(tier: str, card: str) -> str:
    return f"To use {tier}: use a graphics card with {card} or more."


def suggest_more_time(tier: str) -> str:
    return f"To use {tier}: allow more time."


def slower_settings(tier: str) -> str:
    return f"Keeping {tier} with memory-saving settings, which take longer."


def suggest_full_speed(card: str) -> str:
    return f"For full speed: a graphics card with {card} or more."


def over_time_limit(took: str, limit: str) -> str:
    return f"Nothing finishes within {limit} on this machine; the quickest choice takes about {took}."


def upgrade_hint(tier: str, card: str) -> str:
    return f"For {tier}: a graphics card with {card} or more."


def tier_runs_here(tier: str, took: str) -> str:
    return f"{tier} also runs on this machine (about {took})."


def tier_runs_slower_here(tier: str, took: str, card: str) -> str:
    return (f"{tier} runs on this machine with memory-saving settings (about {took}); "
            f"for full speed: a graphics card with {card} or more.")


PLAN_COLUMNS = ["Task", "Quality", "Time", "Graphics memory", "Status"]
RUNG_COLUMNS = ["Tier", "Model", "Size", "Steps", "Options", "Device", "Peak", "Time", "Result"]
ON_PROCESSOR = "on the processor"
STATUS_RUNS = "Runs"
STATUS_SLOWER = "Runs, slower (memory-saving)"
STATUS_PROCESSOR = "Runs on the processor (slow)"
NOTICE_MARK = "⚠"
PANEL_TITLE = "Why, and what would help"
HINT_MARK = "↑"


def status_fallback(requested: str) -> str:
    return f"Lower quality (asked for {requested})"


def confirm_fallback(tier: str) -> str:
    return f"Continue with {tier}?"


CONFIRM_SEVERAL = "Continue with these qualities?"
CANCELLED = "Cancelled: nothing was planned."  # printed as it is (no "Error:" before it)
CANCELLED_RUN = "Cancelled: nothing was run."


def proceeding_without_asking(tier: str) -> str:
    return f"Continuing with {tier} without asking: there is no one at a terminal to answer."


def strict_refused(function: str, requested: str, actual: str) -> str:
    return f"{function} would need {actual} instead of {requested}, and strict mode allows no lower quality."


def batch_summary(tasks: int, counts: str, fallbacks: int, total: str, errors: int) -> str:
    bad = f"; {plural(errors, 'line')} skipped" if errors else ""
    return (f"{plural(tasks, 'task')}: {counts}; {fallbacks} with a lower quality than asked; "
            f"about {total} in all{bad}.")


def skipped_line(where: str, line: int, why: str) -> str:
    return f"{where}:{line}: {why} (skipped)"



def completion_installed(path: str) -> str:
    return f"Tab completion for qms added to {path}; it works in new terminals."
