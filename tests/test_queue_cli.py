"""`qms queue`: the real program in subprocesses: adding, listing, waiting, workers (several at once, killed,
interrupted), bad input, the exporter's queue metrics, and the same workers on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import run_qms, validate_output

if TYPE_CHECKING:
    from tests.postgres_server import Server

RUNNER = """
import os, sys, time
folder = sys.argv[1]
task = os.environ["QMS_TASK_ID"]
with open(os.path.join(folder, "runs.log"), "a") as f:
    f.write(f"{task} {os.environ['QMS_TIER']} {os.environ['QMS_OWNER']}\\n")
open(os.path.join(folder, f"started-{task}"), "w").close()
signal_seen = os.path.join(folder, f"interrupted-{task}")
import signal
signal.signal(signal.SIGINT, lambda *a: (open(signal_seen, "w").close(), sys.exit(130)))
time.sleep(float(os.environ.get("RUN_SECONDS", "0.05")))
sys.exit(int(os.environ.get("RUN_EXIT", "0")))
"""


@pytest.fixture
def queue_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A history/queue database, a simulated 24 GB card, a 2-second lease, and the runner script."""
    monkeypatch.setenv("QMS_DB", str(tmp_path / "queue.sqlite3"))
    monkeypatch.setenv("VRAM_LIMIT", "24GB")
    monkeypatch.setenv("QMS_QUEUE_LEASE", "2")
    (tmp_path / "runner.py").write_text(RUNNER)
    return tmp_path


def runner(folder: Path) -> str:
    return f"{sys.executable} {folder / 'runner.py'} {folder}"


def add(*args: str) -> dict[str, object]:
    r = run_qms("queue", "add", *args, "--json")
    assert r.code == 0, r.err
    data: dict[str, object] = r.json()
    validate_output(data, "queue-task")
    return data


def tasks(*args: str) -> list[dict[str, object]]:
    r = run_qms("queue", "list", "--json", "--finished", "1000", *args)
    assert r.code == 0, r.err
    validate_output(r.json(), "queue-list")
    return list(r.json()["tasks"])


def start_worker(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(folder),
                             "--poll", "0.2", *args], env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def drain(folder: Path, n: int) -> list[int]:
    """Run n workers until every task is done, then Ctrl-C them; their exit codes."""
    workers = [start_worker(folder) for _ in range(n)]
    try:
        until(lambda: all(t["state"] == "done" for t in tasks()), timeout=120)
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        codes = [w.wait(timeout=30) for w in workers]
    return codes


