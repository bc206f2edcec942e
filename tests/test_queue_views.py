"""The queue plans as `qms plan` does (the processor its last rung, with a worker that serves it) and every view
of a task — add, list, show — gives the same place and the same times (issue 13). Real `qms` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_qms, validate_output

RUNNER = "import os, sys, time\ntime.sleep(float(os.environ.get('RUN_SECONDS', '0.05')))\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QMS_DB", str(tmp_path / "queue.sqlite3"))
    monkeypatch.setenv("QMS_QUEUE_LEASE", "600")  # a worker stays live however slow this machine is
    (tmp_path / "runner.py").write_text(RUNNER)
    return tmp_path


def qms_json(*args: str, schema: str, env: dict[str, str] | None = None) -> Any:
    r = run_qms(*args, "--json", env=env)
    assert r.code == 0, r.err
    validate_output(r.json(), schema)
    return r.json()


def plan_seconds(function: str, quality: str, env: dict[str, str] | None = None) -> list[float]:
    r = run_qms("plan", function, "--quality", quality, "--json", env=env)
    assert r.code == 0, r.err
    s = r.json()["tasks"][0]["predicted"]["seconds"]
    return [s["low"], s["expected"], s["high"]]


def work_once(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner",
                           f"{sys.executable} {folder / 'runner.py'}", "--once", *args], capture_output=True,
                          text=True, timeout=120)


def test_without_a_card_the_queue_plans_for_the_processor_and_a_processor_worker_runs_it(folder: Path) -> None:
    refused = run_qms("queue", "add", "Create Image", "--quality", "standard")
    assert refused.code == 3 and "no graphics card" in refused.err and "this machine's card" not in refused.err
    assert refused.err.count("\n") <= 3, refused.err
    low = qms_json("queue", "add", "Create Image", "--quality", "low", schema="queue-task")
    lower = qms_json("queue", "add", "Create Image", "--quality", "standard", "--fallback", schema="queue-task")
    expected = plan_seconds("Create Image", "low")  # what `qms plan` says on this machine: the processor
    for task in (low, lower):
        assert task["config_key"].endswith("|cpu") and task["tier"] == "low"
        assert task["predicted_seconds"] == pytest.approx(expected, abs=0.01)
    assert (low["position"], lower["position"]) == (1, 2)  # this machine's processor takes them, in turn
    card = work_once(folder, "--vram-limit", "24GB")  # a worker on a card does not take processor tasks
    assert card.returncode == 0 and "Task" not in card.stderr.replace("Taking tasks", ""), card.stderr
    ran = work_once(folder)  # no card here: the worker serves the processor
    assert ran.returncode == 0 and "the processor" in ran.stderr, ran.stderr
    assert ran.stderr.count("is done") == 1
    work_once(folder, "--processor")
    listed = qms_json("queue", "list", "--finished", "10", schema="queue-list")
    assert sorted(t["state"] for t in listed["tasks"]) == ["done", "done"]
    assert {t["worker"].split("/")[1] for t in listed["tasks"]} == {"cpu"}


def test_a_task_planned_on_a_card_is_not_placed_on_the_processor_nor_the_reverse(folder: Path) -> None:
    on_cpu = qms_json("queue", "add", "Create Image", "--quality", "low", schema="queue-task")
    on_card = qms_json("queue", "add", "Create Image", "--quality", "low", "--vram-limit", "24GB",
                       schema="queue-task")
    assert on_card["config_key"].endswith("|gpu") and on_card["predicted_seconds"] == pytest.approx(
        plan_seconds("Create Image", "low", env={"VRAM_LIMIT": "24GB"}), abs=0.01)
    here = {t["id"]: t for t in qms_json("queue", "list", schema="queue-list")["tasks"]}  # no card: the processor
    assert (here[on_cpu["id"]]["position"], here[on_card["id"]]["position"]) == (1, None)
    card = {t["id"]: t for t in qms_json("queue", "list", "--vram-limit", "24GB", schema="queue-list")["tasks"]}
    assert (card[on_cpu["id"]]["position"], card[on_card["id"]]["position"]) == (None, 1)
    shown = run_qms("queue", "show", str(on_cpu["id"]), "--vram-limit", "24GB")
    assert shown.code == 0 and "worker on the processor" in shown.out, shown.out


def test_add_list_and_show_give_one_place_and_one_time(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VRAM_LIMIT", "24GB")
    first = qms_json("queue", "add", "Create Video", "--quality", "high", "--owner", "ann", schema="queue-task")
    worker = subprocess.Popen([sys.executable, "-m", "qms_cli", "queue", "work", "--runner",
                               f"{sys.executable} {folder / 'runner.py'}", "--poll", "0.2"],
                              env={**os.environ, "RUN_SECONDS": "300"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while qms_json("queue", "show", str(first["id"]), schema="queue-task")["state"] != "running":
            assert time.monotonic() < deadline, "the worker never started the task"
            time.sleep(0.2)
        added = [qms_json("queue", "add", "Create Image", "--quality", q, "--owner", o, schema="queue-task")
                 for q, o in (("low", "bob"), ("high", "cat"), ("standard", "bob"))]
        listed = {t["id"]: t for t in qms_json("queue", "list", schema="queue-list")["tasks"]}
        shown = {t["id"]: qms_json("queue", "show", str(t["id"]), schema="queue-task") for t in added}
        text = run_qms("queue", "show", str(added[-1]["id"])).out
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    same = ("position", "starts_at", "finishes_at", "predicted_seconds")
    last = added[-1]
    assert {k: last[k] for k in same} == {k: listed[last["id"]][k] for k in same} == \
        {k: shown[last["id"]][k] for k in same}  # the add's answer holds while nothing changes
    for t in added:
        assert {k: listed[t["id"]][k] for k in same} == {k: shown[t["id"]][k] for k in same}
        assert listed[t["id"]]["starts_at"][0] >= listed[first["id"]]["started_at"]  # behind the running one
        assert t["predicted_seconds"] == pytest.approx(plan_seconds("Create Image", t["tier"]), abs=0.01)
    assert sorted(listed[t["id"]]["position"] for t in added) == [1, 2, 3] and listed[first["id"]]["position"] == 0
    assert f"{['1st', '2nd', '3rd'][shown[last['id']]['position'] - 1]} in line" in text
