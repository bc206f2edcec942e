"""`qms tiers`: what people see, what --technical adds, what programs get."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qms_cli.catalog import load_catalog
from qms_cli.jargon import find_jargon
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