def until(check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def runs(folder: Path) -> list[str]:
    log = folder / "runs.log"
    return log.read_text().split("\n")[:-1] if log.exists() else []


def test_add_says_place_and_time_and_list_orders_the_line(queue_env: Path) -> None:
    r = run_qms("queue", "add", "Create Image", "--quality", "high", "--owner", "ann")
    assert r.code == 0 and r.out.startswith("Queued as task 1: 1st in line · starts now · done in about"), r.out
    assert "No worker is taking tasks yet" in r.err
    second = add("Create Image", "--quality", "low", "--owner", "bob", "--count", "4")
    third = add("create video", "--quality", "standard", "--owner", "cy", "--seconds", "2", "--priority", "high")
    assert second["position"] == 2 and third["position"] == 1  # high priority goes first
    from tests.test_plan import video_frames

    assert third["frames"] == video_frames("standard", 2) and third["function"] == "Create Video"
    listed = tasks()
    assert [t["id"] for t in listed] == [3, 1, 2] and [t["position"] for t in listed] == [1, 2, 3]
    starts = [t["starts_in_seconds"] for t in listed]
    assert starts[0] == [0, 0] and starts[1][0] > 0 and starts[2][0] >= starts[1][0]  # one card: one at a time
    table = run_qms("queue", "list")
    assert table.code == 0 and "✨ High" in table.out and "ann" in table.out and "in about" in table.out
    shown = run_qms("queue", "show", "2")
    assert shown.code == 0 and "3rd in line" in shown.out


def test_bad_input_is_one_line_with_the_documented_code_and_changes_nothing(queue_env: Path) -> None:
    add("Create Image", "--owner", "ann")
    before = tasks()
    for args, code, words in (
        (["Create Sound"], 2, "Create Sound"),
        (["Create Image", "--quality", "ultra"], 2, "ultra"),
        (["Create Image", "--priority", "urgent"], 2, "urgent"),
        (["Create Image", "--count", "0"], 2, "--count"),
        (["Create Video", "--quality", "high", "--vram-limit", "12GB"], 3, "could never start"),
        (["Create Image", "--queue", "postgresql://qms:pw@127.0.0.1:1/q"], 1, "cannot reach the queue database"),
    ):
        r = run_qms("queue", "add", *args)
        assert r.code == code, (args, r.err)
        assert words in r.err and r.err.count("\n") <= 2 and "Traceback" not in r.err, r.err
    for args, words in ((["--mix", "low=5,ultra=2"], "ultra"), (["--mix", "low"], "'low'"), (["--load", "1.2"], "1.2"),
                        (["--gpus", "0"], "--gpus"), (["--owners", ","], "--owners"), (["--quota", "high=2"], "2")):
        r = run_qms("queue", "simulate", *args)
        assert r.code == 2 and words in r.err and "Traceback" not in r.err, (args, r.err)
    assert run_qms("queue", "show", "99").code == 1
    assert run_qms("queue", "policy", "--max-wait", "0s").code == 2
    stable = ("as_of", "starts_in_seconds", "finishes_in_seconds", "starts_at", "finishes_at")
    assert [{k: v for k, v in t.items() if k not in stable} for t in tasks()] == \
        [{k: v for k, v in t.items() if k not in stable} for t in before]


def test_many_adds_at_once_are_all_kept(queue_env: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "qms_cli", "queue", "add", "Create Image", "--owner", f"p{i}",
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(12)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids.append(json.loads(out)["id"])
    assert sorted(ids) == list(range(1, 13))
    assert sorted(t["owner"] for t in tasks()) == sorted(f"p{i}" for i in range(12))


def test_worker_runs_records_and_wait_follows_outcomes(queue_env: Path) -> None:
    ok = add("Create Image", "--quality", "low", "--owner", "ann")
    bad = add("Create Image", "--quality", "low", "--owner", "bob")
    r = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(queue_env), "--once",
                        "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (line,) = r.stdout.splitlines()
    done = json.loads(line)
    validate_output(done, "queue-task")
    assert (done["id"], done["state"], done["outcome"], done["ran_tier"]) == (ok["id"], "done", "ok", "low")
    assert f"Task {ok['id']} is done" in r.stderr
    failed = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(queue_env),
                             "--once"], capture_output=True, text=True, timeout=120, env={**os.environ,
                                                                                        "RUN_EXIT": "4"})
    assert failed.returncode == 0
    assert run_qms("queue", "wait", str(ok["id"])).code == 0
    waited = run_qms("queue", "wait", str(bad["id"]), "--json")
    assert waited.code == 1 and "the runner exited with code 4" in waited.err
    validate_output(waited.json(), "queue-task")
    nothing = run_qms("queue", "work", "--runner", runner(queue_env), "--once")
    assert nothing.code == 0
    rows = json.loads(run_qms("history", "list", "--json").out)["runs"]
    assert sorted((r["source"], r["outcome"]) for r in rows) == [("queue", "failed"), ("queue", "ok")]
    assert runs(queue_env) == [f"{ok['id']} low ann", f"{bad['id']} low bob"]


