"""Every sentence for people, rendered for every tier and function: no model names, flags or jargon."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import load_catalog
from qms_cli.project.file import ProjectProblem
from qms_cli.render import messages

PROJECT_PROBLEMS = [ProjectProblem("/home/ana/film/project.json", kind, "technical form", field=field, node=node,
                                    value=value, line=line, column=line, limit=256 * 2**20,
                                    accepted=("low", "standard", "high"))
                     for kind, field, node, value, line in (
                         ("unknown_quality", "quality_overrides", "n1", "max", None),
                         ("unknown_quality", "quality", None, "ultra", None), ("invalid", "quality", None, "5", None),
                         ("invalid", "quality_overrides", "n1", '["low"]', None),
                         ("invalid", "quality_overrides", None, "3", None), ("duplicate", None, None, "quality", 2),
                         ("not_an_object", None, None, "list", None), ("unreadable", None, None, "Permission denied",
                                                                       None))] + [
    ProjectProblem("project.json", kind, "technical form", line=3, column=4, limit=256 * 2**20)
    for kind in ("missing", "folder", "not_a_file", "too_large", "not_utf8", "syntax", "comments", "too_deep",
                 "changing")]
SAMPLES: dict[str, list[Any]] = {  # by parameter name, else by annotation
    "node": ["hero-shot"], "path": ["/home/ana/posters/project.json"], "name": ["Spring posters"],
    "machine": ["Desktop with an RTX 4090 24 GB"], "cpu": ["AMD Ryzen 9 7950X"], "programs": ["python3 (12 GB)"],
    "why": ["the card stopped responding", "needs_card", "too_large", "too_slow", "four_bit"],
    "status": ["runs", "slower", "processor", "falls_back"],
    "function": ["Create Video"], "n": [12 * 2**30, None],
    "job": [{"kind": "runner", "tier": "high", "function": "Create Image"}, {"kind": "decode", "side": 64},
            {"kind": "step", "tokens": 1024}, {"kind": "step", "tokens": 4096, "empty": True, "tier": "high"}],
    "position": [3, 0, None, 1, 22], "start": [(240.0, 360.0), (0.0, 0.4)], "finish": [(300.0, 900.0), (5.0, 5.0)],
    "state": ["done", "failed", "cancelled"], "goal": ["tier_wait_spread", "solo_wait", "max_wait", "throughput"],
    "number": [1, 2, 3, 11, 23], "owner": ["ana"], "card": ["RTX 4090"],
    "option": ["fp8-storage", "sequential", "tiled", "--lowvram"], "max_over": [0.08], "under": [0, 2],
    "options": [("fp8-storage", "tiled"), ("--medvram",), ()],
    "phase": ["denoise", "step", "decode"], "family": ["flux", "wan", "sdxl"],
    "fits": [True, False, None], "margin": [1.35], "run_status": ["ok", "oom", "skipped", "planned", "error"],
    "problem": PROJECT_PROBLEMS,
    "parts": [["Create Image about 3–12 min", "Create Video about 46 min – 3.1 h as ⚖️ Standard"]],
    "word": ["run"], "many": [None, "people"], "cores": [1, 16], "measured": [1, 10], "times": [1, 3],
    "runs": [10, 1], "fallbacks": [0, 1, 4], "asked": [0, 1, 3], "accepted": [0, 1, 2], "hours": [1.0, 8.0],
}
BY_TYPE: dict[str, list[Any]] = {"str": ["21.4 GB"], "int": [1, 0, 3], "bool": [True, False],
                                  "float": [45.0, 600.0, 9000.0], "float | None": [0.5, None],
                                  "str | None": ["the runner exited with code 2", None]}


def renderings() -> list[str]:
    catalog = load_catalog()
    tiers = catalog.tiers.tiers
    out: list[str] = []
    for name, fn in vars(messages).items():
        if isinstance(fn, str) and name.isupper():
            out.append(fn)
        elif isinstance(fn, list) and name.isupper():
            out += fn
        elif inspect.isfunction(fn) and fn.__module__.startswith(messages.__name__):
            out += render_all(fn, tiers)
    out += list(catalog.tiers.functions)
    return out


def render_all(fn: Callable[..., str], tiers: Any) -> list[str]:
    """fn rendered with every tier (and every other tier) and every sample value of each parameter."""
    params = inspect.signature(fn).parameters
    names = {"tier": [t.name for t in tiers], "requested": [t.label for t in tiers],
             "runs_as": [t.label for t in tiers]}
    samples = {p: names.get(p) or SAMPLES.get(p) or BY_TYPE.get(str(v.annotation)) for p, v in params.items()
               if str(v.annotation) != "Tier"}
    tier_params = [p for p, v in params.items() if str(v.annotation) == "Tier"]
    results = []
    for tier in tiers:
        for other in tiers:
            base = {p: vals[0] for p, vals in samples.items() if vals}
            base.update(dict(zip(tier_params, [tier, other])))
            results.append(fn(**base))
            for p, vals in samples.items():
                for alt in (vals or [])[1:]:
                    results.append(fn(**{**base, p: alt}))
    return results


def test_every_message_is_free_of_jargon() -> None:
    terms = load_catalog().models.jargon()
    texts = renderings()
    assert len(texts) > 50
    for text in texts:
        assert not find_jargon(text, terms), text


def test_the_jargon_check_catches_what_it_should() -> None:
    terms = load_catalog().models.jargon()
    assert find_jargon("Using FLUX in bf16 with --lowvram", terms) == ["flux", "bf16", "lowvram"]
    assert find_jargon("Needs more VRAM; offloading", terms) == ["vram", "offloading"]
    assert find_jargon("wan2gp-pro", terms) == ["wan2gp-pro"]
    assert find_jargon("Balanced quality, about 30-60 seconds", terms) == []
    assert find_jargon("influx of wanderers", terms) == []  # whole words only


PLURAL_NOUNS = ("hours", "runs", "files", "problems", "lines", "tasks", "machines", "measurements", "sizes",
                "settings", "times", "cores", "people", "minutes", "seconds", "cards")


def test_counts_agree_with_their_nouns_and_nothing_is_said_twice() -> None:
    """"1 hours", "1 runs": a count of one takes the singular; "Error: Cancelled: ..." and "Note: Note:" say
    their prefix twice; a flag is not words for people."""
    import re

    one = re.compile(r"(?<![\d.,])(?<!Task )1 (" + "|".join(PLURAL_NOUNS) + r")\b")
    for text in set(renderings()):
        assert not one.search(text), text
        assert not re.match(r"(Error|Note|Cancelled): (Error|Note|Cancelled)\b", text), text
        assert "--yes" not in text and "explicitly" not in text, text


def test_the_count_rule_catches_what_it_should() -> None:
    assert messages.plural(1, "hour") == "1 hour" and messages.plural(2, "hour") == "2 hours"
    assert messages.plural(0, "person", "people") == "0 people"
    assert messages.recorded(1) == "Recorded 1 run."
    assert messages.pruned(2, "May") == "Deleted 2 runs started before May."
    assert "1 hour (" in messages.simulation_heading("Create Image", "RTX 4090", 4, 0.7, 1, 0, 1)
    assert messages.reason_lost(1) == "its worker stopped 1 time"


def test_stats_says_nobody_was_asked_when_nobody_was() -> None:
    assert messages.fallbacks_line(10, 4, 0, 0) == ("4 of 10 runs (40%) used a lower quality than asked; nobody was "
                                                     "asked first.")
    assert messages.fallbacks_line(10, 4, 3, 2) == ("4 of 10 runs (40%) used a lower quality than asked; people were "
                                                     "asked first 3 times and went ahead 2 times.")
    assert messages.fallbacks_line(1, 0, 0, 0) == "None of the 1 run used a lower quality than asked."
