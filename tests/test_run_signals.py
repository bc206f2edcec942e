"""`qms run` under SIGINT, SIGTERM and SIGHUP: passed on to the command's whole process group, the run recorded
as cancelled, the plan file removed, exit 128 + signal (issue 15). Real processes throughout."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import json, os, signal, subprocess, sys, time
out, mode = sys.argv[1], sys.argv[2]
quiet = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL); time.sleep(120)"
helper = subprocess.Popen([sys.executable, "-c", quiet])  # a process of its own
def got(number, frame):
    with open(out + ".signal", "a") as f:
        f.write(signal.Signals(number).name + "\\n")
    if mode != "stubborn":
        sys.exit(128 + number)
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, got)
with open(out, "w") as f:
    json.dump({"plan": os.environ["QMS_PLAN"], "helper": helper.pid}, f)
while True:
    time.sleep(0.1)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], Path, dict[str, int | str]]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "child.json"
    proc = subprocess.Popen([sys.executable, "-m", "qms_cli", "run", "-f", "Create Image", "--", sys.executable,
                             str(script), str(out), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not out.exists() or not out.read_text():
        assert time.time() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.1)
    return proc, out, json.loads(out.read_text())


def recorded(db: Path) -> list[tuple[str, int]]:
    return sqlite3.connect(db).execute("SELECT outcome, exit_code FROM runs").fetchall()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("QMS_DB", str(path))
    return path


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda n: n.name)
def test_a_signal_to_qms_reaches_the_command_and_the_run_is_cancelled(tmp_path: Path, db: Path,
                                                                      number: signal.Signals) -> None:
    proc, out, seen = start(tmp_path, "polite")
    proc.send_signal(number)  # to qms alone, as `kill` or a service manager sends it
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + number, err
    assert "Cancelled after" in err and "Traceback" not in err
    assert Path(f"{out}.signal").read_text() == f"{number.name}\n"  # the command got the same signal, once
    assert not Path(str(seen["plan"])).exists()
    assert recorded(db) == [("cancelled", 128 + number)]
    deadline = time.time() + 10
    while alive(int(seen["helper"])) and time.time() < deadline:  # the command's own helper went with it
        time.sleep(0.05)
    assert not alive(int(seen["helper"]))


def test_a_second_signal_insists(tmp_path: Path, db: Path) -> None:
    proc, out, seen = start(tmp_path, "stubborn")  # notes the signal and goes on
    proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 30
    while not Path(f"{out}.signal").exists():
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM and "Cancelled after" in err
    assert recorded(db) == [("cancelled", 128 + signal.SIGTERM)]
    assert not Path(str(seen["plan"])).exists() and not alive(int(seen["helper"]))