def test_cancel_waiting_and_running(queue_env: Path) -> None:
    first = add("Create Image", "--owner", "ann")
    second = add("Create Image", "--owner", "bob")
    r = run_qms("queue", "cancel", str(second["id"]))
    assert r.code == 0 and "was cancelled" in r.out
    assert run_qms("queue", "cancel", str(second["id"])).code == 1
    assert run_qms("queue", "wait", str(second["id"])).code == 3
    worker = start_worker(queue_env, env={"RUN_SECONDS": "60"})
    try:
        until(lambda: (queue_env / f"started-{first['id']}").exists())
        r = run_qms("queue", "cancel", str(first["id"]))
        assert r.code == 0 and "asked to stop" in r.out
        assert run_qms("queue", "wait", str(first["id"]), "--interval", "0.1").code == 3
        assert (queue_env / f"interrupted-{first['id']}").exists()  # the runner got Ctrl-C
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)


def test_several_workers_run_every_task_exactly_once(queue_env: Path) -> None:
    for i in range(24):
        add("Create Image", "--quality", ("low", "standard")[i % 2], "--owner", f"o{i % 5}")
    assert drain(queue_env, 3) == [130, 130, 130]
    ids = [line.split()[0] for line in runs(queue_env)]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 25)]  # each once, none lost
    assert len({t["worker"] for t in tasks()}) >= 2


def test_a_killed_worker_loses_nothing_and_ctrl_c_returns_the_task(queue_env: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from qms_cli.queue.model import LEASE
    from qms_cli.queue.store import SQLiteStore

    monkeypatch.setenv("QMS_QUEUE_LEASE", "600")  # the workers' lease: time is moved on below, not waited for
    task = add("Create Image", "--owner", "ann")
    doomed = start_worker(queue_env, env={"RUN_SECONDS": "60"})
    until(lambda: (queue_env / f"started-{task['id']}").exists())
    os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its runner die without a word
    doomed.wait(timeout=30)
    early = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(queue_env),
                            "--once"], capture_output=True, text=True, timeout=120)
    assert early.returncode == 0 and len(runs(queue_env)) == 1  # the claim still lives: nothing to take
    later = SQLiteStore(queue_env / "queue.sqlite3", clock=lambda: time.time() + LEASE + 1)  # the lease runs out
    try:
        assert [t.id for t in later.snapshot().waiting] == [task["id"]]  # its holder is dead: back in the queue
    finally:
        later.close()
    rescuer = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(queue_env),
                              "--once"], capture_output=True, text=True, timeout=120)
    assert rescuer.returncode == 0, rescuer.stderr
    (after,) = tasks()
    assert (after["state"], after["attempts"]) == ("done", 1)
    # Ctrl-C at a terminal reaches the worker and the runner: the task goes back to the queue, as it was.
    second = add("Create Image", "--owner", "bob")
    stopped = start_worker(queue_env, env={"RUN_SECONDS": "60"})
    until(lambda: (queue_env / f"started-{second['id']}").exists())
    os.killpg(stopped.pid, signal.SIGINT)
    assert stopped.wait(timeout=30) == 130
    assert "went back to the queue" in stopped.stderr.read()  # type: ignore[union-attr]
    back = next(t for t in tasks() if t["id"] == second["id"])
    assert (back["state"], back["attempts"], back["worker"]) == ("queued", 0, None)
    # SIGTERM (a service manager) does the same.
    termed = start_worker(queue_env, env={"RUN_SECONDS": "60"})
    until(lambda: len([r for r in runs(queue_env) if r.startswith(f"{second['id']} ")]) == 2)
    termed.terminate()
    assert termed.wait(timeout=30) == 130
    assert next(t for t in tasks() if t["id"] == second["id"])["state"] == "queued"


