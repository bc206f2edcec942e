"""`qms tiers`: what people see, what --technical adds, what programs get."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import load_catalog
from tests.conftest import run_qms, validate_output


def test_people_see_no_models(qms: Any) -> None:
    result = qms("tiers")
    assert result.code == 0
    for label in ("⚡ Low", "⚖️ Standard", "✨ High", "Fast iterations", "2-5 minutes"):
        assert label in result.out
    assert not find_jargon(result.out, load_catalog().models.jargon())


def test_technical_adds_configurations(qms: Any) -> None:
    out = qms("tiers", "--technical").out
    assert "flux-dev-fp8 1024px 20 steps --medvram" in out
    assert "wan2gp-lite 512px 24 frames sequential" in out and "24 GB" in out


def test_json_has_mappings_and_validates(qms: Any) -> None:
    data = qms("tiers", "--json").json()
    validate_output(data, "tier-list")
    assert data["tiers"][2]["mappings"]["Create Video"]["frames"] == 96
    assert data["current"] is None and data["project"] is None


def test_marks_the_projects_tier(qms: Any) -> None:
    assert qms("init", "--quality", "high").code == 0
    out = qms("tiers").out
    assert any(line.startswith("▶") and "✨ High" in line for line in out.splitlines())
    assert qms("tiers", "--json").json()["current"] == "high"


def test_unreadable_project_found_nearby_does_not_block_the_list(qms: Any) -> None:
    Path("project.json").write_text("{oops")
    result = qms("tiers")
    assert result.code == 0 and "⚡ Low" in result.out and "can't be used: it is not valid JSON" in result.err
    assert qms("tiers", "--project", "project.json").code == 1  # asked for explicitly: an error


def test_rich_table_at_a_terminal() -> None:
    result = run_qms("tiers", env={"QMS_OUTPUT": "rich", "COLUMNS": "120"})
    assert result.code == 0 and "Quality" in result.out and "━" in result.out and "⚖️ Standard" in result.out


HARDWARE = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "profiles" / "hardware").glob("*.yaml"))


def cells(line: str) -> list[str]:
    """A plain table row (piped, no COLUMNS: one line a row) split into its cells."""
    import re

    return re.split(r" {2,}", line.strip())


def plan_times(*machine: str) -> dict[tuple[str, str], tuple[dict[str, float], str]]:
    """(tier, function) -> plan's predicted seconds (JSON) and the Time cell people see, for one task."""
    out = {}
    for tier in load_catalog().tiers.ids:
        plan = run_qms("plan", "--quality", tier, "--json", *machine)
        runnable = all(t["runnable"] for t in plan.json()["tasks"])
        assert plan.code == (0 if runnable else 3), plan.err  # 3: a task this machine cannot run at all
        people = run_qms("plan", "--quality", tier, "--yes", *machine, env={"QMS_OUTPUT": "plain"})
        rows = {cells(line)[0]: cells(line) for line in people.out.splitlines()[1:] if line.startswith("Create")}
        for task in plan.json()["tasks"]:
            out[(tier, task["function"])] = task["predicted"]["seconds"], rows[task["function"]][2]
    return out


def tiers_rows(out: str) -> dict[tuple[str, str], list[str]]:
    """(tier name, function) -> the cells after the function: this machine's time, designed for, how it runs."""
    rows: dict[tuple[str, str], list[str]] = {}
    tier = ""
    for line in out.splitlines()[1:]:
        parts = cells(line)
        for name in ("Low", "Standard", "High"):
            if parts and parts[0].endswith(f" {name}"):
                tier = name
        for i, cell in enumerate(parts):
            if cell.startswith("Create "):
                rows[(tier, cell)] = parts[i + 1:]
    return rows


@pytest.mark.parametrize("hardware", HARDWARE)
def test_the_time_here_is_plans_time_for_the_same_task_and_machine(hardware: str) -> None:
    machine = ("--hardware", hardware)
    expected = plan_times(*machine)
    listing = run_qms("tiers", "--json", *machine)
    validate_output(listing.json(), "tier-list")
    names = {t.id: t.name for t in load_catalog().tiers.tiers}
    people = tiers_rows(run_qms("tiers", *machine, env={"QMS_OUTPUT": "plain"}).out)
    for tier in listing.json()["tiers"]:
        for function, here in tier["here"].items():
            seconds, time_cell = expected[(tier["id"], function)]
            assert here["predicted_seconds"] == seconds, (hardware, tier["id"], function)
            row = people[(names[tier["id"]], function)]
            assert row[0] == time_cell, (hardware, tier["id"], function, row)
            assert tier["time_label"] not in row[0]  # the design label is never this machine's time


def test_show_and_set_quality_give_plans_time_too() -> None:
    machine = ("--hardware", "rtx-3060-12gb")
    expected = plan_times(*machine)
    assert run_qms("init", "--quality", "high").code == 0
    shown = run_qms("show", "--json", *machine).json()
    validate_output(shown, "project-view")
    for function, here in shown["here"].items():
        assert here["predicted_seconds"] == expected[("high", function)][0]
    words = run_qms("show", *machine).out
    assert "designed to take 2-5 minutes on the card it is made for" in words
    line = next(x for x in words.splitlines() if x.strip().startswith("On this machine:"))
    for function in ("Create Image", "Create Video"):
        assert f"{function} about {expected[('high', function)][1]}" in line
    assert "as ⚖️ Standard" in line  # video steps down to Standard on a 12 GB card, and says so
    changed = run_qms("set-quality", "low", "--json", *machine).json()
    validate_output(changed, "project-view")
    assert {f: h["predicted_seconds"] for f, h in changed["here"].items()} == \
        {f: expected[("low", f)][0] for f in ("Create Image", "Create Video")}
    said = run_qms("set-quality", "standard", *machine).out
    assert f"Create Image about {expected[('standard', 'Create Image')][1]}" in said


def test_a_bad_machine_leaves_the_project_untouched() -> None:
    assert run_qms("init", "--quality", "high").code == 0
    before = Path("project.json").read_bytes()
    result = run_qms("set-quality", "low", "--hardware", "no-such-machine")
    assert result.code != 0 and Path("project.json").read_bytes() == before


def test_on_this_machine_the_history_of_real_runs_counts_as_in_plan(tmp_path: Path) -> None:
    """Without --hardware plan learns from the runs recorded here; tiers and show must too."""
    env = {"QMS_DB": str(tmp_path / "runs.sqlite3")}
    base = run_qms("plan", "Create Image", "--quality", "low", "--json", env=env).json()["tasks"][0]
    seconds = base["predicted"]["seconds"]["expected"]
    runs = "\n".join(json.dumps({"function": "Create Image", "tier": "low", "seconds": seconds * 3}) for _ in range(6))
    assert run_qms("record", input=runs, env=env).code == 0
    learned = run_qms("plan", "Create Image", "--quality", "low", "--json", env=env).json()["tasks"][0]
    assert learned["predicted"]["seconds"]["expected"] > seconds * 1.5  # the history moved plan's figure
    listing = run_qms("tiers", "--json", env=env).json()
    low = next(t for t in listing["tiers"] if t["id"] == "low")
    assert low["here"]["Create Image"]["predicted_seconds"] == learned["predicted"]["seconds"]
