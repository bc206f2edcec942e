"""The router: properties over random machines, tiers, tasks and custom tier sets; explanations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import Catalog, load_catalog
from qms_cli.hardware import Gpu, GpuProcess, Resources, System
from qms_cli.plan.routing import Router
from qms_cli.render.messages.plan import notice as words
from qms_cli.render.messages.plan import upgrade as hint_words
from qms_cli.units import GIB
from tests.conftest import PROFILES

CARDS = ["NVIDIA GeForce RTX 3060", "NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-80GB", "Some Future Card"]
BASE = load_catalog()
TIERS_DATA = yaml.safe_load((PROFILES / "tiers.yaml").read_text())
MODELS_DATA = yaml.safe_load((PROFILES / "models.yaml").read_text())


def resources(cards: list[tuple[str, float, float]], reserve_gb: float = 2,
              ram_gb: tuple[float, float] = (64, 60)) -> Resources:
    gpus = tuple(Gpu(index=i, name=n, total=int(t * GIB), used=int(u * GIB), free=int((t - u) * GIB), reserved=0,
                     processes=(GpuProcess(100 + i, "viewer", int(u * GIB)),) if u else ())
                 for i, (n, t, u) in enumerate(cards))
    ram_total, ram_free = (int(x * GIB) for x in ram_gb)
    return Resources(gpus, System(ram_total, ram_free, 16, 32, "Test CPU"), "simulated" if gpus else "none",
                     int(reserve_gb * GIB))


@st.composite
def machines(draw: Any) -> Resources:
    n = draw(st.integers(0, 3))
    cards = []
    for _ in range(n):
        total = draw(st.sampled_from([4, 6, 8, 12, 16, 24, 32, 48, 80]))
        used = draw(st.floats(0, total * 0.9))
        cards.append((draw(st.sampled_from(CARDS)), total, used))
    ram = draw(st.sampled_from([8, 16, 24, 32, 64, 128, 512]))
    free = draw(st.floats(ram * 0.2, ram * 0.95))
    return resources(cards, draw(st.sampled_from([0, 1, 2, 4])), (ram, free))


def expected_fits(r: Any, res: Resources) -> bool:
    """Brute force, from the rung's own predictions and the machine as drawn: graphics memory on the roomiest
    card (free less the reserve) and main memory (available less its reserve)."""
    rooms = [(g.free or 0) - res.reserve for g in res.gpus]
    card = r.on_cpu or (bool(rooms) and r.prediction.peak <= max(rooms))
    return card and r.prediction.ram <= res.system.ram_available - res.ram_reserve


@st.composite
def tier_sets(draw: Any) -> Catalog:
    """The bundled tiers, a subset of them, or with a fourth tier; with any names."""
    tiers = [dict(t) for t in TIERS_DATA["tiers"]]
    keep = draw(st.lists(st.sampled_from(range(3)), min_size=1, max_size=3, unique=True))
    chosen = [tiers[i] for i in sorted(keep)]
    if draw(st.booleans()):
        chosen.append({**tiers[2], "id": "ultra", "name": "Ultra", "icon": "🚀", "target_vram": "48GB"})
    for i, t in enumerate(chosen):
        t["name"] = draw(st.sampled_from(["Draft", "Good", "Better", "Best", t["name"]])) + f" {i}"
    data = {"version": 1, "tiers": chosen}
    return Catalog(data, MODELS_DATA, BASE.sources, BASE.dirs)


tasks = st.tuples(st.sampled_from(["Create Image", "Create Video"]), st.none() | st.integers(1, 161),
                  st.integers(1, 4))


@settings(max_examples=150, deadline=None)
@given(machines(), tier_sets(), tasks, st.data())
def test_route_properties(res: Resources, catalog: Catalog, task: tuple[str, int | None, int], data: Any) -> None:
    function, frames, count = task
    frames = frames if function == "Create Video" else None
    requested = data.draw(st.sampled_from(catalog.tiers.tiers))
    route = Router(catalog, res, catalog.throughput).route(function, requested, frames, count)
    chosen = route.chosen
    fitting = [r for r in route.rungs if expected_fits(r, res)]
    assert {id(r) for r in fitting} == {id(r) for r in route.rungs if r.fits}
    if not fitting:  # nothing fits: declared not runnable, with the reason
        assert not route.runnable and not chosen.fits
        assert [n.kind for n in route.notices] == ["not_runnable"]
        return
    assert route.runnable and chosen.fits
    # No chosen rung needs more graphics or main memory than there is.
    assert chosen.prediction.ram <= res.system.ram_available - res.ram_reserve
    if not chosen.on_cpu:
        assert chosen.prediction.peak <= max((g.free or 0) - res.reserve for g in res.gpus)
    # The highest tier with a fitting rung, and in it the fastest fitting rung.
    top = max(r.tier.rank for r in fitting)
    assert chosen.tier.rank == top and top <= requested.rank
    assert chosen.prediction.seconds == min(r.prediction.seconds for r in fitting if r.tier.rank == top)
    # The ladder holds the tier as mapped and, where the model allows it, the same output with no offloading.
    mapped = requested.mappings[function].options
    own = [r for r in route.rungs if r.tier.id == requested.id and not r.on_cpu]
    assert any(r.config.options == mapped for r in own)
    assert any(not any(catalog.models.options[o].offload != "none" for o in r.config.options) for r in own)
    # The same input gives the same plan.
    again = Router(catalog, res, catalog.throughput).route(function, requested, frames, count)
    assert (again.chosen.tier.id, again.chosen.config, again.chosen.on_cpu, again.notices) == \
        (chosen.tier.id, chosen.config, chosen.on_cpu, route.notices)
    # More memory never gives a lower tier.
    extra = data.draw(st.sampled_from([1, 4, 16, 64])) * GIB
    bigger = res._replace(gpus=tuple(replace(g, total=(g.total or 0) + extra, free=(g.free or 0) + extra)
                                     for g in res.gpus) or (Gpu(0, "NVIDIA GeForce RTX 4090", total=extra, used=0,
                                                                free=extra, reserved=0, processes=()),))
    bigger = bigger._replace(system=bigger.system._replace(ram_available=bigger.system.ram_available + extra))
    more = Router(catalog, bigger, catalog.throughput).route(function, requested, frames, count)
    assert more.runnable and more.chosen.tier.rank >= chosen.tier.rank
    # Every step down is explained in plain words.
    if route.fallback:
        (notice,) = [n for n in route.notices if n.kind == "quality_fallback"]
        assert notice.requested.id == requested.id and notice.actual.id == chosen.tier.id
        assert not find_jargon(words(notice).message, catalog.models.jargon())


def test_the_issue_example() -> None:
    """High needs more than is free; others hold memory: use Standard, say why and what would help."""
    res = resources([("NVIDIA GeForce RTX 4090", 24, 6)], reserve_gb=0)
    catalog = BASE
    route = Router(catalog, res, catalog.throughput).route("Create Video", catalog.tiers.get("high"))
    assert route.chosen.tier.id == "standard" and route.fallback
    (notice,) = route.notices
    assert notice.kind == "quality_fallback" and (notice.requested.id, notice.actual.id) == ("high", "standard")
    n = words(notice)
    assert n.reason.startswith("High needs about ") and n.reason.endswith(" of graphics memory; 18 GB are free.")
    assert "Using Standard." in n.message
    # The card to run High at all: the smallest sold (as the card table lists them) with its lightest rung's
    # need free (reserve 0 here).
    lightest = min(r.prediction.peak for r in route.rungs if r.tier.id == "high" and not r.on_cpu)
    card = next(size // GIB for size in catalog.card_sizes if size >= lightest)
    assert n.suggestion == ("To use High: close other programs using the graphics card (they hold 6 GB), "
                            f"or use a card with {card} GB or more.")


def test_multi_gpu_uses_the_card_with_most_room() -> None:
    res = resources([("NVIDIA GeForce RTX 3060", 12, 1), ("NVIDIA GeForce RTX 4090", 24, 20),
                     ("NVIDIA A100-SXM4-80GB", 80, 2)])
    route = Router(BASE, res, BASE.throughput).route("Create Image", BASE.tiers.get("high"))
    assert route.chosen.device is not None and route.chosen.device.index == 2 and not route.notices


def test_no_card_runs_the_lowest_tier_on_the_processor() -> None:
    res = resources([])
    for tier in BASE.tiers.tiers:
        route = Router(BASE, res, BASE.throughput).route("Create Image", tier)
        assert route.chosen.on_cpu and route.chosen.tier.id == "low"
        assert route.notices[0].kind == ("processor" if tier.id == "low" else "quality_fallback")
        assert "processor" in words(route.notices[0]).message


def test_max_time_skips_slow_rungs() -> None:
    res = resources([("NVIDIA GeForce RTX 4090", 24, 1)])
    router = Router(BASE, res, BASE.throughput)
    slow = router.route("Create Image", BASE.tiers.get("high"))
    quick = router.route("Create Image", BASE.tiers.get("high"), max_time=120)
    assert slow.chosen.tier.id == "high" and quick.chosen.tier.id != "high"
    assert quick.chosen.prediction.seconds <= 120
    assert any(r.skipped == "slower than the time limit" for r in quick.rungs)
    assert "allow more time" in words(quick.notices[0]).suggestion
    none = router.route("Create Video", BASE.tiers.get("high"), max_time=1)
    assert any(n.kind == "time_limit" for n in none.notices)
    assert none.chosen.prediction.seconds == min(r.prediction.seconds for r in none.rungs if r.fits)


@pytest.mark.parametrize("machine", ["cpu-only", "laptop-8gb", "rtx-3060-12gb", "rtx-4080-16gb", "rtx-4090-24gb",
                                     "a100-80gb"])
def test_every_notice_on_every_machine_is_plain(machine: str) -> None:
    from qms_cli.hardware import probe
    from qms_cli.plan.manager import QualityManager

    res = probe(hardware=machine, catalog=BASE)
    qm = QualityManager(BASE, res, BASE.throughput)
    terms = BASE.models.jargon()
    for tier in BASE.tiers.tiers:
        for fn in BASE.tiers.functions:
            plan = qm.plan(fn, quality=tier.id)
            for n in plan.route.notices:
                assert not find_jargon(words(n).message, terms), words(n).message
            assert not plan.upgrade or not find_jargon(hint_words(plan.upgrade), terms)
