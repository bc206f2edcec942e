"""`qms plan` end to end: people's view, --json for the function runner, --tasks, prompts, --strict."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import load_catalog
from qms_cli.plan.manager import QualityManager
from tests.conftest import run_qms, validate_output


def video_frames(tier: str, seconds: float) -> int:
    """Frames for a length in seconds at `tier`'s video model: its family's frame rate (models.yaml) x seconds,
    rounded up, and the first frame."""
    import math

    models = load_catalog().models
    fps = models.families[models.models[load_catalog().tiers.get(tier).mappings["Create Video"].model].family].fps
    assert fps is not None
    return math.ceil(seconds * fps) + 1

TERMS = load_catalog().models.jargon()


def test_people_see_quality_time_memory_and_reasons(qms: Any) -> None:
    result = qms("plan", "--hardware", "rtx-3060-12gb", "--quality", "high")
    assert result.code == 0
    out = result.out
    assert "Create Image" in out and "Create Video" in out and "✨ High" in out and "⚖️ Standard" in out
    assert "Lower quality (asked for ✨ High)" in out and "GB of 9.5 GB" in out
    assert "High needs about" in out and "Using Standard." in out and "To use High:" in out
    assert not find_jargon(out, TERMS)
    assert "Continuing with ⚖️ Standard without asking" in result.err  # not a terminal: proceed, and say so


def test_yes_proceeds_quietly(qms: Any) -> None:
    result = qms("plan", "--hardware", "rtx-3060-12gb", "--quality", "high", "--yes")
    assert result.code == 0 and result.err == ""


def test_technical_names_models_and_rungs(qms: Any) -> None:
    out = qms("plan", "Create Image", "--hardware", "rtx-4090-24gb", "--quality", "high", "--technical").out
    assert "flux-dev-fp16" in out and "rungs tried" in out and "does not fit" in out and "chosen" in out


def test_json_for_the_function_runner(qms: Any) -> None:
    result = qms("plan", "--hardware", "rtx-3060-12gb", "--quality", "high", "--json")
    assert result.code == 0 and result.err == ""
    data = result.json()
    validate_output(data, "plan")
    video = next(t for t in data["tasks"] if t["function"] == "Create Video")
    assert video["requested"]["id"] == "high" and video["fallback"] is True
    models = load_catalog().models
    default_steps = models.models[video["configuration"]["model"]].default_steps  # the high tier gives none
    assert video["device"]["type"] == "gpu" and video["configuration"]["steps"] == default_steps
    assert video["predicted"]["peak_bytes"] <= data["machine"]["available_vram_bytes"]
    assert video["notices"][0]["type"] == "quality_fallback" and video["rungs"][0]["fits"] is False
    assert sum(r["chosen"] for r in video["rungs"]) == 1
    assert data["summary"]["tasks"] == 2 and data["summary"]["fallbacks"] >= 1


def test_quality_comes_from_option_node_project_default(qms: Any) -> None:
    assert qms("init", "--quality", "low").code == 0
    assert qms("set-quality", "high", "--node", "hero").code == 0
    plan = lambda *a: qms("plan", "Create Image", "--hardware", "a100-80gb", "--json", *a).json()["tasks"][0]  # noqa: E731
    assert (plan()["requested"]["id"], plan()["quality_source"]) == ("low", "project")
    assert (plan("--node", "hero")["requested"]["id"], plan("--node", "hero")["quality_source"]) == ("high", "node")
    assert plan("--node", "other")["requested"]["id"] == "low"
    assert plan("--quality", "standard", "--node", "hero")["quality_source"] == "option"
    Path("project.json").unlink()
    assert (plan()["requested"]["id"], plan()["quality_source"]) == ("standard", "default")


def test_task_size_follows(qms: Any) -> None:
    one = qms("plan", "Create Image", "--hardware", "a100-80gb", "--json").json()["tasks"][0]
    four = qms("plan", "Create Image", "--hardware", "a100-80gb", "--count", "4", "--json").json()["tasks"][0]
    assert four["predicted"]["seconds"]["expected"] > 3 * (one["predicted"]["seconds"]["expected"]
                                                            - one["predicted"]["parts_seconds"]["load"])
    five_s = qms("plan", "Create Video", "--seconds", "5", "--hardware", "a100-80gb", "--json").json()["tasks"][0]
    five = video_frames("standard", 5)  # seconds x the family's frame rate, and the first frame
    assert five_s["frames"] == five and five_s["configuration"]["frames"] == five
    frames = qms("plan", "create video", "--frames", "33", "--hardware", "a100-80gb", "--json").json()["tasks"][0]
    assert frames["configuration"]["frames"] == 33
    both = qms("plan", "--seconds", "2", "--hardware", "a100-80gb", "--json").json()["tasks"]
    assert [t["frames"] for t in both] == [None, video_frames("standard", 2)]  # the video function's only


@pytest.mark.parametrize(("args", "message"), [
    (["Make Music"], "unknown function 'Make Music'; choose one of: Create Image, Create Video"),
    (["Create Image", "--frames", "10"], "'Create Image' makes images"),
    (["--quality", "ultra"], "unknown quality 'ultra'"),
    (["--count", "0"], "--count must be at least 1"),
    (["--max-time", "soon"], "--max-time: 'soon' is not a duration"),
    (["--vram-limit", "lots"], "'lots' is not a size"),
])
def test_usage_errors(qms: Any, args: list[str], message: str) -> None:
    result = qms("plan", *args)
    assert result.code == 2 and message in result.err and result.out == ""


def test_strict_refuses_a_step_down(qms: Any) -> None:
    result = qms("plan", "Create Video", "--hardware", "rtx-3060-12gb", "--quality", "high", "--strict")
    assert result.code == 3
    assert "Create Video would need Standard instead of High, and strict mode allows no lower quality" in result.err
    fine = qms("plan", "Create Image", "--hardware", "a100-80gb", "--quality", "high", "--strict")
    assert fine.code == 0


def test_max_time(qms: Any) -> None:
    data = qms("plan", "Create Image", "--hardware", "rtx-4090-24gb", "--quality", "high", "--max-time", "2min",
               "--json").json()
    task = data["tasks"][0]
    assert task["chosen"]["id"] != "high" and task["predicted"]["seconds"]["expected"] <= 120


def write_tasks(lines: list[str]) -> Path:
    path = Path("tasks.jsonl")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tasks_file(qms: Any) -> None:
    path = write_tasks([
        '{"function": "Create Image", "quality": "high"}',
        '{"function": "create video", "seconds": 5, "node": "n7"}',
        "",
        '{"function": "Make Music"}',
        '{"function": "Create Image", "count": "two"}',
        "not json",
        '{"function": "Create Image", "colour": "red"}',
        '{"function": "Create Image", "count": 3}',
    ])
    result = qms("plan", "--tasks", str(path), "--hardware", "rtx-4090-24gb", "--yes")
    assert result.code == 0
    assert "3 tasks:" in result.out and "4 lines skipped" in result.out
    for line, why in [(4, "unknown function 'Make Music'"), (5, "'count' must be a number"),
                      (6, "not valid JSON"), (7, "unknown key 'colour'")]:
        assert f"tasks.jsonl:{line}: {why}" in result.err
    data = qms("plan", "--tasks", str(path), "--hardware", "rtx-4090-24gb", "--json").json()
    validate_output(data, "plan")
    assert [t["line"] for t in data["tasks"]] == [1, 2, 8] and [e["line"] for e in data["errors"]] == [4, 5, 6, 7]
    assert data["tasks"][1]["node"] == "n7" and data["tasks"][2]["count"] == 3
    strict = qms("plan", "--tasks", str(path), "--strict")
    assert strict.code == 1 and "tasks.jsonl:4: unknown function" in strict.err
    assert "(and 3 more bad lines)" in strict.err
    assert qms("plan", "Create Image", "--tasks", str(path)).code == 2
    missing = qms("plan", "--tasks", "nope.jsonl")
    assert missing.code == 1 and "nope.jsonl: no such file" in missing.err


def test_python_api(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "project.json").write_text('{"quality": "high"}')
    qm = QualityManager.from_project(tmp_path / "p", hardware="rtx-4080-16gb")
    plan = qm.plan("Create Image")
    assert plan.route.requested.id == "high" and plan.quality_source == "project"
    assert plan.route.chosen.prediction.peak <= qm.resources.available_vram
    assert qm.plan("Create Video", quality="low", seconds=2).frames == video_frames("low", 2)


def _run_in_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run qms with its stdin and stdout on a pseudo-terminal, answer the prompt, return (code, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qms_cli", *args], stdin=follower, stdout=follower,
                            stderr=follower, env={**os.environ, "COLUMNS": "200", "QMS_OUTPUT": "plain"})
    os.close(follower)
    seen = b""
    deadline = time.time() + 60
    answered = False
    while time.time() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[Y/n]" in seen:
            os.write(leader, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=30)
    os.close(leader)
    return code, seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "code"), [(b"n\r", 3), (b"\r", 0), (b"y\r", 0)])
def test_asks_before_a_step_down_at_a_terminal(answer: bytes, code: int) -> None:
    got, out = _run_in_terminal(["plan", "Create Video", "--hardware", "rtx-3060-12gb", "--quality", "high"],
                                answer)
    assert "Continue with ⚖️ Standard? [Y/n]" in out
    assert got == code
    if code == 3:
        assert "Cancelled: nothing was planned." in out


def test_a_plan_with_no_step_down_asks_nothing() -> None:
    got, out = _run_in_terminal(["plan", "Create Image", "--hardware", "a100-80gb", "--quality", "high"], b"n\r")
    assert got == 0 and "[Y/n]" not in out


def test_this_machine_end_to_end() -> None:
    result = run_qms("plan", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    validate_output(data, "plan")
    assert all(t["device"]["type"] in ("gpu", "cpu") for t in data["tasks"])


def test_rich_view_at_a_terminal() -> None:
    result = run_qms("plan", "--hardware", "rtx-3060-12gb", "--quality", "high", "--yes",
                     env={"QMS_OUTPUT": "rich", "COLUMNS": "150"})
    assert result.code == 0 and "Why, and what would help" in result.out and "╭" in result.out
    assert "Using Standard." in result.out
