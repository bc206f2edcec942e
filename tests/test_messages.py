"""Every sentence for people, rendered for every tier and function: no model names, flags or jargon."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from qms_cli.catalog import load_catalog
from qms_cli.jargon import find_jargon
from qms_cli.render import messages

SAMPLES: dict[str, Any] = {"changed": [True, False], "is_default": [True, False], "node": ["hero-shot"],
                           "path": ["/home/ana/posters/project.json"], "name": ["Spring posters"],
                           "files": [1, 3], "problems": [1, 2]}


def renderings() -> list[str]:
    catalog = load_catalog()
    tiers = catalog.tiers.tiers
    out: list[str] = []
    for name, fn in vars(messages).items():
        if isinstance(fn, str) and name.isupper():
            out.append(fn)
            continue
        if not inspect.isfunction(fn) or fn.__module__ != messages.__name__:
            continue
        out += render_all(fn, tiers)
    out += list(catalog.tiers.functions)
    return out


def render_all(fn: Callable[..., str], tiers: Any) -> list[str]:
    params = list(inspect.signature(fn).parameters)
    results = []
    for tier in tiers:
        for other in tiers:
            args = []
            for p in params:
                if p in ("tier", "project_tier"):
                    args.append(tier if p == "tier" else other)
                else:
                    args.append(SAMPLES[p][0])
            results.append(fn(*args))
            for p in params:  # every sample value of each parameter
                for alt in SAMPLES.get(p, [])[1:]:
                    results.append(fn(*[alt if q == p else a for q, a in zip(params, args)]))
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
