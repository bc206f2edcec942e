"""A history that is damaged, or not a history at all: every command refuses it in one line and leaves every
byte as it was (issue 15)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from qms_cli.runs import history
from tests.conftest import run_qms


def _row(i: int) -> dict[str, Any]:
    return {"started_at": f"2026-11-{i % 28 + 1:02d}T10:00:{i % 60:02d}", "function": "Create Image",
            "requested": "low", "chosen": "low", "outcome": "ok", "source": "record", "count": 1, "fallback": 0,
            "fingerprint": "x" * 40, "config_key": "k" * 30, "model_seconds": 10.0, "predicted": 10.0,
            "actual_seconds": 11.0}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("QMS_DB", str(path))
    return path


def damage(path: Path) -> None:
    """A history of 3,000 runs whose last page is garbled: SQLite still opens it and appends to it, but
    integrity_check calls it malformed (what a disk or a copy made while writing leaves)."""
    conn = history.connect(path)
    history.insert(conn, [_row(i) for i in range(3000)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    conn.close()
    data = bytearray(path.read_bytes())
    end = pages * size
    data[end - 300:end - 100] = b"A" * 200
    path.write_bytes(bytes(data))
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    check.close()


COMMANDS = [
    ("record", "-f", "Create Image", "--tier", "low", "--seconds", "3"),
    ("history", "list"),
    ("history", "export"),
    ("history", "prune", "--older-than", "1d"),
    ("stats",),
    ("accuracy",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_damaged_history_is_refused_by_every_command(db: Path, args: tuple[str, ...]) -> None:
    damage(db)
    before = db.read_bytes()
    result = run_qms(*args)
    assert result.code == 1, result.err
    assert result.err.startswith(f"Error: {db}: the history database is damaged (")
    assert "left untouched" in result.err and len(result.err.strip().splitlines()) == 1
    assert db.read_bytes() == before


def test_run_goes_on_but_does_not_write_into_a_damaged_history(db: Path, tmp_path: Path) -> None:
    damage(db)
    before = db.read_bytes()
    marker = tmp_path / "ran"
    result = run_qms("run", "-f", "Create Image", "--", sys.executable, "-c",
                     f"open({str(marker)!r}, 'w').close()")
    assert result.code == 0 and marker.exists()
    assert "not recorded in the history" in result.err and "damaged" in result.err
    assert db.read_bytes() == before


@pytest.mark.parametrize("kind", ["user-version-2", "other-application"])
def test_a_foreign_database_is_refused_before_any_write(db: Path, kind: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.execute("PRAGMA user_version = 2" if kind == "user-version-2" else "PRAGMA application_id = 1234")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    for args in COMMANDS:
        result = run_qms(*args)
        assert result.code == 1 and "not a qms history" in result.err, (args, result.err)
        assert db.read_bytes() == before, args  # no switch to WAL: the header's bytes 18-19 stay 1, 1
    assert not Path(f"{db}-wal").exists()


def test_a_history_from_before_the_application_id_is_known_by_its_tables(db: Path) -> None:
    conn = history.connect(db)
    conn.execute("PRAGMA application_id = 0")  # as every history written before issue 15
    history.insert(conn, [_row(1)])
    conn.close()
    assert run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "3").code == 0
    listed = run_qms("history", "list", "--json")
    assert listed.code == 0 and len(listed.json()["runs"]) == 2
    new = db.parent / "new.sqlite3"
    made = run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "3", env={"QMS_DB": str(new)})
    assert made.code == 0
    assert sqlite3.connect(new).execute("PRAGMA application_id").fetchone()[0] == history.APPLICATION_ID


def test_reading_takes_no_lock_a_writer_waits_on(db: Path) -> None:
    conn = history.connect(db)
    history.insert(conn, [_row(1)])
    conn.close()
    reader = history.open_read(db)
    reader.execute("BEGIN")
    assert history.select(reader, "SELECT count(*) FROM runs") == [(1,)]
    try:
        result = run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "3",
                         env={"QMS_DB_TIMEOUT": "0"})
        assert result.code == 0, result.err
    finally:
        reader.close()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        history.open_read(db).execute("DELETE FROM runs")
