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
