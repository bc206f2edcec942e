"""Tab completion (`qms completion SHELL`): the scripts, the real mechanism they drive, and nothing added to the
start-up of other commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_qms


def candidates(shell: str, **env: str) -> list[str]:
    """What qms answers when the shell's completion function asks (as the printed scripts call it)."""
    result = run_qms(env={"_QMS_COMPLETE": f"complete_{shell}", **env})
    assert result.code == 0, result.err
    return result.out.split("\n")


def test_bash_completes_commands_options_and_qualities() -> None:
    assert candidates("bash", COMP_WORDS="qms pl", COMP_CWORD="1") == ["plan", ""]
    assert "--quality" in candidates("bash", COMP_WORDS="qms plan --qu", COMP_CWORD="2")
    assert candidates("bash", COMP_WORDS="qms set-quality ", COMP_CWORD="2")[:3] == ["low", "standard", "high"]
    assert "simulate" in candidates("bash", COMP_WORDS="qms queue s", COMP_CWORD="2")


def test_zsh_and_fish_complete_through_the_same_mechanism() -> None:
    zsh = "\n".join(candidates("zsh", _TYPER_COMPLETE_ARGS="qms set-q"))
    assert '"set-quality":"Set the project' in zsh
    fish = candidates("fish", _TYPER_COMPLETE_ARGS="qms queue ", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert any(line.startswith("add\t") for line in fish) and any(line.startswith("wait\t") for line in fish)


@pytest.mark.parametrize(("shell", "hook"), [("bash", "complete -o default -F _qms_completion qms"),
                                             ("zsh", "compdef _qms_completion qms"),
                                             ("fish", "complete --command qms")])
def test_each_shell_gets_its_script(shell: str, hook: str) -> None:
    script = run_qms("completion", shell).out
    assert hook in script and f"_QMS_COMPLETE=complete_{shell}" in script


def test_a_real_bash_completes_with_the_printed_script(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "qms"  # qms as the shell finds it on PATH
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -m qms_cli \"$@\"\n")
    launcher.chmod(0o755)
    script = tmp_path / "qms.bash"
    script.write_text(run_qms("completion", "bash").out)
    line = (f"source {script}; COMP_WORDS=(qms set-quality s); COMP_CWORD=2; _qms_completion qms; "
            'printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([bash, "--norc", "-c", line], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["standard"]


def test_install_writes_to_the_shells_start_up_file(tmp_path: Path) -> None:
    result = run_qms("completion", "bash", "--install", env={"HOME": str(tmp_path)})
    assert result.code == 0, result.err
    assert "qms" in (tmp_path / ".bashrc").read_text() and str(tmp_path) in result.out


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = run_qms("completion", "tcsh")
    assert result.code == 2 and "tcsh" in result.err


@pytest.mark.parametrize("args", [("show",), ("tiers", "--json"), ("plan", "--json"), ("set-quality", "high")])
def test_other_commands_do_not_load_completion(args: tuple[str, ...], tmp_path: Path) -> None:
    """-X importtime lists every module a command imports: the completion command is not among them."""
    assert run_qms("init", cwd=tmp_path).code == 0
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "qms_cli", *args], capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    assert "qms_cli.cli.app" in modules  # the listing is real
    assert "qms_cli.cli.completion_cmd" not in modules
