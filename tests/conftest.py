"""Shared fixtures: every test runs in its own folder with its own cache, logs and no inherited settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from qms_cli.cli.app import main

if TYPE_CHECKING:
    from tests.postgres_server import Server

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
SCHEMAS = ROOT / "schemas"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("QMS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QMS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("QMS_DATA_DIR", str(tmp_path / "data"))
    for var in ("QMS_PROFILES", "QMS_NO_CACHE", "QMS_OUTPUT", "VRAM_LIMIT", "CUDA_VISIBLE_DEVICES"):
        monkeypatch.delenv(var, raising=False)
    # Routing counts main memory (MemAvailable): the same plans whatever this machine has free at the moment.
    monkeypatch.setenv("QMS_MAIN_MEMORY", "64GB")
    return work


@pytest.fixture
def qms(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run qms in-process through its real entry point (the error boundary included)."""

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_qms(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None, timeout: float = 120) -> Result:
    """Run the real `qms` program in a subprocess (a hung one fails the test after `timeout` seconds)."""
    proc = subprocess.run([sys.executable, "-m", "qms_cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, input=input, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def validate_output(data: Any, schema: str) -> None:
    """Check a command's --json output against its schema in schemas/."""
    from qms_cli.catalog.schemas import validate

    problems = validate(data, schema, f"<{schema} output>")
    assert not problems, "\n".join(map(str, problems))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """One real PostgreSQL server for the session (each test makes its own database on it)."""
    from tests import postgres_server  # it imports this module's ROOT

    why = postgres_server.missing()
    if why:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    server = postgres_server.Server()
    yield server
    server.stop()

