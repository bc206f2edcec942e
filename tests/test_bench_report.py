"""`qms bench --report`: the page says what the terminal says, word for word, charts every measurement (the
sizes the estimates were fitted to included), and has no empty section and no raw data dump."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_qms
from tests.test_bench import BENCH_TIMEOUT, IMAGE, env, needs_torch
from tests.test_table_widths import bench_outcome

RECORDED = ROOT / "benchmarks" / "results" / "accuracy-cpu-run.json"  # a real `qms bench --evaluate --json`
DARK = 'fill="#3182bd"'  # one measured bar per measurement


def recorded() -> tuple[Any, Any]:
    """The recorded run as the bench builds it: its held-out evaluations and its calibration."""
    from qms_cli.bench.session import BenchResult, Evaluation
    from qms_cli.estimate.calibration import Calibration

    data = json.loads(RECORDED.read_text())
    evaluations = tuple(Evaluation(e["kind"], e["family"], e["tier"], e["function"], e["size"],
                                   e["predicted_seconds"], e["measured_seconds"], e["option"],
                                   e["predicted_peak_bytes"], e["measured_peak_bytes"]) for e in data["evaluations"])
    cal = Calibration.from_json(data["calibration"])
    return BenchResult(cal, evaluations, tuple(data["failures"]), data["interrupted"], len(cal.samples)), cal


def check_page(page: str, terminal: str) -> None:
    """No empty section, no raw dump, and every sentence the terminal said is on the page."""
    assert "<pre>" not in page and '{"' not in page and "&quot;kind&quot;" not in page
    body = page.split("<body>", 1)[1]
    for section in re.split(r"<h2>", body)[1:]:
        content = re.sub(r"<[^>]+>", "", section.split("</h2>", 1)[1])
        assert content.replace("predicted", "").replace("measured", "").strip(), section[:80]
    for line in terminal.splitlines():
        if line and not line.startswith(("Report:", "Calibration saved")) and "  " not in line:
            assert html.escape(line, quote=False) in page or html.escape(line) in page, line


def test_a_recorded_evaluate_run_charts_held_out_and_fitted_sizes(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from qms_cli.render import bench, bench_report

    monkeypatch.setenv("QMS_OUTPUT", "plain")
    outcome, cal = recorded()
    bench.show(outcome, cal, None, None)
    terminal = capsys.readouterr().out
    page = bench_report.write_report(tmp_path, outcome, cal).read_text()
    check_page(page, terminal)
    fitted = [s for s in cal.samples if s.fit and not (s.detail or {}).get("options")]
    measured_memory = [s for s in fitted if (s.detail or {}).get("work_bytes") is not None]
    with_memory = [e for e in outcome.evaluations if e.measured_bytes is not None]
    assert page.count(DARK) == len(outcome.evaluations) + len(fitted) + len(with_memory) + len(measured_memory)
    assert "sizes it was not fitted to" in terminal and "sizes it was not fitted to" in page
    assert page.count("· fitted<") == len(fitted) + len(measured_memory)  # each chart labels its fitted sizes
    assert "Sizes marked fitted" in page


@pytest.mark.parametrize("which", [0, 1], ids=["failures and no calibration", "full-size rungs"])
def test_other_runs_say_the_same_on_the_page(which: int, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from qms_cli.render import bench, bench_report

    monkeypatch.setenv("QMS_OUTPUT", "plain")
    outcome = bench_outcome()[which]
    bench.show(outcome, None, None, None)
    terminal = capsys.readouterr().out
    page = bench_report.write_report(tmp_path, outcome, None).read_text()
    check_page(page, terminal)
    assert page.count("<tr>") == 1 + len(outcome.evaluations if which == 0 else outcome.checks)


@needs_torch
@pytest.mark.slow
def test_a_real_quick_run_reports_what_the_terminal_says(tmp_path: Path) -> None:
    """A --quick run has no held-out sizes: the terminal says "fitted to", and so must the page."""
    cal_file = tmp_path / "calibration.json"
    result = run_qms("bench", "--quick", *IMAGE, "--report", str(tmp_path / "report"), "--output", str(cal_file),
                     env=env(tmp_path), timeout=BENCH_TIMEOUT)
    assert result.code == 0, result.err
    page = (tmp_path / "report" / "bench.html").read_text()
    check_page(page, result.out)
    assert "on the sizes it was fitted to" in result.out and "not fitted to" not in page
    samples = json.loads(cal_file.read_text())["samples"]
    fitted = [s for s in samples if s["fit"]]
    memory = [s for s in fitted if s["detail"].get("work_bytes") is not None]
    assert fitted and page.count(DARK) == len(fitted) + len(memory)  # every size measured is charted
