"""A real Prometheus scraping real `qms exporter` processes (two simulated hosts) and a DCGM stand-in; what it
returns over its HTTP API, and what `qms probe/plan --prometheus` decide from it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_qms, validate_output
from tests.monitoring import Exporter, Prometheus, dcgm_standin, free_port, require_prometheus
from tests.test_exporter import card_size

MIB = 2**20


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_prometheus()
    folder = tmp_path_factory.mktemp("fleet")
    # A module-scoped fixture runs before the per-test isolation: give the exporters folders of their own.
    own = {f"QMS_{name}_DIR": str(folder / name.lower()) for name in ("DATA", "CACHE", "LOG")}
    a = Exporter("--interval", "1s", "--hardware", "rtx-4090-24gb", "--hostname", "host-a", env=own)
    b = Exporter("--interval", "1s", "--hardware", "rtx-3060-12gb", "--hostname", "host-b", env=own)
    d = Exporter("--interval", "1s", "--hardware", "laptop-8gb", "--hostname", "host-d", env=own)
    with dcgm_standin() as dcgm_port:
        prom = Prometheus(folder, {"qms": [a.port, b.port, d.port], "dcgm": [dcgm_port]})
        try:
            prom.wait_for("qms_gpu_memory_total_bytes", 3)
            prom.wait_for("DCGM_FI_DEV_FB_FREE", 1)
            yield {"prom": prom, "a": a, "b": b, "d": d, "folder": folder}
        finally:
            for e in (a, b, d):
                e.stop()
            prom.stop()


def test_prometheus_holds_the_exporters_metrics(fleet: dict[str, Any]) -> None:
    prom = fleet["prom"]
    totals = {s["metric"]["hostname"]: float(s["value"][1]) for s in prom.query("qms_gpu_memory_total_bytes")}
    assert totals == {"host-a": card_size("rtx-4090-24gb"), "host-b": card_size("rtx-3060-12gb"),
                      "host-d": card_size("laptop-8gb")}  # as the simulated machines' profiles state
    runs_here = prom.query('qms_tier_runs_here{hostname="host-a", tier="low", function="Create Image"}')
    assert float(runs_here[0]["value"][1]) == 1
    assert prom.query('qms_build_info{hostname="host-b"}')[0]["metric"]["version"]


def test_probe_reads_every_host_from_prometheus(fleet: dict[str, Any]) -> None:
    result = run_qms("probe", "--prometheus", fleet["prom"].url, "--json")
    assert result.code == 0, result.err
    data = result.json()
    validate_output(data, "fleet")
    hosts = data["hosts"]
    assert set(hosts) >= {"host-a", "host-b", "host-c", "host-d"}
    dcgm = hosts["host-c"]["gpus"][0]
    assert dcgm["name"] == "NVIDIA A100-SXM4-80GB" and dcgm["uuid"] == "GPU-dcgm-0000"
    assert dcgm["memory"]["free_bytes"] == 71000 * MIB and dcgm["memory"]["total_bytes"] == (71000 + 10920) * MIB
    assert hosts["host-a"]["gpus"][0]["memory"]["total_bytes"] == card_size("rtx-4090-24gb")
    people = run_qms("probe", "--prometheus", fleet["prom"].url)
    assert people.code == 0 and "host-b" in people.out and "NVIDIA GeForce RTX 3060" in people.out


def test_plan_routes_to_a_host_and_card(fleet: dict[str, Any]) -> None:
    data = run_qms("plan", "Create Video", "--quality", "high", "--prometheus", fleet["prom"].url, "--json").json()
    validate_output(data, "plan")
    (task,) = data["tasks"]
    assert task["device"]["host"] == "host-c" and task["device"]["type"] == "gpu"  # the 80 GB card
    assert task["chosen"]["id"] == "high"
    people = run_qms("plan", "Create Image", "--prometheus", fleet["prom"].url, "--yes")
    assert "Machine" in people.out and "#0" in people.out


def test_a_batch_spreads_over_the_fleet(fleet: dict[str, Any], tmp_path: Path) -> None:
    tasks = tmp_path / "batch.jsonl"
    # Enough tasks that the 12 GB card, which needs memory-saving settings for Low, finishes one sooner than the
    # 24 and 80 GB cards (which run Low without offloading, several times faster) finish their next.
    tasks.write_text("\n".join(json.dumps({"function": "Create Image", "quality": "low"}) for _ in range(24)))
    data = run_qms("plan", "--tasks", str(tasks), "--prometheus", fleet["prom"].url, "--json").json()
    hosts = [t["device"]["host"] for t in data["tasks"]]
    assert len(set(hosts)) >= 3, hosts  # not piled onto one host
    assert all(t["chosen"]["id"] == "low" for t in data["tasks"])


def test_stale_and_vanished_hosts_are_left_out_with_a_notice(fleet: dict[str, Any]) -> None:
    prom = fleet["prom"]
    fleet["d"].stop()  # host-d goes away
    deadline = time.time() + 30
    while time.time() < deadline and not prom.query("up == 0"):
        time.sleep(0.5)
    result = run_qms("probe", "--prometheus", prom.url, "--json")
    data = result.json()
    assert "host-d" not in data["hosts"]
    assert any(n["type"] == "host_down" for n in data["notices"])
    # Every reading is older than a microsecond (10 ms was not always enough: with scrapes every second, a
    # reading taken within 10 ms of the query came up about once in thirty runs).
    old = run_qms("plan", "Create Image", "--prometheus", prom.url, "--max-age", "0.000001s", "--json")
    assert old.code == 1 and "knows no machine" in old.err, old.err
    fallback = run_qms("plan", "Create Image", "--prometheus", prom.url, "--max-age", "0.000001s", "--local-fallback",
                       "--json")
    assert fallback.code == 0 and "Planning for this machine only" in fallback.err


def test_an_unreachable_prometheus(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_qms("plan", "Create Image", "--prometheus", url)
    assert result.code == 1 and f"cannot reach Prometheus at {url}" in result.err
    fallback = run_qms("plan", "Create Image", "--prometheus", url, "--local-fallback", "--json")
    assert fallback.code == 0 and fallback.json()["tasks"][0]["device"]["host"] is None
    probe = run_qms("probe", "--prometheus", url, "--local-fallback", "--json")
    assert probe.code == 0 and probe.json()["notices"][0]["type"] == "local_fallback"
