"""Main memory in every decision, the best rung of a tier, and the card sizes people are told (issue 14 items
4-5, issue 13 "Figures that agree"): through the router and the real `qms` program."""

from __future__ import annotations

from pathlib import Path

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.hardware import Gpu, Resources, System, probe
from qms_cli.plan.manager import QualityManager
from qms_cli.plan.routing import Router
from qms_cli.render.messages.plan import notice as words
from qms_cli.render.messages.plan import upgrade as hint_words
from qms_cli.units import GIB
from tests.conftest import run_qms, validate_output

BASE = load_catalog()


def machine(card: str | None, total_gb: float, ram_gb: float = 64) -> Resources:
    gpus = () if card is None else (Gpu(0, card, total=int(total_gb * GIB), used=0, free=int(total_gb * GIB),
                                        reserved=0, processes=()),)
    return Resources(gpus, System(int(ram_gb * GIB), int(ram_gb * GIB), 16, 32, "Test CPU"), "simulated",
                     2 * GIB)


def offloads(options: tuple[str, ...]) -> bool:
    return any(BASE.models.options[o].offload != "none" for o in options)


def rank(options: tuple[str, ...]) -> int:
    from qms_cli.estimate.predict import Effects

    return Effects.of(options, BASE.models.options).offload_rank


def test_standard_image_runs_as_designed_on_a_16_gb_card() -> None:
    route = Router(BASE, machine("NVIDIA GeForce RTX 4080", 16), BASE.throughput).route(
        "Create Image", BASE.tiers.get("standard"))
    mapped = BASE.tiers.get("standard").mappings["Create Image"].options
    assert route.chosen.tier.id == "standard" and not route.chosen.on_cpu
    assert rank(route.chosen.config.options) <= rank(mapped)  # its mapped options, or weaker
    assert not route.notices


def test_low_image_runs_without_offloading_on_a_24_gb_card() -> None:
    route = Router(BASE, machine("NVIDIA GeForce RTX 4090", 24), BASE.throughput).route(
        "Create Image", BASE.tiers.get("low"))
    assert route.chosen.tier.id == "low" and not offloads(route.chosen.config.options)
    mapped = next(r for r in route.rungs if r.config.options == ("--lowvram",))
    assert mapped.fits and route.chosen.prediction.seconds < mapped.prediction.seconds  # relaxed: faster


def test_offloading_needs_main_memory() -> None:
    """The same 24 GB card: High image fits only by offloading its 31.6 GiB of weights to main memory, which a
    16 GB machine does not have; with 64 GB it does."""
    high = BASE.tiers.get("high")
    small = Router(BASE, machine("NVIDIA GeForce RTX 4090", 24, ram_gb=16), BASE.throughput).route("Create Image", high)
    big = Router(BASE, machine("NVIDIA GeForce RTX 4090", 24, ram_gb=64), BASE.throughput).route("Create Image", high)
    assert big.chosen.tier.id == "high" and offloads(big.chosen.config.options)
    assert big.chosen.prediction.ram > 31 * GIB
    assert small.chosen.tier.id != "high"
    assert all(not r.fits for r in small.rungs if r.tier.id == "high" and offloads(r.config.options))
    (n,) = [words(n) for n in small.notices if n.kind == "quality_fallback"]
    assert "of main memory here" in n.reason and "main memory free" in n.suggestion


def test_laptop_high_image_no_longer_runs_layer_by_layer() -> None:
    import yaml

    from qms_cli.units import parse_size

    res = probe(hardware="laptop-8gb", catalog=BASE)
    ram = parse_size(yaml.safe_load(BASE.hardware_files()["laptop-8gb"].read_text(encoding="utf-8"))["ram"])
    assert res.system.ram_total == ram and res.available_ram == ram - GIB  # main memory less the 1 GiB reserve
    route = QualityManager(BASE, res, BASE.throughput).plan("Create Image", quality="high").route
    assert not any(r.fits for r in route.rungs if r.tier.id == "high")
    layer = next(r for r in route.rungs if r.tier.id == "high" and "sequential" in r.config.options)
    assert layer.card_fits and not layer.ram_fits  # the card would hold it; main memory would not
    # Every image rung needs more main memory than the laptop has: the task is not runnable, said plainly.
    assert not route.runnable
    (notice,) = route.notices
    assert notice.kind == "not_runnable"
    n = words(notice)
    assert n.reason.startswith("This machine cannot run Create Image at any quality: it needs about ")
    assert n.reason.endswith(" of main memory and has 15 GB free.")


