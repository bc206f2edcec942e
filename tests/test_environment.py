"""Environment variables parsed like their options (one line, exit 2), and secrets kept out of what qms writes
or prints (issue 15)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from qms_cli.redact import argv, text
from tests.conftest import run_qms

RECORD = ("record", "-f", "Create Image", "--tier", "low", "--seconds", "3")


@pytest.mark.parametrize(("name", "value", "args"), [
    ("QMS_DB_TIMEOUT", "abc", RECORD),
    ("QMS_DB_TIMEOUT", "-1", RECORD),
    ("QMS_DB_TIMEOUT", "nan", RECORD),
    ("QMS_QUEUE_LEASE", "abc", ("queue", "list")),
    ("QMS_QUEUE_LEASE", "1e400", ("queue", "list")),
    ("QMS_QUEUE_LEASE", "0.001", ("queue", "list")),
    ("VRAM_LIMIT", "99999999999999999999GB", ("plan", "Create Image")),
    ("VRAM_LIMIT", "lots", ("plan", "Create Image")),
])
def test_a_bad_variable_is_one_line_and_exit_2(name: str, value: str, args: tuple[str, ...], tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    result = run_qms(*args, env={name: value, "QMS_DB": str(db)})
    assert result.code == 2, result.err
    assert result.err.startswith("Error: ") and name in result.err and repr(value) in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert not db.exists()


def test_variables_take_what_their_options_take(tmp_path: Path) -> None:
    env = {"QMS_DB": str(tmp_path / "runs.sqlite3"), "QMS_DB_TIMEOUT": "2s", "QMS_QUEUE_LEASE": "1 minute"}
    assert run_qms(*RECORD, env=env).code == 0
    assert run_qms("queue", "list", env=env).code == 0
    option = run_qms("plan", "Create Image", "--vram-limit", "99999999999999999999GB")
    variable = run_qms("plan", "Create Image", env={"VRAM_LIMIT": "99999999999999999999GB"})
    assert option.code == variable.code == 2
    assert option.err.replace("--vram-limit", "VRAM_LIMIT") == variable.err


def test_an_empty_home_writes_nothing_anywhere(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QMS_DATA_DIR", "QMS_DB", "XDG_DATA_HOME")}
    env["HOME"] = ""
    work = tmp_path / "somewhere"
    work.mkdir()
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "qms_cli", *RECORD], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "HOME=''" in proc.stderr and "QMS_DATA_DIR" in proc.stderr
    assert not any(work.iterdir()) and not Path("/.local/share/qms").exists()


def test_a_relative_xdg_folder_is_ignored(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QMS_DATA_DIR", "QMS_DB")}
    env.update(XDG_DATA_HOME="relative/data", HOME=str(tmp_path / "home"))
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "qms_cli", *RECORD], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "home/.local/share/qms/history.sqlite3").is_file()
    assert not (tmp_path / "relative").exists()


@pytest.mark.parametrize(("secret", "masked"), [
    ("postgresql://qms:s3cr3t@db.example:5432/queue", "postgresql://qms:***@db.example:5432/queue"),
    ("host=db user=qms password=s3cr3t dbname=queue", "host=db user=qms password=*** dbname=queue"),
    ("host=db password='s3 cr3t' dbname=queue", "host=db password=*** dbname=queue"),
    ("https://hooks.example/notify?token=s3cr3t&channel=renders", "https://hooks.example/notify?token=***&channel=renders"),
    ("PGPASSWORD=s3cr3t QMS_API_TOKEN=s3cr3t", "PGPASSWORD=*** QMS_API_TOKEN=***"),
    ("Authorization: Bearer s3cr3ts3cr3t", "Authorization: Bearer ***"),
    ("postgresql://qms@db/queue at 1.25 ratio=0.8", "postgresql://qms@db/queue at 1.25 ratio=0.8"),
])
def test_secrets_are_masked_and_the_rest_kept(secret: str, masked: str) -> None:
    assert text(secret) == masked
    assert argv(["work", "--password", "s3cr3t", secret]) == ["work", "--password", "***", masked]


def test_a_crash_log_holds_no_password_and_only_its_owner_reads_it(qms: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://qms:s3cr3t@db.example/queue"

    def broken(queue: str | None, db: Path | None) -> Any:  # an unexpected fault past the store's own checks
        raise RuntimeError(f"lost the connection to {queue} (password=s3cr3t)")

    monkeypatch.setattr("qms_cli.queue.store.open_store", broken)
    result = qms("queue", "list", "--queue", url)
    assert result.code == 70 and "s3cr3t" not in result.err and "Please include that file" in result.err
    (log,) = (tmp_path / "logs").iterdir()
    content = log.read_text()
    assert "s3cr3t" not in content and "postgresql://qms:***@db.example/queue" in content
    assert "RuntimeError" in content  # the details are still there
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
