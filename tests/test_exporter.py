"""`qms exporter`: real processes, scraped over HTTP; the textfile, the dashboard, the alerts, and load."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run_qms
from tests.monitoring import Exporter


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    db = tmp_path / "runs.sqlite3"
    lines = [{"function": "Create Image", "tier": "low", "seconds": 12},
             {"function": "Create Image", "tier": "standard", "requested": "high", "seconds": 60},
             {"function": "Create Video", "tier": "low", "outcome": "failed"}]
    result = run_qms("record", "--hardware", "rtx-4090-24gb", input="\n".join(json.dumps(x) for x in lines),
                     env={"QMS_DB": str(db)})
    assert result.code == 0, result.err
    return db


@pytest.fixture
def exporter(history_db: Path) -> Iterator[Exporter]:
    e = Exporter("--interval", "1s", "--hardware", "rtx-4090-24gb", "--hostname", "host-a", "--db", str(history_db))
    yield e
    e.stop()


def card_size(machine: str) -> int:
    """The first card's memory in a bundled simulated machine, as its profile states it."""
    import yaml

    from qms_cli.catalog.load import load_catalog
    from qms_cli.units import parse_size

    data = yaml.safe_load(load_catalog().hardware_files()[machine].read_text(encoding="utf-8"))
    return parse_size(data["gpus"][0]["memory_total"])


def test_metrics_follow_conventions_and_join_with_dcgm_labels(exporter: Exporter) -> None:
    found = families(exporter.scrape())
    for name in ("qms_build_info", "qms_gpu_memory_total_bytes", "qms_gpu_memory_used_bytes",
                 "qms_gpu_memory_free_bytes", "qms_gpu_memory_reserved_bytes", "qms_gpu_available_bytes",
                 "qms_available_bytes", "qms_tier_runs_here", "qms_tier_predicted_seconds", "qms_runs",
                 "qms_fallbacks", "qms_estimate_ratio"):
        assert name in found, name
    total = found["qms_gpu_memory_total_bytes"].samples[0]  # type: ignore[attr-defined]
    assert set(total.labels) == {"gpu", "UUID", "modelName", "hostname"}
    assert total.labels["hostname"] == "host-a" and total.value == card_size("rtx-4090-24gb")
    runs = {(s.labels["tier"], s.labels["outcome"]): s.value
            for s in found["qms_runs"].samples if s.name == "qms_runs_total"}  # type: ignore[attr-defined]
    assert runs == {("low", "ok"): 1, ("standard", "ok"): 1, ("low", "failed"): 1}
    fallbacks = [s for s in found["qms_fallbacks"].samples if s.name == "qms_fallbacks_total"]  # type: ignore[attr-defined]
    assert [(s.labels["requested"], s.labels["actual"], s.value) for s in fallbacks] == [("high", "standard", 1)]
    count = [s for s in found["qms_estimate_ratio"].samples if s.name == "qms_estimate_ratio_count"]  # type: ignore[attr-defined]
    assert count[0].value == 2
    here = {(s.labels["tier"], s.labels["function"]): s.value for s in found["qms_tier_runs_here"].samples}  # type: ignore[attr-defined]
    assert here[("low", "Create Image")] == 1


def test_a_scrape_never_waits_for_a_slow_card() -> None:
    """Over a fake driver whose memory query takes 3 s, scrapes are answered from the last snapshot."""
    e = Exporter("--interval", "0.2s", fake_gpu="slow")
    try:
        time.sleep(1)  # a refresh is under way most of the time from here on
        for _ in range(5):
            started = time.monotonic()
            text = e.scrape()
            assert time.monotonic() - started < 2.5  # less than one slow query: never waited on one
            assert "qms_gpu_memory_total_bytes" in text
    finally:
        e.stop()


def test_a_failing_refresh_keeps_the_last_numbers(tmp_path: Path) -> None:
    box = tmp_path / "box.yaml"
    shutil.copy(Path(__file__).parent.parent / "profiles" / "hardware" / "rtx-3060-12gb.yaml", box)
    e = Exporter("--interval", "0.3s", "--hardware", str(box))
    try:
        box.unlink()  # the next refreshes fail
        time.sleep(1.5)
        found = families(e.scrape())
        errors = found["qms_exporter_refresh_errors"].samples[0].value  # type: ignore[attr-defined]
        assert errors >= 1
        total = found["qms_gpu_memory_total_bytes"].samples[0].value  # type: ignore[attr-defined]
        assert total == card_size("rtx-3060-12gb")
    finally:
        e.stop()


def test_textfile_snapshot(tmp_path: Path) -> None:
    (tmp_path / "textfiles").mkdir()
    target = tmp_path / "textfiles" / "qms.prom"
    result = run_qms("exporter", "--textfile", str(target), "--hardware", "a100-80gb", "--hostname", "box")
    assert result.code == 0 and target.is_file()
    found = families(target.read_text())
    assert found["qms_gpu_memory_total_bytes"].samples[0].value == 80 * 2**30  # type: ignore[attr-defined]
    assert list(target.parent.iterdir()) == [target]  # written through a temporary file, nothing left beside it
    assert run_qms("exporter", "--textfile", str(tmp_path / "x.txt")).code == 2


def test_dashboard_and_alerts() -> None:
    dashboard = json.loads(run_qms("exporter", "--print-dashboard").out)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(dashboard["panels"]) >= 5 and all("qms_" in e for e in exprs)
    alerts = run_qms("exporter", "--print-alerts").out
    names = {"QmsGraphicsMemoryNearlyExhausted", "QmsFallbackRateHigh", "QmsEstimatesDrifting", "QmsQueueWaitLong",
             "QmsQueueNoWorkers"}
    assert all(n in alerts for n in names)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian's prometheus package has it); .ci/run installs it")
    rules = Path(subprocess.run([sys.executable, "-m", "qms_cli", "exporter", "--print-alerts"], check=True,
                                capture_output=True, text=True).stdout)
    check = subprocess.run([promtool, "check", "rules", "/dev/stdin"], input=str(rules), capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 6 rules found" in check.stdout


def test_bad_options() -> None:
    assert run_qms("exporter", "--interval", "often").code == 2
    assert run_qms("exporter", "--port", "70000").code == 2


@pytest.mark.slow
def test_two_hundred_scrapes_a_second_for_ten_seconds(exporter: Exporter) -> None:
    """Load: 200 scrapes a second for 10 s on loopback (bounded: 2,000 requests from 16 threads)."""
    process = psutil.Process(exporter.proc.pid)
    exporter.scrape()
    rss_before = process.memory_info().rss
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def worker(offset: int) -> None:
        for i in range(offset, 2000, 16):
            due = start + i / 200
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(exporter.url, timeout=10) as reply:
                    ok = reply.status == 200 and b"qms_gpu_memory_total_bytes" in reply.read()
                if not ok:
                    raise ValueError("bad page")
            except Exception as e:
                with lock:
                    errors.append(repr(e))
            with lock:
                latencies.append(time.monotonic() - t0)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    rss_after = process.memory_info().rss
    latencies.sort()
    figures = {"requests": len(latencies), "errors": len(errors), "seconds": round(elapsed, 2),
               "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
               "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
               "rss_before_mb": round(rss_before / 2**20, 1), "rss_after_mb": round(rss_after / 2**20, 1)}
    print("exporter load:", figures)
    assert not errors and len(latencies) == 2000
    assert rss_after < rss_before * 1.2 + 5 * 2**20  # flat: no growth with the number of scrapes