def test_no_card_and_too_little_memory_is_not_runnable_either() -> None:
    route = Router(BASE, machine(None, 0, ram_gb=8), BASE.throughput).route("Create Image", BASE.tiers.get("low"))
    assert not route.runnable and route.chosen.on_cpu and not route.chosen.ram_fits


def test_plan_run_and_queue_add_exit_3_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env = {"QMS_DB": str(tmp_path / "q.sqlite3")}
    plan = run_qms("plan", "Create Image", "--hardware", "laptop-8gb", "--json", env=env)
    assert plan.code == 3, plan.err
    data = plan.json()
    validate_output(data, "plan")
    (task,) = data["tasks"]
    assert task["runnable"] is False and task["notices"][0]["type"] == "not_runnable"
    assert data["summary"]["not_runnable"] == 1
    assert data["machine"]["available_ram_bytes"] == 15 * GIB
    assert not any(r["fits"] for r in task["rungs"])
    assert all(r["ram_fits"] is False for r in task["rungs"] if r["card_fits"])
    people = run_qms("plan", "Create Image", "--hardware", "laptop-8gb", env=env)
    assert people.code == 3 and "cannot run Create Image at any quality" in people.out
    assert people.err.strip().endswith("this task cannot run on this machine.")
    ran = run_qms("run", "-f", "Create Image", "--hardware", "laptop-8gb", "--", "touch", str(marker), env=env)
    assert ran.code == 3 and not marker.exists() and "cannot run Create Image" in ran.err
    for extra in ([], ["--fallback"]):
        queued = run_qms("queue", "add", "Create Image", "--hardware", "laptop-8gb", "--owner", "ana", *extra, env=env)
        assert queued.code == 3, queued.err
    listed = run_qms("queue", "list", "--json", env=env)
    assert listed.code == 0 and listed.json()["tasks"] == []
    # Video fits the same laptop: planned, exit 0.
    assert run_qms("plan", "Create Video", "--hardware", "laptop-8gb", env=env).code == 0


def test_probe_reports_main_memory() -> None:
    r = run_qms("probe", "--hardware", "laptop-8gb", "--json")
    assert r.code == 0, r.err
    validate_output(r.json(), "resources")
    system = r.json()["system"]
    assert system["available_ram_bytes"] == system["ram_available_bytes"] - system["ram_reserve_bytes"]


def test_technical_shows_which_options_were_relaxed() -> None:
    r = run_qms("plan", "Create Image", "--quality", "low", "--hardware", "rtx-4090-24gb", "--technical")
    assert r.code == 0, r.err
    assert "Create Image: memory options without --lowvram (compared with the mapping)" in r.out


