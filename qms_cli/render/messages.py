"""Every sentence qms says to people, in one place: plain words, no model names, flags or jargon.

tests/test_messages.py renders each of these for every tier and function and checks them with jargon.py.
"""

from __future__ import annotations

from qms_cli.tiers import Tier


def tier_line(tier: Tier) -> str:
    """"⚖️ Standard — Balanced quality · about 30-60 seconds"."""
    return f"{tier.label} — {tier.description} · about {tier.time_label}"


def quality_set(tier: Tier, changed: bool) -> str:
    if not changed:
        return f"Quality was already {tier_line(tier)}"
    return f"Quality set to {tier_line(tier)}"


def override_set(node: str, tier: Tier, project_tier: Tier, changed: bool) -> str:
    verb = "already uses" if not changed else "now uses"
    return f"Node {node!r} {verb} {tier_line(tier)} (the project uses {project_tier.label})"


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
TIERS_CAPTION_CURRENT = "▶ marks the quality this project uses."
PROJECT_UNREADABLE = "Note: the project file could not be read, so no tier is marked as in use ({reason})."


def validation_ok(files: int) -> str:
    return "1 file valid." if files == 1 else f"All {files} files valid."


def validation_failed(problems: int, files: int) -> str:
    return (f"{problems} problem{'s' if problems != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}.")


# qms probe
NO_GPU = "No NVIDIA graphics card found: tasks will run on the processor, which is much slower."
NO_GPU_PACKAGE = NO_GPU + " (a part of qms that talks to the graphics driver is missing: reinstall qms)"
DRIVER_MISMATCH = ("The graphics driver was updated but the old one is still loaded: restart the computer (or "
                   "reload the driver) before using the graphics card.")
ALL_CARDS_HIDDEN = "All graphics cards are hidden from tasks by a setting on this machine."


def no_gpu_driver_said(what: str) -> str:
    return f"{NO_GPU} (the graphics driver said: {what})"


def cards_hidden(visible: int) -> str:
    return (f"Some graphics cards are hidden from tasks by a setting on this machine; {visible} "
            f"{'is' if visible == 1 else 'are'} visible.")

PROBE_CARDS_HEADING = "Graphics cards"
PROBE_COLUMNS = ["#", "Card", "Busy", "Total", "In use", "Free", "Available for work", ""]


def probe_best(index: int, available: str, reserve: str) -> str:
    return (f"Best card for work: #{index}, with {available} of graphics memory available "
            f"({reserve} kept free for the system).")


def probe_no_card(has_limit: bool) -> str:
    if has_limit:
        return "No graphics card can take work right now: tasks will run on the processor."
    return "No graphics card can take work: tasks will run on the processor, which is much slower."


def probe_system(ram_total: str, ram_free: str, cores: int, cpu: str) -> str:
    return f"Memory: {ram_total} ({ram_free} free) · Processor: {cpu}, {cores} cores"


def probe_simulated(machine: str) -> str:
    return f"Simulated machine: {machine}"


def probe_limit(limit: str) -> str:
    return f"Graphics memory is limited to {limit} per card (a simulation of a smaller card)."


def card_unavailable(why: str) -> str:
    return f"unavailable: {why}"


def card_degraded(why: str) -> str:
    return f"partly readable: {why}"


def held_by_programs(index: int, programs: str) -> str:
    return f"Card #{index} is in use by: {programs}"


UNKNOWN_PROGRAM = "a program qms may not name"
CARD_SLICE = " (a slice of a larger card)"
