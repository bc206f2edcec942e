"""Every table fits the terminal: at 80 and 120 columns (COLUMNS, as shells set it), at a terminal (Rich) and in
plain text, rows wrap onto more lines at spaces — never inside a word, never between a number and its unit, and
nothing is cut short ("…")."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qms_cli.render.table import Table, plain_table, width
from tests.conftest import ROOT, Result

WIDTHS = (80, 120)
UNIT_ALONE = re.compile(r"(^|\s{2,}|│\s)(GB|MB|GiB|min|h|s)(\s|$)")  # a unit torn from its number


def qms_at(columns: int | None, mode: str, *args: str, fake: str | None = None) -> Result:
    env = {**os.environ, "QMS_OUTPUT": mode, "PYTHONPATH": str(ROOT)}
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    command = ["-m", "tests.fake_nvml", fake] if fake else ["-m", "qms_cli"]
    proc = subprocess.run([sys.executable, *command, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT if fake else None, timeout=120)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def words(text: str) -> set[str]:
    return set(text.split())


def table_lines(out: str, mode: str) -> list[str]:
    """The lines of the tables: Rich draws them from a space (the table's edge); plain rows keep two spaces
    between cells. Sentences around them (notices, captions) are not tables."""
    if mode == "rich":
        return [line for line in out.splitlines() if line.startswith(" ")]
    return [line for line in out.splitlines() if "  " in line.strip()]


def check_fits(args: tuple[str, ...], fake: str | None = None) -> None:
    wide = qms_at(None, "plain", *args, fake=fake)  # piped, no COLUMNS: one line a row
    assert wide.code in (0, 3), wide.err
    from qms_cli.render.messages import PANEL_TITLE

    whole = words(wide.out) | words(PANEL_TITLE)  # the panel's title is drawn at a terminal only
    for columns in WIDTHS:
        for mode in ("rich", "plain"):
            got = qms_at(columns, mode, *args, fake=fake)
            assert got.code == wide.code, got.err
            lines = table_lines(got.out, mode)
            assert lines, (args, mode, got.out)
            for line in lines:
                assert width(line) <= columns, (args, columns, mode, line)
                assert not UNIT_ALONE.search(line), (args, columns, mode, line)
            assert "…" not in got.out, (args, columns, mode)
            # Every word survives whole: a word broken in two would leave pieces the wide output lacks.
            rules = set("━─│╭╮╰╯┃")
            broken = {w for w in words("\n".join(lines)) if w not in whole and not set(w) <= rules}
            assert not broken, (args, columns, mode, broken)


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    db = folder / "runs.sqlite3"
    lines = [json.dumps({"function": fn, "tier": tier, "requested": "high", "seconds": s, "peak": "17.9GB"})
             for fn in ("Create Image", "Create Video") for tier, s in (("low", 40), ("standard", 812), ("high", 3000))]
    env = {**os.environ, "QMS_DB": str(db), "PYTHONPATH": str(ROOT), "QMS_MAIN_MEMORY": "64GB"}  # as conftest pins it
    subprocess.run([sys.executable, "-m", "qms_cli", "record"], input="\n".join(lines), text=True, env=env,
                   check=True, capture_output=True)
    for owner in ("ana", "a-long-owner-name"):
        subprocess.run([sys.executable, "-m", "qms_cli", "queue", "add", "Create Video", "--quality", "standard",
                        "--owner", owner, "--vram-limit", "24GB"], env=env, check=True, capture_output=True)
    return db


@pytest.mark.parametrize("args", [
    ("plan", "--quality", "high", "--hardware", "rtx-3060-12gb", "--yes"),
    ("plan", "--quality", "high", "--hardware", "rtx-3060-12gb", "--yes", "--technical"),
    ("plan", "--count", "4", "--hardware", "laptop-8gb", "--yes"),
    ("tiers", "--hardware", "rtx-3060-12gb"),
    ("tiers", "--hardware", "cpu-only", "--technical"),
    ("probe", "--hardware", "rtx-4090-24gb"),
], ids=lambda a: " ".join(a))
def test_command_tables_fit(args: tuple[str, ...]) -> None:
    check_fits(args)


def test_probe_of_busy_cards_fits() -> None:
    check_fits(("probe",), fake="two-one-busy")


@pytest.mark.parametrize("args", [("history", "list"), ("stats",), ("accuracy",), ("queue", "list")])
def test_history_and_queue_tables_fit(args: tuple[str, ...], history_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMS_DB", str(history_db))
    check_fits(args)


def bench_outcome() -> Any:
    """Recorded results of a quick bench and of --rungs, as the bench builds them."""
    from qms_cli.bench.rungs import RungCheck, RungsOutcome
    from qms_cli.bench.session import BenchResult, Evaluation

    evaluations = (Evaluation("step", "flux", "standard", "Create Image", "4 heads × 4096 tokens", 0.412, 0.398,
                              None, 2.31e9, 2.02e9),
                   Evaluation("step", "flux", None, None, "3 heads × 512 tokens", 0.0312, 0.0334, "fp8-storage",
                              4.1e8, 3.9e8))
    checks = (RungCheck("high", "Create Video", "wan-14b", ("tiled", "--lowvram"), "denoise", True, 11 * 2**30,
                        10 * 2**30, 812.0, "ok", None, 10 * 2**30, 790.0, True),
              RungCheck("standard", "Create Image", "flux-dev", (), "decode", False, 13 * 2**30, 12 * 2**30, 9.0,
                        "skipped", "too_slow"))
    return (BenchResult(None, evaluations, ("a small model of the same design, size 8192: out of memory",), False, 12),
            RungsOutcome(checks, {"agree": 1, "unsafe": 0, "cautious": 0, "unmeasured": 1}, 12 * 2**30, "cpu",
                         False, 2, None))


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("mode", ["rich", "plain"])
def test_bench_tables_fit(columns: int, mode: str, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    from qms_cli.render import bench

    for outcome in bench_outcome():
        monkeypatch.delenv("COLUMNS", raising=False)
        monkeypatch.setenv("QMS_OUTPUT", "plain")
        bench.show(outcome, None, None, None)
        whole = words(capsys.readouterr().out)
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setenv("QMS_OUTPUT", mode)
        bench.show(outcome, None, None, None)
        out = capsys.readouterr().out
        for line in table_lines(out, mode):
            assert width(line) <= columns, line
        assert "…" not in out
        assert {w for w in words(out) if w not in whole and not set(w) <= set("━─")} == set()


def test_wrapping_keeps_numbers_with_their_units_and_words_whole() -> None:
    table = Table(["Task", "Graphics memory", "Status"])
    table.add("Create Image", "3.4 GB of 10 GB ████████", "Runs, slower (memory-saving)")
    lines = plain_table(table, 40)
    assert all(width(line) <= 40 for line in lines), lines
    text = "\n".join(lines)
    assert "3.4 GB" in text and "10 GB" in text and "(memory-saving)" in text
    assert plain_table(table, None) == ["Task          Graphics memory           Status",
                                        "Create Image  3.4 GB of 10 GB ████████  Runs, slower (memory-saving)"]
