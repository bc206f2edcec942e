"""What people read after real commands: `qms stats` on who was asked, the prompt's refusal, the line said when
no one can be asked, counts with their nouns."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import run_qms, validate_output
from tests.test_plan import _run_in_terminal

FALLBACK = ["--hardware", "rtx-3060-12gb", "--quality", "high"]  # Create Video steps down to Standard there


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("QMS_DB", str(path))
    monkeypatch.setenv("QMS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QMS_OUTPUT", "plain")
    return path


def test_stats_says_nobody_was_asked_about_recorded_runs(db: Path) -> None:
    lines = [json.dumps({"function": "Create Image", "tier": "low", "requested": "high", "seconds": 30}),
             json.dumps({"function": "Create Image", "tier": "low", "seconds": 30})]
    assert run_qms("record", input="\n".join(lines)).code == 0
    st = run_qms("stats", "--json").json()
    validate_output(st, "stats")
    assert (st["fallbacks"], st["fallbacks_asked"], st["fallbacks_accepted"], st["acceptance"]) == (1, 0, 0, None)
    out = run_qms("stats").out
    assert "1 of 2 runs (50%) used a lower quality than asked; nobody was asked first." in out
    assert "went ahead" not in out
    # A history written by an older qms stored "went ahead" for recorded runs: still nobody was asked.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET proceeded = 1 WHERE fallback = 1")
    assert run_qms("stats", "--json").json()["fallbacks_asked"] == 0


def test_stats_counts_who_went_ahead_when_they_said_so(db: Path) -> None:
    task = ["run", "-f", "Create Video", *FALLBACK, "--yes", "--", sys.executable, "-c", "pass"]
    assert run_qms(*task).code == 0
    assert run_qms("record", input=json.dumps({"function": "Create Image", "tier": "low", "seconds": 5})).code == 0
    st = run_qms("stats", "--json").json()
    assert (st["runs"], st["fallbacks"], st["fallbacks_asked"], st["fallbacks_accepted"]) == (2, 1, 1, 1)
    assert ("1 of 2 runs (50%) used a lower quality than asked; people were asked first 1 time and went ahead "
            "1 time.") in run_qms("stats").out


def test_no_one_to_ask_is_said_in_plain_words() -> None:
    err = run_qms("plan", "Create Video", *FALLBACK).err
    assert "Continuing with ⚖️ Standard without asking: there is no one at a terminal to answer." in err
    assert "--yes" not in err and "explicitly" not in err


def test_answering_no_is_not_an_error() -> None:
    code, out = _run_in_terminal(["plan", "Create Video", *FALLBACK], b"n\r")
    assert code == 3
    assert "Cancelled: nothing was planned." in out and "Error: Cancelled" not in out


def test_a_refusal_under_strict_is_still_an_error() -> None:
    result = run_qms("plan", "Create Video", *FALLBACK, "--strict")
    assert result.code == 3 and result.err.startswith("Error: Create Video would need Standard instead of High")


def test_the_processor_line_counts_one_core() -> None:
    from qms_cli.render import messages

    assert messages.probe_system("8 GB", "4 GB", 1, "a small processor").endswith("a small processor, 1 core")
    assert messages.probe_system("8 GB", "4 GB", 2, "a small processor").endswith("2 cores")
