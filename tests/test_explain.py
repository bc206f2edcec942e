"""explain.py on hand-built routes: each notice kind, the route's status and the hint for the tier above, as facts.

The rungs' peaks, main memory and times are set by hand, so every expected figure follows from them, the
machine and the card sizes sold as profiles/cards.yaml lists them (read here from the file itself).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from qms_cli.catalog.load import load_catalog, locate
from qms_cli.catalog.tiers import Tier
from qms_cli.errors import DataError
from qms_cli.estimate.predict import Prediction
from qms_cli.hardware import Gpu, GpuProcess, Resources, System
from qms_cli.plan import explain
from qms_cli.plan.notices import Notice, Remedy, Shortfall, Status, Upgrade
from qms_cli.plan.routing import Route, Router, Rung
from qms_cli.units import GIB

BASE = load_catalog()
SOLD = BASE.card_sizes  # what the router hands explain, through the catalogue
SIZES_GB: list[int] = yaml.safe_load(locate(list(BASE.dirs), "cards.yaml").read_text(encoding="utf-8"))["sizes_sold"]
LOW, STANDARD, HIGH = BASE.tiers.tiers
FN = "Create Image"
RESERVE = 2 * GIB


def card(need: int) -> int:
    """The smallest card size sold with `need` free after the reserve, from the profile's list in GB."""
    return next(gb * GIB for gb in SIZES_GB if gb * GIB >= need + RESERVE)


def machine(total_gb: float | None, held_gb: float = 0, ram_free_gb: float = 60) -> Resources:
    gpus = () if total_gb is None else (
        Gpu(0, "NVIDIA GeForce RTX 4090", total=int(total_gb * GIB), used=int(held_gb * GIB),
            free=int((total_gb - held_gb) * GIB), reserved=0,
            processes=(GpuProcess(7, "viewer", int(held_gb * GIB)),) if held_gb else ()),)
    return Resources(gpus, System(64 * GIB, int(ram_free_gb * GIB), 16, 32, "Test CPU"),
                     "simulated" if gpus else "none", RESERVE)


def rung(res: Resources, tier: Tier, peak_gb: float, seconds: float, *, ram_gb: float = 4, mapped: bool = True,
         cpu: bool = False, skipped: str | None = None) -> Rung:
    """A rung with its predicted figures set by hand; it fits by the machine's available memory."""
    config = tier.mappings[FN]
    if not mapped:  # a lighter way of the same tier: any options other than the mapping's
        config = replace(config, options=(*config.options, "lighter"))
    peak, ram = int(peak_gb * GIB), int(ram_gb * GIB)
    p = Prediction(peak, (("denoise", peak),), seconds, seconds * 0.8, seconds * 1.3, (), 4096, 1024, 1024, False,
                   "set by hand", ram=ram)
    device = None if cpu else res.best_gpu
    card_fits = cpu or (device is not None and peak <= res.available_vram)
    ram_fits = ram <= res.available_ram
    return Rung(tier, config, device, cpu, p, card_fits and ram_fits, skipped, card_fits, ram_fits)


def route(res: Resources, requested: Tier, chosen: Rung, *rungs: Rung) -> Route:
    return Route(FN, requested, chosen, (chosen, *rungs), (), res.available_vram, res.available_ram)


def notices(r: Route, res: Resources, too_slow: bool = False, max_time: float | None = None) -> list[Notice]:
    return explain.notices(r, res, too_slow, max_time, SOLD)


def test_the_card_sizes_come_from_the_profile() -> None:
    assert tuple(gb * GIB for gb in SIZES_GB) == SOLD and list(SOLD) == sorted(SOLD)


def test_graphics_memory_short_with_programs_holding_it_says_close_them_or_a_card() -> None:
    res = machine(24, held_gb=6)  # 18 GB free, 16 GB available after the reserve
    high, lighter = rung(res, HIGH, 20, 200), rung(res, HIGH, 17, 300, mapped=False)
    std = rung(res, STANDARD, 10, 100)
    r = route(res, HIGH, std, high, lighter)
    assert notices(r, res) == [Notice("quality_fallback", FN, HIGH, STANDARD, False,
                                      Shortfall("graphics_memory", 17 * GIB, 16 * GIB),
                                      Remedy("close_programs", card=card(17 * GIB), held=6 * GIB))]
    assert explain.status(r, RESERVE, SOLD) == Status("falls_back", card(17 * GIB))