def test_a_worker_takes_only_what_fits_its_card_unless_fallback_was_allowed(queue_env: Path) -> None:
    big = add("Create Image", "--quality", "high", "--owner", "ann")
    small = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(queue_env),
                            "--once", "--vram-limit", "12GB"], capture_output=True, text=True, timeout=120)
    assert small.returncode == 0 and runs(queue_env) == []  # 24 GB plan, 12 GB card: it waits
    assert next(t for t in tasks() if t["id"] == big["id"])["state"] == "queued"
    run_qms("queue", "cancel", str(big["id"]))
    lower = add("Create Video", "--quality", "high", "--owner", "bob", "--fallback")
    small = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner(queue_env),
                            "--once", "--vram-limit", "12GB"], capture_output=True, text=True, timeout=120)
    assert small.returncode == 0 and "runs at" in small.stderr
    ran = next(t for t in tasks() if t["id"] == lower["id"])
    assert ran["state"] == "done" and ran["tier"] == "high" and ran["ran_tier"] != "high"


def test_wait_notifies(queue_env: Path, tmp_path: Path) -> None:
    task = add("Create Image", "--owner", "ann")
    run_qms("queue", "work", "--runner", runner(queue_env), "--once")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "notified"
    (bin_dir / "notify-send").write_text(f"#!/bin/sh\necho \"$@\" > {seen}\n")
    (bin_dir / "notify-send").chmod(0o755)
    r = run_qms("queue", "wait", str(task["id"]), "--notify",
                env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "DISPLAY": ":0"})
    assert r.code == 0 and f"qms: task {task['id']} is done" in seen.read_text()
    r = run_qms("queue", "wait", str(task["id"]), "--notify", env={"PATH": "/nonexistent", "DISPLAY": ""})
    assert r.code == 0 and "\a" in r.err


def test_policy_is_shared_by_everyone(queue_env: Path) -> None:
    r = run_qms("queue", "policy", "--quota", "high=50%", "--max-wait", "30m", "--json")
    assert r.code == 0 and r.json() == {"max_wait_seconds": 1800.0, "quota": {"high": 0.5},
                                        "reserve": {"low": 0.25, "standard": 0.25, "high": 0.25}}
    validate_output(r.json(), "queue-policy")
    assert "30 min" in run_qms("queue", "policy").out


def test_simulate_report_and_json(tmp_path: Path) -> None:
    r = run_qms("queue", "simulate", "--hours", "3", "--report", str(tmp_path / "sim"), "--json")
    assert r.code == 0, r.err
    validate_output(r.json(), "queue-simulation")
    assert set(r.json()["policies"]) == {"fifo", "priority", "fair"}
    page = (tmp_path / "sim" / "report.html").read_text()
    assert page.count("<svg") == 3 and "Fair (qms)" in page
    validate_output(json.loads((tmp_path / "sim" / "simulation.json").read_text()), "queue-simulation")
    text = run_qms("queue", "simulate", "--hours", "3", "--gpus", "2", "--batch", "20")
    assert text.code == 0 and "single-task owners" in text.out and text.out.count(" — ") == 4


def test_exporter_reports_the_queue(queue_env: Path, tmp_path: Path) -> None:
    add("Create Image", "--quality", "high", "--owner", "ann")
    add("Create Image", "--quality", "low", "--owner", "bob")
    run_qms("queue", "work", "--runner", runner(queue_env), "--once")
    out = tmp_path / "q.prom"
    assert run_qms("exporter", "--textfile", str(out)).code == 0
    text = out.read_text()
    assert 'qms_queue_tasks{hostname=' in text and 'owner="bob",state="queued",tier="low"} 1.0' in text
    assert 'qms_queue_wait_seconds_count{hostname=' in text and "qms_queue_workers" in text


@pytest.fixture(scope="module")
def pg_url(pg_server: Server) -> str:
    return pg_server.database("cli")


@pytest.mark.slow
def test_workers_on_many_hosts_share_a_postgresql_queue(queue_env: Path, pg_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMS_QUEUE_URL", pg_url)
    for i in range(16):
        add("Create Image", "--owner", f"o{i % 4}")
    drain(queue_env, 3)
    assert sorted((line.split()[0] for line in runs(queue_env)), key=int) == [str(i) for i in range(1, 17)]
    listed = run_qms("queue", "list", "--finished", "3", "--queue", pg_url)
    assert listed.code == 0 and "done" in listed.out
