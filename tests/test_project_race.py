"""Lost updates (issue 15): the studio app saves project.json every few milliseconds while many `qms
set-quality` processes change it. Nothing may be lost: every qms change and the app's latest save are in the
file at the end, and no save of the app was overwritten by qms's older copy. Also: a temporary file left by a
killed qms is removed by the next write, and one another qms is still writing is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_qms

WRITER = Path(__file__).with_name("app_writer.py")


def exchange_supported(folder: Path) -> bool:
    from qms_cli.project.atomic import _exchange

    a, b = folder / ".probe-a", folder / ".probe-b"
    a.write_text("a")
    b.write_text("b")
    try:
        return _exchange(str(a), str(b))
    finally:
        a.unlink()
        b.unlink()


def race(folder: Path, runs: int = 40, parallel: int = 4, period: float = 0.005,
         source: Path = ROOT) -> dict[str, Any]:
    """Run the app writer against `runs` qms processes (`parallel` at a time) from `source`; what happened."""
    path = folder / "project.json"
    path.write_text(json.dumps({"name": "Film", "quality": "standard",  # no "version": main refused "1.0"
                                "canvas": {"nodes": [{"id": f"n{i}"} for i in range(runs)]}}, indent=2) + "\n")
    stop = folder / "stop"
    env = {**os.environ, "PYTHONPATH": str(source)}
    writer = subprocess.Popen([sys.executable, str(WRITER), str(path), str(stop), str(period)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.2)  # the writer is saving before qms starts

    def one(i: int) -> tuple[int, str]:
        tier = ("low", "high")[i % 2]
        done = subprocess.run([sys.executable, "-m", "qms_cli", "set-quality", tier, "--node", f"n{i}",
                               "--project", str(path)], env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stderr

    with ThreadPoolExecutor(parallel) as pool:
        outcomes = list(pool.map(one, range(runs)))
    codes = [code for code, _ in outcomes]
    time.sleep(0.1)
    stop.write_text("")
    out, err = writer.communicate(timeout=60)
    report = json.loads(out)
    final = json.loads(path.read_text(encoding="utf-8"))
    overrides = final.get("quality_overrides", {})
    return {"codes": codes, "errors": sorted({e for _, e in outcomes if e}), "saves": report["saves"],
            "lost": report["lost"], "torn": err.count("torn"),
            "final_saves": final.get("app_saves"),
            "missing": [i for i in range(runs) if overrides.get(f"n{i}") != ("low", "high")[i % 2]],
            "temporaries": sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))}


def test_no_save_is_lost_while_the_app_saves_every_5_ms(tmp_path: Path) -> None:
    if not exchange_supported(tmp_path):
        pytest.skip("this file system cannot swap two files in one step")
    result = race(tmp_path)
    assert result["codes"] == [0] * 40, result["errors"]
    assert result["saves"] > 0 and result["torn"] == 0
    assert result["lost"] == [], result  # no save of the app overwritten by qms (main's code: several)
    assert result["final_saves"] == result["saves"]  # the app's latest save is the file's
    assert result["missing"] == []  # every qms change is there
    assert result["temporaries"] == []


def app_saves_before_each_swap(monkeypatch: Any, save: Any) -> list[str]:
    """The app's save lands in the instant before qms's swap: `save(n)` runs just before the real
    renameat2 (or rename) call, n counting the saves."""
    from qms_cli.project import atomic

    real_exchange, real_replace = atomic._exchange, os.replace
    saves: list[str] = []

    def exchange(a: str, b: str) -> bool:
        if Path(a).name.startswith(".project.json.") and a not in saves:  # not qms putting a save back
            saves.append(a)
            save(len(saves))
        return real_exchange(a, b)

    monkeypatch.setattr(atomic, "_exchange", exchange)
    monkeypatch.setattr(os, "replace", real_replace)
    return saves


def test_another_program_that_never_stops_saving_is_an_error(monkeypatch: Any) -> None:
    """Each time qms is about to replace the file, another program has saved it: bounded, then exit 1."""
    path = Path.cwd() / "project.json"
    path.write_text('{"quality": "low", "app": 0}')

    def save(n: int) -> None:  # a new file renamed over it, as careful apps save
        (path.parent / "app.tmp").write_text(f'{{"quality": "low", "app": {n}}}')
        os.replace(path.parent / "app.tmp", path)

    saves = app_saves_before_each_swap(monkeypatch, save)
    from qms_cli.catalog.load import load_catalog
    from qms_cli.errors import DataError
    from qms_cli.project.quality import set_quality
    from qms_cli.project.update import SAVE_ATTEMPTS

    with pytest.raises(DataError) as caught:
        set_quality(load_catalog().tiers, "high", path)
    assert len(saves) == SAVE_ATTEMPTS
    from qms_cli.project.file import ProjectError

    assert isinstance(caught.value, ProjectError) and caught.value.problem.kind == "changing"
    assert path.read_text() == f'{{"quality": "low", "app": {SAVE_ATTEMPTS}}}'  # the app's last save stands
    assert os.listdir(path.parent) == ["project.json"]


def test_a_save_between_read_and_write_is_re_read_and_the_change_re_applied(monkeypatch: Any) -> None:
    path = Path.cwd() / "project.json"
    path.write_text('{"quality": "low", "app": 0}')

    def save(n: int) -> None:
        if n == 1:
            with open(path, "w") as f:  # in place this time: same inode, new bytes
                f.write('{"quality": "low", "app": 1, "more": true}')

    saves = app_saves_before_each_swap(monkeypatch, save)
    from qms_cli.catalog.load import load_catalog
    from qms_cli.project.quality import set_quality

    change = set_quality(load_catalog().tiers, "high", path)
    assert len(saves) == 2 and change.changed and change.previous == "low"
    assert path.read_text() == '{"quality": "high", "app": 1, "more": true}'
    assert os.listdir(path.parent) == ["project.json"]


def test_a_killed_qms_temporary_is_removed_by_the_next_write() -> None:
    Path("project.json").write_text('{"quality": "low"}')
    killed = Path(".project.json.k1ll3d.tmp")
    killed.write_bytes(b"x" * 2_000_000)  # what a qms killed mid-write leaves: nobody holds it any more
    other = Path(".project.json.w0rk1n.tmp")  # one a live qms is writing: locked by it
    other.write_text("partial")
    import fcntl

    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(other.resolve())!r}, os.O_RDONLY)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        foreign = Path("project.json.app-writer.tmp")  # the app's own temporary: not qms's pattern
        foreign.write_text("app")
        assert run_qms("set-quality", "high").code == 0
        assert not killed.exists()
        assert other.exists() and foreign.exists()
        assert json.loads(Path("project.json").read_text()) == {"quality": "high"}
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert fcntl  # flock is what tells the two apart on this system


def test_a_qms_killed_mid_write_leaves_nothing_behind_after_the_next(tmp_path: Path) -> None:
    """kill -9 of a real qms while it writes a large project; the next write cleans up."""
    import signal

    canvas = {"blob": "x" * 40_000_000}
    Path("project.json").write_text(json.dumps({"quality": "low", "canvas": canvas}))
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-m", "qms_cli", "set-quality", "high"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(Path(".").glob(".project.json.*.tmp")) \
                and proc.poll() is None:
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = json.loads(Path("project.json").read_text())  # never half a file
        assert data["quality"] in ("low", "high")
        Path("project.json").write_text(json.dumps({"quality": "low", "canvas": canvas}))
    assert run_qms("set-quality", "high").code == 0
    assert list(Path(".").glob(".project.json.*.tmp")) == []