@pytest.mark.parametrize("machine_name", ["rtx-3060-12gb", "rtx-4080-16gb", "rtx-4090-24gb", "cpu-only"])
def test_card_sizes_agree_between_notices_hints_and_tiers(machine_name: str) -> None:
    """One rule for the card sizes people are told: to run a tier as designed (its mapped options fit) and to
    run it at all (its lightest rung fits). The notice, the hint (for the tier asked for) and `qms tiers` name
    the same card for the same tier."""
    import yaml

    from qms_cli.catalog.load import locate
    from qms_cli.plan.explain import card_as_designed, card_at_all
    from qms_cli.plan.listing import on_this_machine
    from qms_cli.units import format_size

    res = probe(hardware=machine_name, catalog=BASE)
    qm = QualityManager(BASE, res, BASE.throughput)
    here, _, _ = on_this_machine(BASE, res)
    sizes = yaml.safe_load(locate(list(BASE.dirs), "cards.yaml").read_text(encoding="utf-8"))["sizes_sold"]
    sold = BASE.card_sizes
    for tier in BASE.tiers.tiers:
        for fn in BASE.tiers.functions:
            plan = qm.plan(fn, quality=tier.id)
            route = plan.route
            h = here[tier.id][fn]
            designed = card_as_designed(route.rungs, tier.id, tier.mappings[fn].options, res.reserve, sold)
            at_all = card_at_all(route.rungs, tier.id, res.reserve, sold)
            # Compute the two sizes independently of explain.py: the smallest card size sold (GB, as
            # profiles/cards.yaml lists them) with the mapped rung's (or the lightest rung's) peak free after the
            # reserve.
            own = [r for r in route.rungs if r.tier.id == tier.id and not r.on_cpu]
            mapped = next(r for r in own if r.config.options == tier.mappings[fn].options)
            assert designed == next(g * GIB for g in sizes if g * GIB >= mapped.prediction.peak + res.reserve)
            assert at_all == next(g * GIB for g in sizes
                                  if g * GIB >= min(r.prediction.peak for r in own) + res.reserve)
            if h.status == "slower":
                assert h.needs_card == designed
                (n,) = [words(n) for n in route.notices if n.kind == "slower_settings"]
                assert format_size(designed) in n.suggestion
            elif h.status in ("falls_back", "processor"):
                assert h.needs_card == at_all
                (n,) = [words(n) for n in route.notices if n.kind in ("quality_fallback", "processor")]
                if "main memory" not in n.suggestion and "more time" not in n.suggestion:
                    assert n.suggestion.endswith(f"{format_size(at_all)} or more.")
                if route.fallback:  # the hint names the tier that was asked for, with the same card
                    assert plan.upgrade is not None
                    hint = hint_words(plan.upgrade)
                    assert hint.startswith(f"For {tier.label}:") and format_size(at_all) in hint


def test_main_memory_can_be_set_for_planning_and_a_bad_size_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from qms_cli.hardware.system import read_system

    assert read_system({"QMS_MAIN_MEMORY": "16GB"}).ram_available == 16 * GIB
    small = run_qms("plan", "Create Image", "--quality", "high", "--vram-limit", "24GB", "--json",
                    env={"QMS_MAIN_MEMORY": "16GB"})
    big = run_qms("plan", "Create Image", "--quality", "high", "--vram-limit", "24GB", "--json",
                  env={"QMS_MAIN_MEMORY": "64GB"})
    assert big.json()["tasks"][0]["chosen"]["id"] == "high"
    assert small.json()["tasks"][0]["chosen"]["id"] != "high"  # offloading High's weights needs more
    bad = run_qms("plan", "Create Image", env={"QMS_MAIN_MEMORY": "lots"})
    assert bad.code == 2 and "QMS_MAIN_MEMORY 'lots' is not a size" in bad.err and "Traceback" not in bad.err


def test_a_worker_leaves_a_task_it_has_no_memory_for_now(tmp_path: Path) -> None:
    import sys

    marker = tmp_path / "ran"
    env = {"QMS_DB": str(tmp_path / "q.sqlite3"), "VRAM_LIMIT": "24GB"}
    added = run_qms("queue", "add", "Create Image", "--quality", "low", "--owner", "ana", "--fallback", "--json",
                    env=env)
    assert added.code == 0, added.err
    runner = f"{sys.executable} -c \"open('{marker}', 'w')\""
    work = run_qms("queue", "work", "--runner", runner, "--once", env={**env, "QMS_MAIN_MEMORY": "2GB"})
    assert work.code == 0, work.err
    assert not marker.exists()
    listed = run_qms("queue", "list", "--json", env=env).json()["tasks"]
    assert [t["state"] for t in listed] == ["queued"]