def test_graphics_memory_short_with_nothing_else_on_the_card_says_a_card() -> None:
    res = machine(12)  # 10 GB available
    r = route(res, HIGH, rung(res, STANDARD, 8, 100), rung(res, HIGH, 20, 200), rung(res, HIGH, 17, 300,
                                                                                    mapped=False))
    (n,) = notices(r, res)
    assert (n.shortfall, n.remedy) == (Shortfall("graphics_memory", 17 * GIB, 10 * GIB),
                                       Remedy("card", card=card(17 * GIB)))


def test_programs_holding_too_little_to_matter_are_not_mentioned() -> None:
    res = machine(12, held_gb=1)  # 11 GB free, 9 available; closing the 1 GB would still not make 17
    r = route(res, HIGH, rung(res, STANDARD, 8, 100), rung(res, HIGH, 17, 200))
    (n,) = notices(r, res)
    assert n.remedy == Remedy("card", card=card(17 * GIB))


def test_main_memory_short_says_how_much_to_free() -> None:
    res = machine(24, ram_free_gb=31)  # 30 GB of main memory available after its 1 GB reserve
    assert res.available_ram == 30 * GIB
    high, heavy = rung(res, HIGH, 10, 200, ram_gb=40), rung(res, HIGH, 8, 300, ram_gb=36, mapped=False)
    r = route(res, HIGH, rung(res, STANDARD, 8, 100, ram_gb=10), high, heavy)
    assert notices(r, res) == [Notice("quality_fallback", FN, HIGH, STANDARD, False,
                                      Shortfall("main_memory", 36 * GIB, 30 * GIB),
                                      Remedy("main_memory", need=36 * GIB))]


def test_no_card_falls_back_to_the_processor_and_names_the_card_to_add() -> None:
    res = machine(None)
    cpu = rung(res, LOW, 0, 900, cpu=True)
    r = route(res, HIGH, cpu, rung(res, HIGH, 20, 200), rung(res, HIGH, 14, 300, mapped=False))
    assert notices(r, res) == [Notice("quality_fallback", FN, HIGH, LOW, True, Shortfall("no_card", 14 * GIB),
                                      Remedy("card", card=card(14 * GIB)))]
    assert explain.status(r, RESERVE, SOLD) == Status("falls_back", card(14 * GIB))


def test_the_lowest_tier_on_the_processor_is_a_processor_notice() -> None:
    res = machine(None)
    cpu = rung(res, LOW, 0, 900, cpu=True)
    r = route(res, LOW, cpu, rung(res, LOW, 6, 60))
    (n,) = notices(r, res)
    assert (n.kind, n.requested, n.actual, n.on_cpu) == ("processor", LOW, LOW, True)
    assert n.shortfall == Shortfall("no_card", 6 * GIB)
    assert explain.status(r, RESERVE, SOLD) == Status("processor", card(6 * GIB))


def test_a_tier_skipped_for_time_says_allow_more_time() -> None:
    res = machine(24)
    slow = rung(res, HIGH, 10, 500, skipped="slower than the time limit")
    r = route(res, HIGH, rung(res, STANDARD, 8, 100), slow)
    assert notices(r, res, max_time=120) == [Notice("quality_fallback", FN, HIGH, STANDARD, False,
                                                    Shortfall("too_slow", seconds=500, limit=120),
                                                    Remedy("more_time"))]


def test_slower_settings_when_the_mapping_does_not_fit_name_the_card_for_full_speed() -> None:
    res = machine(24, held_gb=6)  # 16 GB available
    mapped, lighter = rung(res, HIGH, 20, 200), rung(res, HIGH, 12, 300, mapped=False)
    r = route(res, HIGH, lighter, mapped)
    assert notices(r, res) == [Notice("slower_settings", FN, HIGH, HIGH, False,
                                      Shortfall("graphics_memory", 20 * GIB, 16 * GIB),
                                      Remedy("full_speed", card=card(20 * GIB)))]
    assert explain.status(r, RESERVE, SOLD) == Status("slower", card(20 * GIB))


def test_slower_settings_for_main_memory_say_so() -> None:
    res = machine(24, ram_free_gb=21)  # 20 GB of main memory available
    mapped, lighter = rung(res, HIGH, 12, 200, ram_gb=25), rung(res, HIGH, 10, 300, ram_gb=12, mapped=False)
    (n,) = notices(route(res, HIGH, lighter, mapped), res)
    assert n.shortfall == Shortfall("main_memory", 25 * GIB, 20 * GIB)


