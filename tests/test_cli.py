"""The command line itself: help, version, the error boundary and its exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

import qms_cli
from qms_cli.cli.app import COMMANDS, command_function, docstring_lines, example, invoked_command
from tests.conftest import run_qms


def test_version(qms: Any) -> None:
    result = qms("--version")
    assert result.code == 0 and result.out == f"qms {qms_cli.__version__}\n"


def test_help_lists_every_command_with_description_and_example() -> None:
    result = run_qms("--help")
    assert result.code == 0
    for name in COMMANDS:
        fn = command_function(name)
        summary = docstring_lines(fn)[0]
        assert f"  {name}" in result.out and summary in result.out
        assert example(fn).startswith(f"qms {name}") and example(fn) in result.out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_has_help_with_an_example(qms: Any, name: str) -> None:
    result = qms(name, "--help")
    assert result.code == 0 and example(command_function(name)) in result.out


def test_no_arguments_shows_help(qms: Any) -> None:
    result = run_qms()
    assert "Usage: qms" in result.out + result.err and "Commands:" in result.out + result.err


def test_python_dash_m_and_console_script_are_the_same_program() -> None:
    script = Path(sys.executable).with_name("qms")
    assert script.exists()
    import subprocess

    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True).stdout
    assert out == run_qms("--version").out


@pytest.mark.parametrize("args", [["--nope"], ["tiers", "--nope"], ["no-such-command"], ["set-quality", "a", "b"]])
def test_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    result = run_qms(*args)
    assert result.code == 2
    assert "Error:" in result.err and "Traceback" not in result.err


def test_command_detection_skips_global_options() -> None:
    assert invoked_command(["--profiles", "show", "tiers"]) == "tiers"
    assert invoked_command(["--version"]) is None
    assert invoked_command(["frobnicate"]) is None


def test_unexpected_error_exits_70_and_says_where_details_are(qms: Any, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk gremlins")

    monkeypatch.setattr("qms_cli.plan.listing.list_tiers", broken)
    result = qms("tiers")
    assert result.code == 70
    assert "Traceback" not in result.err and result.err.count("\n") == 1
    assert "unexpected problem (RuntimeError: disk gremlins)" in result.err
    (log,) = (tmp_path / "logs").glob("crash-*.log")
    assert str(log) in result.err
    details = log.read_text()
    assert "Traceback" in details and "disk gremlins" in details and "argv: ['tiers']" in details


def test_interrupt_exits_130(qms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("qms_cli.plan.listing.list_tiers", interrupted)
    result = qms("tiers")
    assert result.code == 130 and "Interrupted" in result.err


def test_unwritable_log_folder_still_explains(qms: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("QMS_LOG_DIR", str(blocker / "logs"))
    monkeypatch.setattr("qms_cli.plan.listing.list_tiers", lambda *a, **k: 1 / 0)
    result = qms("tiers")
    assert result.code == 70 and "could not be saved" in result.err


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "qms_cli", "validate", "-o", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "QMS_OUTPUT": "plain"})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away at once, like `qms ... | head -0`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) in (0, 1)
    assert "Traceback" not in err
