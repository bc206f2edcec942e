"""History: qms run / record into SQLite, accuracy, stats, learning, and a database that misbehaves."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.runs import history
from tests.conftest import run_qms, validate_output

CHILD = """
import json, os, signal, sys, time
out = sys.argv[1]
with open(out, "w") as f:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("QMS_")} |
              {"plan": json.load(open(os.environ["QMS_PLAN"]))}, f)
print("hello from the command", flush=True)
print("a warning on stderr", file=sys.stderr, flush=True)
mode = sys.argv[2]
if mode == "sleep":
    signal.signal(signal.SIGINT, lambda *a: sys.exit(130))
    open(out + ".started", "w").close()
    time.sleep(60)
if mode == "oom":
    print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", file=sys.stderr)
    sys.exit(1)
sys.exit(int(mode))
"""


@pytest.fixture
def child(tmp_path: Path) -> Path:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return script


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("QMS_DB", str(path))
    return path


def rows(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY id")]


def test_run_hands_over_the_plan_streams_output_and_records(child: Path, db: Path, tmp_path: Path) -> None:
    seen = tmp_path / "env.json"
    result = run_qms("run", "-f", "Create Image", "--quality", "low", "--node", "n1", "--",
                     sys.executable, str(child), str(seen), "0")
    assert result.code == 0, result.err
    assert "hello from the command" in result.out and "a warning on stderr" in result.err
    assert result.err.strip().splitlines()[-1].startswith("Took ") and "(estimated " in result.err
    env = json.loads(seen.read_text())
    low = load_catalog().tiers.get("low").mappings["Create Image"]  # the processor rung: the lowest tier as mapped
    assert (env["QMS_FUNCTION"], env["QMS_TIER"], env["QMS_MODEL"]) == ("Create Image", "low", low.model)
    assert (env["QMS_RESOLUTION"], env["QMS_STEPS"], env["QMS_DEVICE"]) == (str(low.resolution), str(low.steps), "cpu")
    validate_output(env["plan"], "plan")
    assert not Path(env["QMS_PLAN"]).exists()  # the plan file is removed afterwards
    (row,) = rows(db)
    assert (row["function"], row["requested"], row["chosen"], row["node"], row["outcome"]) == \
        ("Create Image", "low", "low", "n1", "ok")
    assert row["actual_seconds"] > 0 and row["predicted_low"] <= row["predicted"] <= row["predicted_high"]
    assert row["fingerprint"].startswith("cpu-") and row["config_key"].startswith(
        f"{low.model}|{low.resolution}|{low.steps}|")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == history.LATEST


@pytest.mark.parametrize(("mode", "code", "outcome", "line"), [
    ("7", 7, "failed", "Failed after"), ("oom", 1, "oom", "Ran out of graphics memory"),
])
def test_failures_pass_the_exit_code_through(child: Path, db: Path, tmp_path: Path, mode: str, code: int,
                                             outcome: str, line: str) -> None:
    result = run_qms("run", "-f", "Create Image", "--", sys.executable, str(child), str(tmp_path / "e.json"), mode)
    assert result.code == code and line in result.err
    assert rows(db)[0]["outcome"] == outcome and rows(db)[0]["exit_code"] == code


def test_ctrl_c_reaches_the_command_and_is_recorded(child: Path, db: Path, tmp_path: Path) -> None:
    seen = tmp_path / "env.json"
    proc = subprocess.Popen([sys.executable, "-m", "qms_cli", "run", "-f", "Create Image", "--", sys.executable,
                             str(child), str(seen), "sleep"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 60
    while not Path(str(seen) + ".started").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # to qms alone: it passes it on to the command
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Cancelled after" in err
    assert rows(db)[0]["outcome"] == "cancelled"


def test_a_killed_run_leaves_a_consistent_database(child: Path, db: Path, tmp_path: Path) -> None:
    run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "10")
    seen = tmp_path / "env.json"
    proc = subprocess.Popen([sys.executable, "-m", "qms_cli", "run", "-f", "Create Image", "--", sys.executable,
                             str(child), str(seen), "sleep"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not Path(str(seen) + ".started").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "11").code == 0


def test_record_from_options_and_json_lines(db: Path) -> None:
    one = run_qms("record", "-f", "Create Image", "--tier", "High", "--seconds", "41.5", "--peak", "14GB",
                  "--requested", "high", "--node", "hero")
    assert one.code == 0 and "Recorded 1 run." in one.out
    lines = "\n".join([
        json.dumps({"function": "Create Video", "tier": "low", "seconds": 120}),
        json.dumps({"function": "create image", "tier": "standard", "requested": "high", "seconds": 50,
                    "peak": 12 * 2**30}),
        "not json",
        json.dumps({"function": "Create Image", "tier": "ultra", "seconds": 3}),
        json.dumps({"function": "Create Image", "tier": "low", "outcome": "oom"}),
        json.dumps({"function": "Create Image", "tier": "low", "seconds": -1}),
    ])
    many = run_qms("record", "--json", input=lines)
    assert many.code == 1
    assert many.json() == {"recorded": 3, "errors": [
        "line 3: not valid JSON (Expecting value, column 1)", "line 4: unknown quality 'ultra'; choose one of: "
        "low, standard, high", "line 6: 'seconds' must be a positive number for a run that succeeded, not -1"]}
    recorded = rows(db)
    assert [r["chosen"] for r in recorded] == ["high", "low", "standard", "low"]
    assert recorded[0]["actual_peak"] == 14 * 2**30 and recorded[2]["fallback"] == 1
    assert recorded[3]["outcome"] == "oom" and recorded[0]["source"] == "record"


def test_twenty_concurrent_writers_lose_nothing(db: Path) -> None:
    line = json.dumps({"function": "Create Image", "tier": "low", "seconds": 5})
    procs = [subprocess.Popen([sys.executable, "-m", "qms_cli", "record"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(20)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("\n".join([line] * 5))
        p.stdin.close()
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0] * 20, [p.stderr.read() for p in procs if p.stderr]
    for p in procs:
        if p.stderr:
            p.stderr.close()
    assert len(rows(db)) == 100


def test_a_locked_history_does_not_block_the_generation(child: Path, db: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "10")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        env = {"QMS_DB_TIMEOUT": "0.3"}
        result = run_qms("run", "-f", "Create Image", "--", sys.executable, str(child), str(tmp_path / "e.json"),
                         "0", env=env)
        assert result.code == 0 and "hello from the command" in result.out
        assert "not recorded in the history" in result.err and "busy" in result.err
        record = run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "3", env=env)
        assert record.code == 1 and "busy" in record.err and "Traceback" not in record.err
    finally:
        holder.execute("ROLLBACK")


def test_a_read_only_history_is_a_clear_error(db: Path, qms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "10").code == 0
    real = sqlite3.connect

    def read_only(path: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if kwargs.pop("uri", False):  # qms's own read-only opening
            return real(path, *args, uri=True, **kwargs)
        return real(f"file:{path}?mode=ro", *args, uri=True, **kwargs)  # the file system refuses writes

    monkeypatch.setattr(sqlite3, "connect", read_only)
    result = qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "10")
    assert result.code == 1 and "read-only" in result.err
    assert qms("history", "list").code == 0  # reading still works


@pytest.mark.parametrize("kind", ["newer", "corrupt", "foreign"])
def test_a_database_qms_cannot_use_is_left_untouched(db: Path, kind: str) -> None:
    if kind == "corrupt":
        db.write_bytes(b"this is not sqlite" * 100)
    else:
        conn = sqlite3.connect(db)
        if kind == "newer":
            conn.execute("CREATE TABLE runs (x)")
            conn.execute("PRAGMA user_version = 7")
        else:
            conn.execute("CREATE TABLE invoices (x)")
        conn.commit()
        conn.close()
    before = db.read_bytes()
    result = run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "10")
    assert result.code == 1 and "left untouched" in result.err
    assert {"newer": "newer qms", "corrupt": "damaged", "foreign": "not a qms history"}[kind] in result.err
    assert db.read_bytes() == before
    assert run_qms("plan", "Create Image", "--json").code == 0  # planning goes on, without learning


def expected_seconds(tier: str = "low") -> float:
    data = run_qms("plan", "Create Image", "--quality", tier, "--json").json()
    return float(data["tasks"][0]["predicted"]["seconds"]["expected"])


def test_estimates_learn_from_runs_and_resist_an_outlier(db: Path) -> None:
    base = expected_seconds()
    lines = "\n".join(json.dumps({"function": "Create Image", "tier": "low", "seconds": base * 1.3})
                      for _ in range(6))
    assert run_qms("record", input=lines).code == 0
    learned = expected_seconds()
    assert learned / base >= 1.2  # most of the way to the 30% the runs took longer
    plan = run_qms("plan", "Create Image", "--quality", "low", "--json").json()["tasks"][0]["predicted"]
    assert "learned from 6 runs here" in plan["basis"]
    assert run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", str(base * 10)).code == 0
    assert abs(expected_seconds() / learned - 1) < 0.03  # one wild run barely moves it
    assert expected_seconds("standard") == pytest.approx(run_qms(
        "plan", "Create Image", "--quality", "standard", "--json").json()["tasks"][0]["predicted"]["seconds"][
        "expected"])


def test_accuracy_stats_and_history(db: Path) -> None:
    base = expected_seconds()
    lines = [json.dumps({"function": "Create Image", "tier": "low", "seconds": base * f}) for f in (1.1, 1.1, 1.5)]
    lines.append(json.dumps({"function": "Create Image", "tier": "low", "requested": "high", "seconds": base}))
    lines.append(json.dumps({"function": "Create Video", "tier": "low", "outcome": "failed"}))
    assert run_qms("record", input="\n".join(lines)).code == 0
    acc = run_qms("accuracy", "--json")
    assert acc.code == 0
    data = acc.json()
    validate_output(data, "accuracy")
    (group,) = data["groups"]
    assert group["runs"] == 4 and group["within_20"] == pytest.approx(0.75)
    assert group["bias"] > 0 and len(group["trend"]) == 1
    people = run_qms("accuracy").out
    assert "Within ±20%" in people and "longer than estimated" in people
    st = run_qms("stats", "--json").json()
    validate_output(st, "stats")
    assert st["runs"] == 5 and st["fallbacks"] == 1 and st["tiers"]["low"]["failed"] == 1
    assert st["functions"] == {"Create Image": 4, "Create Video": 1}
    listed = run_qms("history", "list", "--limit", "2", "--json").json()
    validate_output(listed, "history-runs")
    assert len(listed["runs"]) == 2 and listed["runs"][0]["function"] == "Create Video"
    exported = run_qms("history", "export", "--format", "jsonl").out.splitlines()
    assert len(exported) == 5 and json.loads(exported[0])["source"] == "record"
    assert run_qms("accuracy", "--since", "2999-01-01", "--json").json()["groups"] == []
    assert run_qms("history", "prune", "--older-than", "1d").out.startswith("Deleted 0 runs")
    assert run_qms("history", "prune", "--older-than", "0s", "--json").json()["deleted"] == 5
    assert run_qms("history", "export", "--format", "csv").code == 2


def test_no_history_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMS_DB", str(tmp_path / "none.sqlite3"))
    result = run_qms("accuracy")
    assert result.code == 1 and "no history yet" in result.err
    assert not (tmp_path / "none.sqlite3").exists()


def test_run_needs_a_command_and_a_function(db: Path) -> None:
    assert run_qms("run", "-f", "Create Image").code == 2
    assert "name the function with --function" in run_qms("run", "--", "true").err
    missing = run_qms("run", "-f", "Create Image", "--", "no-such-program-qms")
    assert missing.code == 2 and "'no-such-program-qms' was not found" in missing.err


def test_strict_run_refuses_a_lower_quality(child: Path, db: Path, tmp_path: Path) -> None:
    result = run_qms("run", "-f", "Create Image", "--quality", "high", "--strict", "--", sys.executable, str(child),
                     str(tmp_path / "e.json"), "0")
    assert result.code == 3 and not (tmp_path / "e.json").exists()


def test_history_env_is_isolated() -> None:
    assert os.environ.get("QMS_DATA_DIR")  # the suite never touches the real user data folder