def test_a_lighter_rung_that_is_faster_anyway_is_no_step_down() -> None:
    res = machine(24, held_gb=6)
    r = route(res, HIGH, rung(res, HIGH, 12, 150, mapped=False), rung(res, HIGH, 20, 200))
    assert notices(r, res) == [] and explain.status(r, RESERVE, SOLD) == Status("runs")


def test_nothing_within_the_time_limit_is_a_time_limit_notice() -> None:
    res = machine(24)
    quickest = rung(res, LOW, 6, 400)
    r = route(res, LOW, quickest)
    assert notices(r, res, too_slow=True, max_time=60) == [
        Notice("time_limit", FN, LOW, LOW, False, Shortfall("time_limit", seconds=400, limit=60), None)]


def test_nothing_fitting_is_not_runnable_with_the_main_memory_it_needs() -> None:
    res = machine(12, ram_free_gb=9)  # 8 GB of main memory available
    cpu = rung(res, LOW, 0, 900, cpu=True, ram_gb=14)
    r = route(res, LOW, cpu, rung(res, LOW, 6, 60, ram_gb=11), rung(res, LOW, 20, 60, ram_gb=5))
    assert not r.runnable
    # The least main memory of a rung whose graphics memory is there: the 11 GB card rung (the 20 GB one
    # does not fit the card), not the processor's 14 GB.
    assert notices(r, res) == [Notice("not_runnable", FN, LOW, LOW, True, Shortfall("nothing_fits", 11 * GIB, 8 * GIB),
                                      Remedy("free_main_memory"))]
    assert explain.status(r, RESERVE, SOLD) == Status("cannot_run", None, 11 * GIB)


def test_upgrade_hint_kinds() -> None:
    res = machine(24, held_gb=6)  # 16 GB available
    runs = route(res, HIGH, rung(res, HIGH, 12, 200))
    assert explain.upgrade_hint(res, runs, SOLD) == Upgrade("runs", HIGH, seconds=200)
    slower = route(res, HIGH, rung(res, HIGH, 12, 300, mapped=False), rung(res, HIGH, 20, 200))
    assert explain.upgrade_hint(res, slower, SOLD) == Upgrade("runs_slower", HIGH, seconds=300, need=card(20 * GIB))
    short = machine(24, ram_free_gb=21)
    ram = route(short, HIGH, rung(short, STANDARD, 8, 100), rung(short, HIGH, 12, 200, ram_gb=30))
    assert explain.upgrade_hint(short, ram, SOLD) == Upgrade("main_memory", HIGH, need=30 * GIB)
    big = route(res, HIGH, rung(res, STANDARD, 8, 100), rung(res, HIGH, 30, 200), rung(res, HIGH, 22, 300,
                                                                                       mapped=False))
    assert explain.upgrade_hint(res, big, SOLD) == Upgrade("card", HIGH, need=card(22 * GIB))


def test_the_card_sizes_people_are_told_follow_the_profile(tmp_path: Path) -> None:
    """Sizes sold are read from profiles/cards.yaml: a folder listing others changes the card named."""
    bundled = Path(locate(list(BASE.dirs), "cards.yaml"))
    data = yaml.safe_load(bundled.read_text(encoding="utf-8"))
    data["sizes_sold"] = [10, 30, 300]
    (tmp_path / "cards.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    catalog = load_catalog(str(tmp_path))  # tiers, models and throughput from further down the path
    res = machine(4)  # 2 GB available: the high tier falls back
    router = Router(catalog, res, catalog.throughput)
    assert router.card_sizes == (10 * GIB, 30 * GIB, 300 * GIB)
    r = router.route(FN, catalog.tiers.get("high"))
    (n,) = [n for n in r.notices if n.kind == "quality_fallback"]
    need = min(x.prediction.peak for x in r.rungs if x.tier.id == "high" and not x.on_cpu)
    told = next(gb * GIB for gb in (10, 30, 300) if gb * GIB >= need + RESERVE)
    assert n.remedy == Remedy("card", card=told) and r.status == Status("falls_back", told)


def test_card_sizes_out_of_order_are_one_clear_line(tmp_path: Path) -> None:
    data = yaml.safe_load(locate(list(BASE.dirs), "cards.yaml").read_text(encoding="utf-8"))
    data["sizes_sold"] = [24, 12]
    (tmp_path / "cards.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(DataError, match=r"cards\.yaml::\$\.sizes_sold: list the sizes smallest first"):
        load_catalog(str(tmp_path)).card_sizes  # noqa: B018  (reading the sizes checks them)
