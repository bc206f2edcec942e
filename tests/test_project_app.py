"""The studio app's own project.json through every command that reads or writes it (real `qms` processes),
and every way qms refuses a file: exit 1, one plain line, the file byte-for-byte as it was (issue 13)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_qms, validate_output

# The product's example verbatim, its `// ... canvas state` comment removed.
PRODUCT_EXAMPLE = """{
  "version": "1.0",
  "name": "My Amazing Film",
  "quality": "standard",
  "created": "2025-01-02T10:00:00Z",
  "canvas": {
  }
}
"""

# The same document as the app saves it with a canvas in use.
CANVAS = {"viewport": {"x": -120.5, "y": 48, "zoom": 0.75},
          "nodes": [{"id": "hero-shot", "type": "Create Image", "position": [120, 80],
                     "inputs": {"prompt": "a lighthouse at dusk", "seed": 1234}, "selected": True},
                    {"id": "intro", "type": "Create Video", "position": [480, 80],
                     "inputs": {"prompt": "waves", "seconds": 5}, "tags": [], "notes": None}],
          "edges": [{"from": "hero-shot", "to": "intro", "port": 0}], "version": 7}
APP_SAVED = json.dumps({"version": "1.0", "name": "My Amazing Film", "quality": "standard",
                        "created": "2025-01-02T10:00:00Z", "canvas": CANVAS}, indent=2) + "\n"
MACHINE = ["--hardware", "rtx-4090-24gb"]


def test_init_writes_the_products_form(tmp_path: Path) -> None:
    result = run_qms("init", str(tmp_path / "film"), "--name", "My Amazing Film", "--json")
    assert result.code == 0, result
    data = json.loads((tmp_path / "film" / "project.json").read_text(encoding="utf-8"))
    assert list(data) == ["version", "name", "quality", "created", "canvas"]
    assert data["version"] == "1.0" and data["name"] == "My Amazing Film" and data["canvas"] == {}
    validate_output(result.json(), "project-view")


@pytest.mark.parametrize("text", [PRODUCT_EXAMPLE, APP_SAVED], ids=["verbatim", "with-canvas"])
def test_the_products_project_json_works_end_to_end(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "film"
    folder.mkdir()
    path = folder / "project.json"
    path.write_text(text, encoding="utf-8")

    shown = run_qms("show", "--json", cwd=folder)
    assert shown.code == 0, shown
    assert shown.json()["name"] == "My Amazing Film" and shown.json()["created"] == "2025-01-02T10:00:00Z"
    assert shown.json()["quality"]["id"] == "standard"
    validate_output(shown.json(), "project-view")

    assert run_qms("set-quality", "high", cwd=folder).code == 0
    assert path.read_text(encoding="utf-8") == text.replace('"quality": "standard"', '"quality": "high"')
    node = run_qms("set-quality", "low", "--node", "hero-shot", cwd=folder)
    assert node.code == 0, node
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after == {**json.loads(text), "quality": "high", "quality_overrides": {"hero-shot": "low"}}

    plan = run_qms("plan", "Create Image", "--json", *MACHINE, cwd=folder)
    assert plan.code == 0, plan
    validate_output(plan.json(), "plan")
    assert plan.json()["project"] == str(path) and plan.json()["project_problem"] is None
    task = plan.json()["tasks"][0]
    assert task["quality_source"] == "project" and task["requested"]["id"] == "high"
    hero = run_qms("plan", "Create Image", "--node", "hero-shot", "--json", *MACHINE, cwd=folder)
    assert hero.json()["tasks"][0]["quality_source"] == "node" and hero.json()["tasks"][0]["requested"]["id"] == "low"

    tiers = run_qms("tiers", "--json", *MACHINE, cwd=folder)
    assert tiers.code == 0 and tiers.json()["current"] == "high" and tiers.json()["project_problem"] is None
    validate_output(tiers.json(), "tier-list")

    ran = run_qms("run", "-f", "Create Image", *MACHINE, "--",
                  "python", "-c", "import os; print(os.environ['QMS_TIER'])", cwd=folder)
    assert ran.code == 0, ran
    assert ran.out.strip() == "high" and "can't be used" not in ran.err

    queued = run_qms("queue", "add", "Create Image", "--json", cwd=folder,
                     env={"VRAM_LIMIT": "24GB", "QMS_DB": str(tmp_path / "queue.sqlite3")})
    assert queued.code == 0, queued
    assert queued.json()["requested"] == "high" and queued.json()["project_problem"] is None
    validate_output(queued.json(), "queue-task")
    # Nothing qms does not own was touched by any of it.
    final = json.loads(path.read_text(encoding="utf-8"))
    assert {k: v for k, v in final.items() if not k.startswith("quality")} == \
           {k: v for k, v in json.loads(text).items() if k != "quality"}


@pytest.mark.parametrize("value", ['"1.0"', '{"major": 1}', "null", "[1, 0]", "-3.5"])
def test_keys_qms_does_not_own_may_hold_anything(qms: object, value: str) -> None:
    text = ('{"version": VALUE, "name": VALUE, "created": VALUE, "canvas": VALUE, "quality": "low"}'
            .replace("VALUE", value))
    Path("project.json").write_text(text, encoding="utf-8")
    shown = run_qms("show", "--json")
    assert shown.code == 0, shown
    validate_output(shown.json(), "project-view")
    parsed = json.loads(value)
    assert shown.json()["name"] == (parsed if isinstance(parsed, str) else Path.cwd().name)  # else the folder's
    assert shown.json()["created"] == (parsed if isinstance(parsed, str) else None)
    assert run_qms("set-quality", "high").code == 0
    assert Path("project.json").read_text(encoding="utf-8") == text.replace('"low"', '"high"')


# Every refusal of a change: (file, command) -> the line that says why. The file must stay as it was.
UNKNOWN = '{"name": "Film", "quality": "standard", "quality_overrides": {"n1": "max"}}'
REFUSALS = {
    "override names an unknown tier, project changed": (
        UNKNOWN, ["set-quality", "high"], "its `quality_overrides` names a quality that does not exist, 'max'"),
    "override names an unknown tier, another node set": (
        UNKNOWN, ["set-quality", "low", "--node", "n2"], "names a quality that does not exist, 'max'"),
    "override names an unknown tier, another node cleared": (
        UNKNOWN, ["set-quality", "--clear", "--node", "n2"], "names a quality that does not exist, 'max'"),
    "project names an unknown tier, a node set": (
        '{"quality": "ultra"}', ["set-quality", "low", "--node", "n1"],
        "its `quality` names a quality that does not exist, 'ultra'"),
    "project names an unknown tier, unchanged": (
        '{"quality": "ultra", "quality_overrides": {"n1": "low"}}', ["set-quality", "low", "--node", "n1"],
        "its `quality` names a quality that does not exist, 'ultra'"),
    "overrides not an object": ('{"quality_overrides": 3}', ["set-quality", "low", "--node", "n1"],
                                "its `quality_overrides` must list nodes with a quality each, not 3"),
    "quality not an id": ('{"quality": "Not An Id"}', ["set-quality", "low", "--node", "n1"],
                          "its `quality` must be the id of a quality"),
    "nested too deeply": ('{"canvas": ' + "[" * 100_000 + "]" * 100_000 + ', "quality": "low"}',
                          ["set-quality", "high"], "it is nested too deeply to read"),
    "unknown tier named": ('{"quality": "low"}', ["set-quality", "ultra"], "unknown quality 'ultra'"),
    "no tier named": ('{"quality": "low"}', ["set-quality"], "name a quality"),
    "clear without a node": ('{"quality": "low"}', ["set-quality", "--clear"], "--clear removes one node"),
    "empty node": ('{"quality": "low"}', ["set-quality", "low", "--node", " "], "--node needs a node id"),
    "init over it": ('{"quality": "low"}', ["init"], "already exists; pass --force"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_leaves_the_file_untouched(case: str) -> None:
    text, command, said = REFUSALS[case]
    Path("project.json").write_bytes(text.encode())
    stamp = os.stat("project.json").st_mtime_ns
    result = run_qms(*command)
    assert result.code in (1, 2), result
    assert result.err.count("\n") == 1 and said in result.err and "Traceback" not in result.err, result.err
    assert Path("project.json").read_bytes() == text.encode()
    assert os.stat("project.json").st_mtime_ns == stamp
    assert os.listdir(".") == ["project.json"]


def test_a_bad_override_can_be_cleared_and_a_bad_quality_replaced(qms: object) -> None:
    """The check is of the document qms would write: an edit that repairs the file is allowed."""
    Path("project.json").write_text(UNKNOWN, encoding="utf-8")
    assert run_qms("set-quality", "--clear", "--node", "n1").code == 0
    assert Path("project.json").read_text(encoding="utf-8") == '{"name": "Film", "quality": "standard"}'
    Path("project.json").write_text('{"quality": "ultra"}', encoding="utf-8")
    assert run_qms("set-quality", "high").code == 0
    assert Path("project.json").read_text(encoding="utf-8") == '{"quality": "high"}'


def test_refusals_in_process_too(qms: object) -> None:
    """The same refusal through the in-process entry point: exit 1, not 2, and nothing written."""
    from typing import Any

    run: Any = qms
    Path("project.json").write_text(UNKNOWN, encoding="utf-8")
    result = run("set-quality", "high")
    assert result.code == 1 and "'max'" in result.err
    assert Path("project.json").read_text(encoding="utf-8") == UNKNOWN


def test_a_crlf_project_stays_crlf() -> None:
    text = PRODUCT_EXAMPLE.replace("\n", "\r\n")
    Path("project.json").write_bytes(text.encode())
    assert run_qms("set-quality", "low", "--node", "hero-shot").code == 0
    raw = Path("project.json").read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert json.loads(raw)["quality_overrides"] == {"hero-shot": "low"}
