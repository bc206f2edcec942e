"""Hangs and unbounded memory (issue 15): devices, pipes, huge or deeply nested files, and YAML alias bombs
as project.json or as a profile are refused at once with one line naming the file (exit 1). Real `qms`
processes; a hang fails the test through run_qms's timeout, never through a wall-clock assertion."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import PROFILES, run_qms

FAST = 60.0  # seconds before a run counts as hung (/dev/zero used to grow 1.5 GB in 3 s, forever)


def bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level repeats the one below `width` times."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def single_line(err: str) -> None:
    assert err.count("\n") == 1 and err.startswith("Error: ") and "Traceback" not in err, err


@pytest.mark.parametrize("command", [["show"], ["set-quality", "high"], ["plan", "Create Image", "--quality", "low"]])
def test_dev_zero_as_project_json(command: list[str]) -> None:
    os.symlink("/dev/zero", "project.json")
    result = run_qms(*command, "--project", "project.json", timeout=FAST)
    if command[0] == "plan":  # a quality was given: planned, and the project's problem said
        assert result.code == 0 and "is not an ordinary file but a device" in result.err
        return
    assert result.code == 1
    single_line(result.err)
    assert "project.json can't be used: it is not an ordinary file but a device, a pipe or a socket" in result.err


def test_dev_zero_found_from_here_and_a_pipe() -> None:
    os.symlink("/dev/zero", "project.json")
    found = run_qms("show", timeout=FAST)
    assert found.code == 1 and "not an ordinary file" in found.err
    os.unlink("project.json")
    os.mkfifo("project.json")  # nobody writes to it: reading it would block for ever
    piped = run_qms("show", timeout=FAST)
    assert piped.code == 1 and "not an ordinary file" in piped.err
    single_line(piped.err)


def test_a_project_larger_than_the_limit_is_refused_without_reading_it() -> None:
    with open("project.json", "wb") as f:
        f.write(b'{"quality": "low", "canvas": "')
        f.truncate(257 * 1024 * 1024)  # sparse: the limit is checked before anything is read
    before = os.stat("project.json")
    result = run_qms("set-quality", "high", timeout=FAST)
    assert result.code == 1
    single_line(result.err)
    assert "it is larger than 256 MB, the most qms reads from one file" in result.err
    assert os.stat("project.json").st_mtime_ns == before.st_mtime_ns


def test_a_deeply_nested_project_is_data_not_a_crash() -> None:
    Path("project.json").write_text('{"quality": "low", "canvas": ' + "[" * 50_000 + "]" * 50_000 + "}")
    for command in (["show"], ["tiers"], ["plan", "Create Image"]):
        result = run_qms(*command, "--hardware", "rtx-4090-24gb", timeout=FAST) if command[0] != "show" \
            else run_qms(*command, timeout=FAST)
        assert result.code in (0, 1) and "Traceback" not in result.err and "unexpected" not in result.err, result
        assert "it is nested too deeply to read" in result.err


def profiles_with(tmp_path: Path, name: str, text: str | None = None, link: str | None = None) -> Path:
    folder = tmp_path / "profiles"
    (folder / "hardware").mkdir(parents=True, exist_ok=True)
    target = folder / name
    if link is not None:
        os.symlink(link, target)
    else:
        assert text is not None
        target.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ["tiers.yaml", "models.yaml"])
def test_dev_zero_as_a_profile(tmp_path: Path, name: str) -> None:
    folder = profiles_with(tmp_path, name, link="/dev/zero")
    for how in ({"env": {"QMS_PROFILES": str(folder)}, "args": []}, {"env": {}, "args": ["--profiles", str(folder)]}):
        result = run_qms(*how["args"], "tiers", env=how["env"], timeout=FAST)  # type: ignore[arg-type]
        assert result.code == 1
        single_line(result.err)
        assert f"{folder / name}: is not a regular file" in result.err


def test_dev_zero_as_a_hardware_profile(tmp_path: Path) -> None:
    folder = profiles_with(tmp_path, "hardware/zero.yaml", link="/dev/zero")
    result = run_qms("--profiles", str(folder), "probe", "--hardware", "zero", timeout=FAST)
    assert result.code == 1
    single_line(result.err)
    assert "zero.yaml: is not a regular file" in result.err


def test_a_profile_larger_than_the_limit(tmp_path: Path) -> None:
    folder = profiles_with(tmp_path, "tiers.yaml", "# padding\n" * (17 * 1024 * 1024 // 10))
    result = run_qms("--profiles", str(folder), "tiers", timeout=FAST)
    assert result.code == 1
    single_line(result.err)
    assert "is larger than 16 MiB, the most qms reads from one file" in result.err


@pytest.mark.parametrize("where", ["tiers", "unknown key", "hardware"])
def test_yaml_alias_bomb_is_refused_in_milliseconds(tmp_path: Path, where: str) -> None:
    tiers = (PROFILES / "tiers.yaml").read_text(encoding="utf-8")
    if where == "tiers":
        folder = profiles_with(tmp_path, "tiers.yaml", bomb() + tiers)
        args = ["tiers"]
    elif where == "unknown key":  # used to be a raw traceback: the bomb sits where no schema looks
        folder = profiles_with(tmp_path, "tiers.yaml", tiers + "\n" + bomb().replace("a9: &a9", "x-extra: &a9"))
        args = ["tiers"]
    else:
        machine = (PROFILES / "hardware" / "rtx-4090-24gb.yaml").read_text(encoding="utf-8")
        folder = profiles_with(tmp_path, "hardware/bomb.yaml", bomb() + machine)
        args = ["probe", "--hardware", "bomb"]
    result = run_qms("--profiles", str(folder), *args, timeout=FAST)
    assert result.code == 1
    single_line(result.err)
    assert "its aliases expand it to 4,412,96" in result.err  # 9 + 81 + ... + 9**10 values, and the rest
    assert "qms refuses documents whose aliases add more than 100,000 values" in result.err


def test_validate_refuses_the_bomb_too(tmp_path: Path) -> None:
    folder = profiles_with(tmp_path, "tiers.yaml", bomb())
    result = run_qms("validate", str(folder / "tiers.yaml"), timeout=FAST)
    assert result.code == 1 and "aliases expand it" in result.out + result.err


def test_ordinary_anchors_and_merges_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)
    models = (folder / "models.yaml").read_text(encoding="utf-8")
    (folder / "models.yaml").write_text("x-shared: &shared {fps: 16}\n" + models, encoding="utf-8")
    result = run_qms("--profiles", str(folder), "validate", timeout=FAST)
    assert "aliases" not in result.out + result.err
