"""`qms bench --runner` under faults (issue 15): a command that does nothing is not this machine's speed, a
calibration folder that cannot be written keeps the measurements, and {options} is one argument per option.
Real qms processes over the fake NVML, real runner processes, real files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from qms_cli.bench.runner import command
from qms_cli.errors import UsageError
from tests.test_bench import SCRIPT, env, fake_gpu_qms, tiny_profiles


def calibrations(data_dir: Path) -> list[Path]:
    folder = data_dir / "calibration"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_command_that_does_nothing_is_not_saved_as_the_calibration(tmp_path: Path) -> None:
    e = env(tmp_path)
    result = fake_gpu_qms("one-idle", "bench", "--runner", f"{sys.executable} -c pass", env_=e)
    assert result.code == 1
    line = result.err.strip().splitlines()[-1]
    assert line.startswith("Error: Not saved as this machine's speed: 6 runs of your command finished far sooner")
    assert "check that the command really generates" in line
    assert calibrations(tmp_path / "data") == []  # before: saved, and plans then promised 0.025 s videos
    plan = fake_gpu_qms("one-idle", "plan", "Create Video", "--json", env_=e).json()
    assert not plan["tasks"][0]["predicted"]["basis"].startswith("measured here")


def test_an_implausible_run_leaves_an_existing_calibration_as_it_was(tmp_path: Path) -> None:
    e = env(tmp_path) | {"QMS_PROFILES": str(tiny_profiles(tmp_path / "profiles"))}
    script = tmp_path / "gen.py"
    script.write_text(SCRIPT)
    good = fake_gpu_qms("one-idle", "bench", "--runner", f"{sys.executable} {script} {tmp_path / 'log'} {{tier}} "
                        "{function}", env_=e)
    assert good.code == 0, good.err
    (saved,) = calibrations(tmp_path / "data")
    before = saved.read_bytes()
    bad = fake_gpu_qms("one-idle", "bench", "--runner", "true", env_=e)
    assert bad.code == 1 and "Not saved as this machine's speed" in bad.err
    assert saved.read_bytes() == before


@pytest.mark.parametrize("as_json", [False, True])
def test_measurements_survive_a_calibration_folder_that_cannot_be_written(tmp_path: Path, as_json: bool) -> None:
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be\n")  # the calibration folder cannot be made
    e = env(tmp_path) | {"QMS_PROFILES": str(tiny_profiles(tmp_path / "profiles"))}
    script = tmp_path / "gen.py"
    script.write_text(SCRIPT)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    template = f"{sys.executable} {script} {tmp_path / 'log'} {{tier}} {{function}}"
    import os
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "tests.fake_nvml", "one-idle", "bench", "--runner", template,
                           *(["--json"] if as_json else [])], capture_output=True, text=True, cwd=work,
                          env={**os.environ, **e, "PYTHONPATH": str(Path(__file__).parent.parent)}, timeout=120)
    assert proc.returncode == 1, proc.stderr  # before: exit 70 after every run, nothing kept
    (kept,) = work.glob("calibration-*.json")
    assert f"the measurements were kept in {kept}" in proc.stderr and "Traceback" not in proc.stderr
    assert str(blocked) in proc.stderr
    configurations = json.loads(kept.read_text())["configurations"]
    assert len(configurations) == 6 and configurations["low/Create Image"]["seconds"] > 0
    assert blocked.read_text() == "a file where the data folder should be\n"
    if as_json:
        assert json.loads(proc.stdout)["saved"] == str(kept)


@pytest.mark.parametrize(("template", "options", "expected"), [
    ("gen {tier} {options} end", [], ["gen", "low", "end"]),
    ("gen {tier} {options} end", ["--lowvram", "tiled"], ["gen", "low", "--lowvram", "tiled", "end"]),
    ("gen --opt={options}", ["--medvram", "tiled"], ["gen", "--opt=--medvram", "--opt=tiled"]),
    ("gen --opt={options}", [], ["gen"]),
    ("gen '{tier} quality'", ["x"], ["gen", "low quality"]),
])
def test_a_list_placeholder_is_one_argument_per_option(template: str, options: list[str],
                                                       expected: list[str]) -> None:
    assert command(template, {"tier": "low", "options": options}) == expected


def test_an_unknown_placeholder_is_caught_even_beside_an_empty_list_and_a_list_repeats_together() -> None:
    with pytest.raises(UsageError, match="unknown placeholder"):
        command("gen --opt={options}{nope}", {"tier": "low", "options": []})
    assert command("gen {options}={options}", {"options": ["a", "b"]}) == ["gen", "a=a", "b=b"]
