"""A worker meets a task it cannot prepare (issue 16): the task is marked failed with why, the error is logged
with the task's id, and the worker goes on to the next task; the real program, on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qms_cli.queue.model import NewTask
from qms_cli.queue.store import SQLiteStore
from tests.conftest import run_qms


@pytest.fixture
def queue_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QMS_DB", str(tmp_path / "queue.sqlite3"))
    monkeypatch.setenv("VRAM_LIMIT", "24GB")
    monkeypatch.setenv("QMS_QUEUE_LEASE", "600")  # nothing here waits on a lease
    monkeypatch.setenv("QMS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_a_task_whose_plan_raises_is_marked_failed_and_the_worker_goes_on(queue_env: Path) -> None:
    good = run_qms("queue", "add", "Create Image", "--quality", "low", "--owner", "bob", "--json")
    assert good.code == 0, good.err
    good_id = good.json()["id"]
    # A task this worker cannot plan (a function its profiles do not have: queued by a host with other profiles),
    # first in line (high priority).
    store = SQLiteStore(queue_env / "queue.sqlite3")
    try:
        bad = store.add(NewTask("ann", "Create Sound", "low", 2, None, 1, None, None, False, "low", "low|sound",
                                2**30, 10.0, 8.0, 14.0))
    finally:
        store.close()
    runner = f"{sys.executable} -c 'import sys; sys.exit(0)'"
    worker = subprocess.run([sys.executable, "-m", "qms_cli", "queue", "work", "--runner", runner, "--once"],
                            capture_output=True, text=True, timeout=180, env=dict(os.environ))
    assert worker.returncode == 0, worker.stderr
    # logged with the task's id and what went wrong, then the next task ran
    assert f"Task {bad.id} could not be prepared on this worker (UsageError); it was marked failed." in worker.stderr
    assert "Traceback" in worker.stderr and "Create Sound" in worker.stderr
    assert f"Task {good_id} is done" in worker.stderr
    listed = run_qms("queue", "list", "--json", "--finished", "10")
    assert listed.code == 0, listed.err
    by_id = {t["id"]: t for t in listed.json()["tasks"]}
    assert (by_id[bad.id]["state"], by_id[bad.id]["outcome"]) == ("failed", "failed")
    assert by_id[bad.id]["reason"] == ("a worker could not prepare its run (UsageError); the worker's output has "
                                       "the details")
    assert by_id[good_id]["state"] == "done"
    shown = run_qms("queue", "show", str(bad.id))
    assert shown.code == 0 and "could not prepare its run" in shown.out
    conn_facts = SQLiteStore(queue_env / "queue.sqlite3")
    try:
        t = conn_facts.get(bad.id)
    finally:
        conn_facts.close()
    assert t is not None and (t.reason_kind, t.reason_facts) == ("prepare_failed", {"error": "UsageError"})
    assert json.dumps(t.reason_facts)  # facts, not a sentence
