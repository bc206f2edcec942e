"""The hardware probe: NVML faults (through a faithful fake), CUDA_VISIBLE_DEVICES, limits, simulation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from qms_cli.hardware import probe
from qms_cli.hardware.resources import GIB
from qms_cli.render.messages.machine import fault, notice
from tests.conftest import PROFILES, ROOT, Result, run_qms, validate_output
from tests.fake_nvml import MIB, SCENARIOS, install


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(name: str) -> None:
        install(SCENARIOS[name](), monkeypatch.setattr)

    return use


def fake_qms(name: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """The real qms program in its own process, over a fake NVML scenario."""
    proc = subprocess.run([sys.executable, "-m", "tests.fake_nvml", name, *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "QMS_OUTPUT": "plain", **(env or {})}, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("name", ["no-driver", "no-library", "driver-not-loaded"])
def test_no_gpu_means_cpu_only(scenario: Any, name: str) -> None:
    scenario(name)
    res = probe()
    assert res.gpus == () and res.source == "none" and res.available_vram == 0 and res.best_gpu is None
    assert [n.kind for n in res.notices] == ["no_gpu"] and "processor" in notice(res.notices[0])
    assert res.fingerprint.startswith("cpu-")
    assert res.system.ram_total > 0 and res.system.cpu_cores >= 1


def test_version_mismatch_says_to_restart(scenario: Any) -> None:
    scenario("version-mismatch")
    res = probe()
    assert res.gpus == () and res.notices[0].kind == "driver_mismatch" and "restart" in notice(res.notices[0])


def test_one_idle_gpu_v2_memory(scenario: Any) -> None:
    scenario("one-idle")
    (g,) = probe().gpus
    assert (g.total, g.used, g.reserved, g.memory_api) == (24 * GIB, 300 * MIB, 350 * MIB, "v2")
    assert g.free == 24 * GIB - 650 * MIB
    assert probe().available_vram == g.free - 2 * GIB
    assert probe(reserve="4GB").available_vram == g.free - 4 * GIB
    assert (g.driver_version, g.cuda_version, g.utilization, g.processes) == ("560.35.03", "12.6", 0, ())
    assert g.uuid == "GPU-00000000-1111-2222-3333-444455556666"


def test_two_gpus_one_busy(scenario: Any) -> None:
    scenario("two-one-busy")
    res = probe()
    assert res.best_gpu is not None and res.best_gpu.index == 0
    busy = res.gpus[1]
    assert busy.utilization == 97 and busy.memory_utilization == 80
    assert [(p.pid, p.name, p.used_bytes) for p in busy.processes or ()] == [
        (4242, "python3", 12 * GIB), (777, None, 6 * GIB - 300 * MIB)]
    assert res.available(busy) == max(0, 24 * GIB - 18 * GIB - 350 * MIB - 2 * GIB)


def test_lost_gpus_are_unavailable_and_excluded(scenario: Any) -> None:
    scenario("lost")
    res = probe()
    assert [g.status for g in res.gpus] == ["ok", "unavailable", "unavailable"]
    assert all("stopped responding" in fault(g.problems[0]) for g in res.gpus[1:])
    assert res.best_gpu is not None and res.best_gpu.index == 0
    assert [res.available(g) for g in res.gpus[1:]] == [0, 0]


def test_v1_only_driver(scenario: Any) -> None:
    scenario("v1-only")
    (g,) = probe().gpus
    assert g.memory_api == "v1" and g.reserved is None
    assert g.used == 650 * MIB and g.free == 12 * GIB - 650 * MIB  # v1 counts reserved memory as used
    assert g.cuda_version == "11.4" and g.fingerprint() == "nvidia-geforce-rtx-3060-12gb-driver470"


def test_mig_instances_are_devices(scenario: Any) -> None:
    scenario("mig-a100")
    res = probe()
    assert len(res.gpus) == 2
    for i, g in enumerate(res.gpus):
        assert g.index == i and g.uuid and g.uuid.startswith("MIG-") and g.utilization is None
        assert g.mig_parent == "GPU-a100a100-0000-0000-0000-000000000000" and g.nvml_index == 0
    assert res.available_vram == 40 * GIB - 512 * MIB - 10 * MIB - 2 * GIB


def test_fields_not_supported_are_none(scenario: Any) -> None:
    scenario("not-supported")
    (g,) = probe().gpus
    assert g.utilization is None and g.processes is None and g.status == "ok" and g.total == 24 * GIB


def test_other_errors_degrade_one_device_only(scenario: Any) -> None:
    scenario("other-error")
    res = probe()
    assert [g.status for g in res.gpus] == ["ok", "degraded"]
    assert "could not read its name" in fault(res.gpus[1].problems[0]) and res.gpus[1].usable
    assert res.gpus[0].name == "NVIDIA GeForce RTX 4090"


@pytest.mark.parametrize(("spec", "expected", "hidden"), [
    ("GPU-00000001", ["GPU-00000001-1111-2222-3333-444455556666"], False),
    ("1,0", ["GPU-00000001-1111-2222-3333-444455556666", "GPU-00000000-1111-2222-3333-444455556666"], False),
    ("0,GPU-ffff,1", ["GPU-00000000-1111-2222-3333-444455556666"], True),
    ("", [], True),
    ("GPU-0000000", [], True),  # ambiguous prefix: names no single card
])
def test_cuda_visible_devices(scenario: Any, monkeypatch: pytest.MonkeyPatch, spec: str, expected: list[str],
                              hidden: bool) -> None:
    scenario("two-one-busy")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", spec)
    res = probe()
    assert [g.uuid for g in res.gpus] == expected
    assert [g.index for g in res.gpus] == list(range(len(expected)))
    assert any(n.kind == "visibility" for n in res.notices) == hidden


def test_cuda_visible_devices_by_mig_uuid(scenario: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario("mig-a100")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-00000001-aaaa-bbbb-cccc-dddddddddddd")
    (g,) = probe().gpus
    assert g.index == 0 and g.uuid == "MIG-00000001-aaaa-bbbb-cccc-dddddddddddd"


def test_vram_limit_caps_a_real_card(scenario: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario("one-idle")
    (g,) = probe(vram_limit="12GB").gpus
    assert (g.total, g.physical_total, g.free) == (12 * GIB, 24 * GIB, 12 * GIB - 650 * MIB)
    assert g.fingerprint() == "nvidia-geforce-rtx-4090-24gb-driver560"  # the card is still what it is
    monkeypatch.setenv("VRAM_LIMIT", "16GB")
    assert probe().gpus[0].total == 16 * GIB
    assert probe(vram_limit="8GB").gpus[0].total == 8 * GIB  # the option wins over the variable


def test_vram_limit_without_a_card_simulates_one(scenario: Any) -> None:
    scenario("no-driver")
    res = probe(vram_limit="12GB")
    (g,) = res.gpus
    assert g.name == "Simulated GPU, 12 GiB" and g.simulated and res.source == "simulated"
    assert res.available_vram == 10 * GIB and res.notices == ()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_as_json_matches_the_schema(name: str) -> None:
    # a wedged driver is given up on after QMS_NVML_TIMEOUT (tests/test_nvml_deadline.py tests the limit itself)
    result = fake_qms(name, "probe", "--json", env={"QMS_NVML_TIMEOUT": "1"} if name.startswith("wedged") else None)
    assert result.code == 0, result.err
    validate_output(result.json(), "resources")


def test_table_view_over_a_fake_nvml() -> None:
    out = fake_qms("two-one-busy", "probe").out
    assert "NVIDIA GeForce RTX 4090" in out and "97%" in out and "█" in out
    assert "Card #1 is in use by: python3 (12 GB)" in out and "Best card for work: #0" in out
    assert "graphics memory" in out and "VRAM" not in out
    assert "N/A" in fake_qms("not-supported", "probe").out
    lost = fake_qms("lost", "probe").out
    assert "unavailable: the card stopped responding" in lost
    assert "restart the computer" in fake_qms("version-mismatch", "probe").out


def test_fingerprint_is_stable() -> None:
    a, b = fake_qms("two-one-busy", "probe", "--json").json(), fake_qms("one-idle", "probe", "--json").json()
    assert a["fingerprint"] == b["fingerprint"] == "nvidia-geforce-rtx-4090-24gb-driver560"


HARDWARE = {"cpu-only": (0, None), "laptop-8gb": (1, 8), "rtx-3060-12gb": (1, 12), "rtx-4080-16gb": (1, 16),
            "rtx-4090-24gb": (1, 24), "a100-80gb": (1, 80)}


@pytest.mark.parametrize("name", sorted(HARDWARE))
def test_every_simulated_machine_through_the_cli(name: str) -> None:
    count, gb = HARDWARE[name]
    result = run_qms("probe", "--hardware", name, "--json")
    assert result.code == 0, result.err
    data = result.json()
    validate_output(data, "resources")
    profile = yaml.safe_load((PROFILES / "hardware" / f"{name}.yaml").read_text())
    assert data["source"] == "simulated" and data["machine"] == profile["name"] and len(data["gpus"]) == count
    if gb:
        gpu = data["gpus"][0]
        assert gpu["memory"]["total_bytes"] == gb * GIB and gpu["simulated"]
        assert data["available_vram_bytes"] == gpu["memory"]["free_bytes"] - 2 * GIB
    else:
        assert data["available_vram_bytes"] == 0 and data["fingerprint"].startswith("cpu-")
    assert data["system"]["cpu_cores"] == profile["cpu"]["cores"]
    text = run_qms("probe", "--hardware", name)
    assert text.code == 0 and f"Simulated machine: {profile['name']}" in text.out


def test_simulated_machine_from_a_file_and_a_limit(tmp_path: Path, qms: Any) -> None:
    box = {"version": 1, "name": "Two cards", "cpu": {"model": "Test CPU", "cores": 4}, "ram": "32GB",
           "gpus": [{"name": "Card A", "memory_total": "8GB"}, {"name": "Card B", "memory_total": "24GB",
                                                                 "memory_used": "4GB"}]}
    path = tmp_path / "box.yaml"
    path.write_text(yaml.safe_dump(box))
    data = qms("probe", "--hardware", str(path), "--vram-limit", "16GB", "--json").json()
    assert [g["memory"]["total_bytes"] for g in data["gpus"]] == [8 * GIB, 16 * GIB]
    assert data["best_gpu"] == 1 and data["available_vram_bytes"] == 10 * GIB


def test_bad_hardware_and_sizes(tmp_path: Path, qms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = qms("probe", "--hardware", "rtx-9090")
    assert unknown.code == 2 and "machines: a100-80gb, cpu-only" in unknown.err
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: x\ncpu: {model: y, cores: 0}\nram: 1GB\ngpus: []\n")
    bad = qms("probe", "--hardware", str(broken))
    assert bad.code == 1 and "$.cpu.cores" in bad.err
    size = qms("probe", "--vram-limit", "12 gigs")
    assert size.code == 2 and "'12 gigs' is not a size" in size.err and '"12GB"' in size.err
    assert qms("probe", "--reserve", "lots").code == 2
    assert qms("probe", "--vram-limit", "0GB").code == 2
    monkeypatch.setenv("VRAM_LIMIT", "twelve")
    env = qms("probe")
    assert env.code == 2 and "VRAM_LIMIT 'twelve' is not a size" in env.err


def test_this_machine_end_to_end() -> None:
    """No fake: whatever this machine has (on CI, no NVIDIA driver) is reported without a crash."""
    result = run_qms("probe", "--json")
    assert result.code == 0, result.err
    validate_output(result.json(), "resources")
    assert run_qms("probe").code == 0


def test_system_reading_matches_psutil() -> None:
    import psutil

    from qms_cli.hardware import system

    ours, theirs = system._linux(), system._psutil()
    assert ours.ram_total == theirs.ram_total == psutil.virtual_memory().total
    assert abs(ours.ram_available - theirs.ram_available) < 0.05 * ours.ram_total
    assert ours.cpu_threads == theirs.cpu_threads and 1 <= ours.cpu_cores <= ours.cpu_threads


def test_pynvml_is_imported_in_one_module_only() -> None:
    importers = [p.relative_to(ROOT) for p in (ROOT / "qms_cli").rglob("*.py") if "pynvml" in p.read_text()]
    assert importers == [Path("qms_cli/hardware/nvml.py")]


def test_probe_json_round_trips_through_json() -> None:
    data = run_qms("probe", "--vram-limit", "12GB", "--json").json()
    assert json.loads(json.dumps(data)) == data and data["gpus"][0]["name"] == "Simulated GPU, 12 GiB"
