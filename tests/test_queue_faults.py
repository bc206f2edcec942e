"""The queue under faults (issue 15): workers killed with SIGKILL while their runners run, and a PostgreSQL
server restarted under several workers. Real `qms queue work` processes, a real runner, real databases; what is
counted is complete runs per task (the runner writes a line when it finishes) and history rows per task."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_qms

RUNNER = """
import os, sys, time
folder, task = sys.argv[1], os.environ["QMS_TASK_ID"]
def log(word):
    with open(os.path.join(folder, "runs.log"), "a") as f:
        f.write(f"{word} {task} {os.getpid()} {os.environ.get('QMS_ATTEMPT')}\\n")
log("start")
time.sleep(float(os.environ.get("RUN_SECONDS", "1")))
log("done")
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QMS_DB", str(tmp_path / "queue.sqlite3"))
    monkeypatch.setenv("VRAM_LIMIT", "24GB")
    monkeypatch.setenv("QMS_QUEUE_LEASE", "2")
    (tmp_path / "runner.py").write_text(RUNNER)
    return tmp_path


def worker(folder: Path, seconds: float, queue: str | None = None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "qms_cli", "queue", "work", "--runner",
            f"{sys.executable} {folder / 'runner.py'} {folder}", "--poll", "0.2"]
    return subprocess.Popen(argv + (["--queue", queue] if queue else []),
                            env={**os.environ, "RUN_SECONDS": str(seconds)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def log(folder: Path) -> list[list[str]]:
    path = folder / "runs.log"
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def until(check: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def states(queue: str | None = None) -> list[str]:
    r = run_qms("queue", "list", "--json", "--finished", "1000", *(["--queue", queue] if queue else []))
    assert r.code == 0, r.err
    return [t["state"] for t in r.json()["tasks"]]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def stop(workers: list[subprocess.Popen[str]]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGINT)
    for w in workers:
        w.wait(timeout=60)
        if w.stderr:
            w.stderr.close()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_killed_workers_runner_dies_with_it_and_no_task_runs_twice(folder: Path) -> None:
    kills = 4
    for i in range(kills):
        assert run_qms("queue", "add", "Create Image", "--owner", f"o{i}", "--json").code == 0
    for n in range(1, kills + 1):  # each time: a worker starts a run, and is killed (SIGKILL, the worker alone)
        doomed = worker(folder, 20)
        until(lambda n=n: sum(1 for e in log(folder) if e[0] == "start") == n)  # type: ignore[misc]
        runner_pid = int(log(folder)[-1][2])
        doomed.kill()
        doomed.wait(timeout=30)
        if doomed.stderr:
            doomed.stderr.close()
        until(lambda pid=runner_pid: not alive(pid), timeout=10)  # type: ignore[misc]  # died with its worker
    workers = [worker(folder, 0.5) for _ in range(2)]
    try:
        until(lambda: all(s in ("done", "failed") for s in states()), timeout=120)
    finally:
        stop(workers)
    entries = log(folder)
    complete = Counter(e[1] for e in entries if e[0] == "done")
    assert complete == {str(i): 1 for i in range(1, kills + 1)}, entries  # each task ran to its end once
    starts = Counter(e[1] for e in entries if e[0] == "start")
    attempts = {e[1]: int(e[3]) for e in entries if e[0] == "done"}
    assert attempts == dict(starts), entries  # each run knows its attempt: 2 after one killed run, and so on
    assert sum(starts.values()) == 2 * kills  # every killed run was run again, once


@pytest.fixture
def pg() -> Iterator[object]:
    from tests import postgres_server

    why = postgres_server.missing()
    if why:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    server = postgres_server.Server()
    try:
        yield server
    finally:
        server.stop()


def history_rows(folder: Path) -> int:
    with sqlite3.connect(folder / "queue.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM runs WHERE source = 'queue'").fetchone()[0])


@pytest.mark.slow
def test_a_postgresql_outage_stops_no_worker_and_reruns_nothing(folder: Path, pg: object,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.postgres_server import Server

    assert isinstance(pg, Server)
    url = pg.database("outage")
    monkeypatch.setenv("QMS_QUEUE_URL", url)
    total = 30
    for i in range(total):
        assert run_qms("queue", "add", "Create Image", "--owner", f"o{i % 5}", "--json").code == 0
    workers = [worker(folder, 0.4) for _ in range(3)]
    try:
        until(lambda: sum(1 for e in log(folder) if e[0] == "done") >= 6)
        pg.restart(down=3.0)  # longer than the 2-second lease
        until(lambda: sum(1 for e in log(folder) if e[0] == "done") >= 12)
        pg.restart(down=0.5)
        until(lambda: states() == ["done"] * total, timeout=180)
        assert [w.poll() for w in workers] == [None, None, None]  # every worker rode out the outages
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGINT)
        said = [w.communicate(timeout=60)[1] for w in workers]
    assert any("cannot be reached" in err for err in said), said  # the outage was seen ...
    assert all("is back" in err for err in said if "cannot be reached" in err), said  # ... and ridden out
    complete = Counter(e[1] for e in log(folder) if e[0] == "done")
    assert complete == {str(i): 1 for i in range(1, total + 1)}
    assert history_rows(folder) == total


@pytest.mark.slow
def test_an_outcome_the_database_could_not_take_is_kept_on_disk_and_never_rerun(
        folder: Path, pg: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.postgres_server import Server

    assert isinstance(pg, Server)
    monkeypatch.setenv("QMS_QUEUE_URL", pg.database("journal"))
    assert run_qms("queue", "add", "Create Image", "--owner", "ann", "--json").code == 0
    first = worker(folder, 3)
    until(lambda: [e[0] for e in log(folder)] == ["start"])
    pg.down()  # the database goes away before the run ends
    until(lambda: [e[0] for e in log(folder)] == ["start", "done"])
    kept = folder / "data" / "queue-journal"
    until(lambda: kept.is_dir() and any(p.suffix == ".json" for p in kept.iterdir()))
    first.kill()  # the worker dies holding the outcome: only the journal has it
    first.wait(timeout=30)
    if first.stderr:
        first.stderr.close()
    pg.up()
    time.sleep(2.5)  # the claim's lease (2 s) runs out: without the journal the task would run again
    second = worker(folder, 0.2)
    try:
        until(lambda: states() == ["done"])
    finally:
        stop([second])
    assert [e[0] for e in log(folder)] == ["start", "done"]  # one run, no rerun
    assert history_rows(folder) == 1
    assert not [p for p in kept.iterdir() if p.suffix == ".json"]  # delivered, then removed
