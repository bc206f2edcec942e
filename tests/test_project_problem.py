"""No silent wrong answers (issue 13): every command that reads the project says, in one plain line, that the
project file could not be used and why; plan, run and queue add refuse (exit 1) unless a quality was given;
--json carries the problem. Real `qms` processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_qms, validate_output

MACHINE = ["--hardware", "rtx-4090-24gb"]
PROBLEMS = {  # file -> (plain words said, kind in --json)
    "unknown override": ('{"quality": "high", "quality_overrides": {"n1": "max"}}',
                         "its `quality_overrides` names a quality that does not exist, 'max' (node 'n1'); "
                         "qualities: low, standard, high", "unknown_quality"),
    "unknown quality": ('{"quality": "ultra"}', "its `quality` names a quality that does not exist, 'ultra'",
                        "unknown_quality"),
    "not json": ('{"quality": "high",}', "it is not valid JSON (line 1, column 20)", "syntax"),
    "wrong type": ('{"quality": 3}', "its `quality` must be the id of a quality", "invalid"),
}


def one_line(err: str, said: str) -> None:
    lines = [line for line in err.splitlines() if "can't be used" in line]
    assert len(lines) == 1 and said in lines[0] and "Traceback" not in err, err
    assert "::$" not in lines[0]  # the technical form is for `qms validate` and --json


@pytest.mark.parametrize("case", sorted(PROBLEMS))
def test_plan_refuses_without_a_quality_and_says_so_with_one(case: str) -> None:
    text, said, kind = PROBLEMS[case]
    Path("project.json").write_text(text, encoding="utf-8")
    refused = run_qms("plan", "Create Image", *MACHINE)
    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith(f"Error: {Path.cwd() / 'project.json'} can't be used: ")
    one_line(refused.err, said)
    assert run_qms("plan", "Create Image", "--json", *MACHINE).code == 1

    given = run_qms("plan", "Create Image", "--quality", "low", "--json", *MACHINE)
    assert given.code == 0, given
    one_line(given.err, said)
    doc = given.json()
    validate_output(doc, "plan")
    assert doc["project"] is None and doc["project_problem"]["kind"] == kind
    assert doc["project_problem"]["file"] == str(Path.cwd() / "project.json")
    assert doc["project_problem"]["message"].startswith(str(Path.cwd() / "project.json"))
    assert doc["tasks"][0]["quality_source"] == "option"
    people = run_qms("plan", "Create Image", "--quality", "low", "--yes", *MACHINE)
    assert people.code == 0 and "Using the quality asked for instead" in people.err
    assert Path("project.json").read_text(encoding="utf-8") == text


def test_an_explicit_project_is_the_same_as_one_found() -> None:
    Path("film").mkdir()
    Path("film/project.json").write_text(PROBLEMS["unknown override"][0], encoding="utf-8")
    assert run_qms("plan", "Create Image", "--project", "film", *MACHINE).code == 1
    given = run_qms("plan", "Create Image", "--project", "film", "--quality", "high", "--json", *MACHINE)
    assert given.code == 0 and given.json()["project_problem"]["node"] == "n1"


def test_a_tasks_file_refuses_lines_without_a_quality() -> None:
    Path("project.json").write_text(PROBLEMS["unknown quality"][0], encoding="utf-8")
    Path("tasks.jsonl").write_text('{"function": "Create Image", "quality": "low"}\n{"function": "Create Image"}\n')
    refused = run_qms("plan", "--tasks", "tasks.jsonl", "--yes", *MACHINE)
    assert refused.code == 1 and "can't be used" in refused.err
    Path("tasks.jsonl").write_text('{"function": "Create Image", "quality": "low"}\n')
    assert run_qms("plan", "--tasks", "tasks.jsonl", "--yes", *MACHINE).code == 0


def test_tiers_says_why_nothing_is_marked() -> None:
    text, said, kind = PROBLEMS["unknown override"]
    Path("project.json").write_text(text, encoding="utf-8")
    people = run_qms("tiers", *MACHINE)
    assert people.code == 0 and "▶" not in people.out
    one_line(people.err, said)
    assert "No quality is marked as the project's" in people.err
    listing = run_qms("tiers", "--json", *MACHINE)
    assert listing.code == 0 and listing.json()["current"] is None
    assert listing.json()["project_problem"]["kind"] == kind
    validate_output(listing.json(), "tier-list")


def test_run_refuses_before_starting_the_command(tmp_path: Path) -> None:
    text, said, _ = PROBLEMS["unknown override"]
    Path("project.json").write_text(text, encoding="utf-8")
    marker = tmp_path / "ran"
    command = ["python", "-c", f"import os; open({str(marker)!r}, 'w').write(os.environ['QMS_TIER'])"]
    refused = run_qms("run", "-f", "Create Image", *MACHINE, "--", *command)
    assert refused.code == 1 and not marker.exists()
    one_line(refused.err, said)
    given = run_qms("run", "-f", "Create Image", "--quality", "low", *MACHINE, "--", *command)
    assert given.code == 0, given
    assert marker.read_text() == "low"
    one_line(given.err, said)


def test_queue_add_refuses_without_a_quality(tmp_path: Path) -> None:
    text, said, kind = PROBLEMS["unknown quality"]
    Path("project.json").write_text(text, encoding="utf-8")
    env = {"VRAM_LIMIT": "24GB", "QMS_DB": str(tmp_path / "queue.sqlite3")}
    refused = run_qms("queue", "add", "Create Image", env=env)
    assert refused.code == 1
    one_line(refused.err, said)
    given = run_qms("queue", "add", "Create Image", "--quality", "low", "--json", env=env)
    assert given.code == 0, given
    one_line(given.err, said)
    assert given.json()["project_problem"]["kind"] == kind and given.json()["requested"] == "low"
    validate_output(given.json(), "queue-task")
    listed = run_qms("queue", "list", "--json", env=env)
    assert [t["requested"] for t in listed.json()["tasks"]] == ["low"]  # the refused one was not queued


def test_exporter_says_so(tmp_path: Path) -> None:
    text, said, _ = PROBLEMS["not json"]
    Path("project.json").write_text(text, encoding="utf-8")
    (tmp_path / "prom").mkdir()
    result = run_qms("exporter", "--textfile", str(tmp_path / "prom" / "qms.prom"), "--hardware", "a100-80gb")
    assert result.code == 0, result
    one_line(result.err, said)


def test_validate_keeps_the_technical_form() -> None:
    Path("project.json").write_text(PROBLEMS["unknown override"][0], encoding="utf-8")
    report = run_qms("validate", "project.json", "--json")
    assert report.code == 1
    assert any(e["path"] == "$.quality_overrides.n1" and "'max'" in e["message"] for e in report.json()["errors"])
    people = run_qms("validate", "project.json")
    assert "project.json::$.quality_overrides.n1:" in people.out + people.err


def test_a_good_project_says_nothing() -> None:
    Path("project.json").write_text(json.dumps({"version": "1.0", "quality": "high"}), encoding="utf-8")
    plan = run_qms("plan", "Create Image", "--json", *MACHINE)
    assert plan.code == 0 and "can't be used" not in plan.err and plan.json()["project_problem"] is None
