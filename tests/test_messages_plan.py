"""A plan's facts in words (render/messages/plan.py): every notice kind, every reason and remedy, every hint and
status, rendered for every tier (and every other tier that runs instead), in plain words with no jargon."""

from __future__ import annotations

import re

import pytest

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import load_catalog
from qms_cli.plan.notices import Notice, Remedy, Shortfall, Status, Upgrade
from qms_cli.render.messages import plan as words
from qms_cli.units import GIB

BASE = load_catalog()
TIERS = BASE.tiers.tiers
FUNCTIONS = BASE.tiers.functions
TERMS = BASE.models.jargon()
# Every kind of plan/notices.py, with figures such as routes give them.
SHORTFALLS = [Shortfall("graphics_memory", int(18.8 * GIB), int(9.5 * GIB)),
              Shortfall("main_memory", int(32.8 * GIB), 31 * GIB), Shortfall("no_card", 14 * GIB),
              Shortfall("too_slow", seconds=500, limit=120), Shortfall("nothing_fits", 40 * GIB, 15 * GIB),
              Shortfall("time_limit", seconds=9000, limit=60)]
REMEDIES = [Remedy("card", card=24 * GIB), Remedy("close_programs", card=24 * GIB, held=6 * GIB),
            Remedy("main_memory", need=int(32.8 * GIB)), Remedy("more_time"), Remedy("full_speed", card=48 * GIB),
            Remedy("free_main_memory"), None]
NOTICE_KINDS = ["quality_fallback", "processor", "slower_settings", "time_limit", "not_runnable"]
UPGRADES = [("runs", 45.0, 0), ("runs_slower", 600.0, 24 * GIB), ("main_memory", 0.0, 40 * GIB),
            ("card", 0.0, 80 * GIB)]
STATUSES = [Status("runs"), Status("slower", 24 * GIB), Status("falls_back", 24 * GIB),
            Status("processor", 12 * GIB), Status("cannot_run", None, 40 * GIB)]


def every_notice() -> list[Notice]:
    return [Notice(kind, fn, asked, runs, on_cpu, s, r) for kind in NOTICE_KINDS for fn in FUNCTIONS
            for asked in TIERS for runs in TIERS for on_cpu in (False, True) for s in SHORTFALLS for r in REMEDIES]


def test_every_notice_kind_reads_plainly() -> None:
    seen = set()
    for n in every_notice():
        text = words.notice(n)
        for part in text:
            assert not find_jargon(part, TERMS), part
            assert "  " not in part and part == part.strip(), part
        assert text.reason and text.reason in text.message
        assert text.suggestion in text.message
        seen.add(n.kind)
    assert seen == set(NOTICE_KINDS)


def test_a_step_down_says_why_what_runs_instead_and_what_would_help() -> None:
    high, standard, low = BASE.tiers.get("high"), BASE.tiers.get("standard"), BASE.tiers.get("low")
    n = Notice("quality_fallback", "Create Video", high, standard, False, SHORTFALLS[0], REMEDIES[0])
    assert words.notice(n).message == (f"{high.name} needs about 18.8 GB of graphics memory; 9.5 GB are free. "
                                       f"Using {standard.name}. To use {high.name}: use a graphics card with 24 GB "
                                       "or more.")
    on_cpu = n._replace(kind="processor", actual=low, on_cpu=True, shortfall=SHORTFALLS[2], remedy=REMEDIES[1])
    assert words.notice(on_cpu) == (
        f"{high.name} needs a graphics card with about 14 GB of memory free; this machine has none qms can use. "
        f"Using {low.name} on the processor, which is much slower. To use {high.name}: close other programs using "
        "the graphics card (they hold 6 GB), or use a card with 24 GB or more.",
        f"{high.name} needs a graphics card with about 14 GB of memory free; this machine has none qms can use.",
        f"To use {high.name}: close other programs using the graphics card (they hold 6 GB), or use a card with "
        "24 GB or more.")
    ram = n._replace(shortfall=SHORTFALLS[1], remedy=REMEDIES[2])
    assert words.notice(ram).reason == f"{high.name} needs about 32.8 GB of main memory here; 31 GB are free."
    assert words.notice(ram).suggestion == (f"To use {high.name}: about 32.8 GB of main memory free (close other "
                                            "programs, or add memory).")
    slow = n._replace(shortfall=SHORTFALLS[3], remedy=REMEDIES[3])
    assert words.notice(slow).reason.startswith(f"{high.name} would take about ")
    assert words.notice(slow).suggestion == f"To use {high.name}: allow more time."


def test_slower_settings_keep_the_tier_and_name_the_card_for_full_speed() -> None:
    high = BASE.tiers.get("high")
    n = Notice("slower_settings", "Create Image", high, high, False, SHORTFALLS[0], REMEDIES[4])
    assert words.notice(n).message == (f"{high.name} needs about 18.8 GB of graphics memory; 9.5 GB are free. "
                                       f"Keeping {high.name} with memory-saving settings, which take longer. "
                                       "For full speed: a graphics card with 48 GB or more.")


def test_a_task_that_cannot_run_and_a_missed_time_limit() -> None:
    low = BASE.tiers.get("low")
    stuck = words.notice(Notice("not_runnable", "Create Image", low, low, True, SHORTFALLS[4], REMEDIES[5]))
    assert stuck.reason == ("This machine cannot run Create Image at any quality: it needs about 40 GB of main "
                            "memory and has 15 GB free.")
    assert stuck.message == f"{stuck.reason} {stuck.suggestion}" and "free main memory" in stuck.suggestion
    late = words.notice(Notice("time_limit", "Create Video", low, low, False, SHORTFALLS[5], None))
    assert late.suggestion == "" and late.message == late.reason
    assert re.fullmatch(r"Nothing finishes within .+ on this machine; the quickest choice takes about .+\.",
                        late.reason)


def test_every_hint_and_status_reads_plainly() -> None:
    for tier in TIERS:
        for kind, seconds, need in UPGRADES:
            text = words.upgrade(Upgrade(kind, tier, seconds, need))
            assert text.startswith(tier.label) or text.startswith(f"For {tier.label}:"), text
            assert not find_jargon(text, TERMS), text
        for s in STATUSES:
            assert not find_jargon(words.status(s, tier.label), TERMS)
    high = BASE.tiers.get("high")
    assert words.upgrade(Upgrade("card", high, need=24 * GIB)) == (
        f"For {high.label}: a graphics card with 24 GB or more.")
    assert words.upgrade(Upgrade("main_memory", high, need=int(32.8 * GIB))) == (
        f"For {high.label}: about 32.8 GB of main memory free.")
    assert "24 GB" in words.upgrade(Upgrade("runs_slower", high, 600.0, 24 * GIB))
    assert words.status(Status("falls_back", 24 * GIB), high.label) == f"Lower quality (asked for {high.label})"


def test_a_kind_without_words_is_a_bug_not_a_blank() -> None:
    high = BASE.tiers.get("high")
    with pytest.raises(ValueError, match="shortfall of kind 'cosmic_rays'"):
        words.notice(Notice("quality_fallback", "Create Image", high, high, False, Shortfall("cosmic_rays"), None))
    with pytest.raises(ValueError, match="remedy of kind 'prayer'"):
        words.remedy(Remedy("prayer"), high.name)
    with pytest.raises(ValueError, match="hint of kind 'magic'"):
        words.upgrade(Upgrade("magic", high))
