"""A fake NVML at the outermost boundary, faithful to nvidia-ml-py.

The real `pynvml` module stays in place with its real exception classes (NVMLError_GpuIsLost, ...) and
structures (c_nvmlMemory_v2_t, ...); only the calls that would reach the driver are replaced, with the same
names, arguments, units (bytes) and error behaviour as the drivers they stand for. Scenarios replay the
situations qms must survive (after gpustat's per-driver mocks).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pynvml

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Figures:
    """What a card reports about its speed, in NVML's units (MHz, bits); None: the driver says not supported."""

    cc: tuple[int, int] = (8, 9)
    cores: int = 16384  # nvmlDeviceGetNumGpuCores
    boost_mhz: int | None = None  # nvmlDeviceGetClock(.., NVML_CLOCK_SM, NVML_CLOCK_ID_CUSTOMER_BOOST_MAX)
    max_sm_mhz: int = 3105  # nvmlDeviceGetMaxClockInfo(.., NVML_CLOCK_SM): a 4090's highest clock, not its boost
    max_mem_mhz: int = 10501  # NVML_CLOCK_MEM: GDDR6X at 21 Gbps reports 10501 MHz
    bus_bits: int = 384
    pcie: tuple[int, int] = (4, 16)
    brand: int = pynvml.NVML_BRAND_GEFORCE


RTX_4090 = Figures()
A100_SXM = Figures((8, 0), 6912, 1410, 1410, 1593, 5120, (4, 16), pynvml.NVML_BRAND_NVIDIA)
RTX_3060 = Figures((8, 6), 3584, None, 2100, 7501, 192, (4, 16))
H100_SXM = Figures((9, 0), 16896, 1980, 1980, 2619, 5120, (5, 16), pynvml.NVML_BRAND_NVIDIA)


@dataclass
class FakeDevice:
    name: str
    uuid: str
    total: int
    used: int = 300 * MIB
    reserved: int = 350 * MIB
    util: tuple[int, int] = (0, 0)
    processes: list[tuple[int, str | None, int | None]] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)  # NVML function -> error code it returns
    mig: list[FakeDevice] | None = None  # MIG mode on, with these instances (None: not MIG-capable)
    figures: Figures = RTX_4090
    multiprocessors: int | None = None  # nvmlDeviceGetAttributes answers for MIG instances only


@dataclass
class Scenario:
    devices: list[FakeDevice] = field(default_factory=list)
    init_error: int | None = None
    driver: str = "560.35.03"
    cuda: int = 12060
    v2: bool = True  # R510+ drivers have nvmlDeviceGetMemoryInfo_v2
    driver_files: bool = True  # /proc/driver/nvidia and /dev/nvidiactl exist
    slow: float = 0.0  # seconds each memory query takes (a driver that hangs)
    blocks: str | None = None  # an NVML call that never returns (a wedged driver), e.g. "nvmlInit"


@dataclass(frozen=True)
class Handle:
    index: int
    mig: int | None = None


def _raise(code: int) -> None:
    raise pynvml.NVMLError(code)  # NVMLError maps the code to its real subclass


def functions(s: Scenario) -> dict[str, Callable[..., Any]]:
    """The replaced NVML calls, by their pynvml names."""
    initialised = [False]

    def device(h: Handle, fn: str) -> FakeDevice:
        if not initialised[0]:
            _raise(pynvml.NVML_ERROR_UNINITIALIZED)
        d = s.devices[h.index]
        if h.mig is not None:
            assert d.mig is not None
            d = d.mig[h.mig]
        if fn in d.failing:
            _raise(d.failing[fn])
        return d

    def init() -> None:
        if s.init_error is not None:
            _raise(s.init_error)
        initialised[0] = True

    def handle_by_index(i: int) -> Handle:
        if not 0 <= i < len(s.devices):
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        device(Handle(i), "nvmlDeviceGetHandleByIndex")
        return Handle(i)

    def memory(h: Handle, version: int | None = None) -> Any:
        d = device(h, "nvmlDeviceGetMemoryInfo")
        if s.slow:
            import time

            time.sleep(s.slow)
        if version:
            if not s.v2:
                _raise(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)  # the _v2 symbol is missing in old drivers
            m = pynvml.c_nvmlMemory_v2_t()
            m.version, m.total, m.reserved, m.used = version, d.total, d.reserved, d.used
            m.free = d.total - d.used - d.reserved
            return m
        m1 = pynvml.c_nvmlMemory_t()
        # v1 counts reserved memory as used
        m1.total, m1.used, m1.free = d.total, d.used + d.reserved, d.total - d.used - d.reserved
        return m1

    def utilization(h: Handle) -> Any:
        d = device(h, "nvmlDeviceGetUtilizationRates")
        if h.mig is not None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)  # as on real MIG instances
        return pynvml.c_nvmlUtilization_t(gpu=d.util[0], memory=d.util[1])

    def compute_processes(h: Handle) -> list[Any]:
        d = device(h, "nvmlDeviceGetComputeRunningProcesses")
        return [pynvml.nvmlFriendlyObject({"pid": pid, "usedGpuMemory": used, "gpuInstanceId": 0xFFFFFFFF,
                                           "computeInstanceId": 0xFFFFFFFF}) for pid, _, used in d.processes]

    def process_name(pid: int) -> str:
        for d in s.devices:
            for p, name, _ in d.processes:
                if p == pid:
                    if name is None:
                        _raise(pynvml.NVML_ERROR_NO_PERMISSION)
                    return name
        _raise(pynvml.NVML_ERROR_NOT_FOUND)
        raise AssertionError

    def mig_mode(h: Handle) -> list[int]:
        d = device(h, "nvmlDeviceGetMigMode")
        if d.mig is None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return [pynvml.NVML_DEVICE_MIG_ENABLE, pynvml.NVML_DEVICE_MIG_ENABLE] if d.mig else [0, 0]

    def max_mig(h: Handle) -> int:
        device(h, "nvmlDeviceGetMaxMigDeviceCount")
        return 7

    def mig_handle(h: Handle, j: int) -> Handle:
        d = device(h, "nvmlDeviceGetMigDeviceHandleByIndex")
        if not d.mig or j >= len(d.mig):
            _raise(pynvml.NVML_ERROR_NOT_FOUND)
        return Handle(h.index, j)

    def figure(h: Handle, fn: str, pick: Callable[[Figures], Any], since_r510: bool = False) -> Any:
        d = device(h, fn)
        if since_r510 and not s.v2:
            _raise(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)  # the symbol is missing in drivers before R510
        value = pick(d.figures)
        if value is None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return value

    def attributes(h: Handle) -> Any:
        d = device(h, "nvmlDeviceGetAttributes")
        if h.mig is None or d.multiprocessors is None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)  # documented for MIG device handles only
        a = pynvml.c_nvmlDeviceAttributes()
        a.multiprocessorCount, a.memorySizeMB = d.multiprocessors, d.total // MIB
        return a

    def max_clock(h: Handle, kind: int) -> int:
        if kind not in (pynvml.NVML_CLOCK_SM, pynvml.NVML_CLOCK_MEM):
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        if h.mig is not None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)  # clocks belong to the card, not the instance
        return int(figure(h, "nvmlDeviceGetMaxClockInfo",
                          lambda f: f.max_sm_mhz if kind == pynvml.NVML_CLOCK_SM else f.max_mem_mhz))

    def clock(h: Handle, kind: int, clock_id: int) -> int:
        if kind != pynvml.NVML_CLOCK_SM or clock_id != pynvml.NVML_CLOCK_ID_CUSTOMER_BOOST_MAX or h.mig is not None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return int(figure(h, "nvmlDeviceGetClock", lambda f: f.boost_mhz))

    def card_only(h: Handle, fn: str, pick: Callable[[Figures], Any], since_r510: bool = False) -> Any:
        if h.mig is not None:
            _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return figure(h, fn, pick, since_r510)

    calls: dict[str, Callable[..., Any]] = {
        "nvmlDeviceGetCudaComputeCapability": lambda h: figure(h, "nvmlDeviceGetCudaComputeCapability",
                                                               lambda f: f.cc),
        "nvmlDeviceGetAttributes": attributes,
        "nvmlDeviceGetNumGpuCores": lambda h: card_only(h, "nvmlDeviceGetNumGpuCores", lambda f: f.cores, True),
        "nvmlDeviceGetClock": clock,
        "nvmlDeviceGetMaxClockInfo": max_clock,
        "nvmlDeviceGetMemoryBusWidth": lambda h: card_only(h, "nvmlDeviceGetMemoryBusWidth", lambda f: f.bus_bits,
                                                           True),
        "nvmlDeviceGetMaxPcieLinkGeneration": lambda h: card_only(h, "nvmlDeviceGetMaxPcieLinkGeneration",
                                                                  lambda f: f.pcie[0]),
        "nvmlDeviceGetMaxPcieLinkWidth": lambda h: card_only(h, "nvmlDeviceGetMaxPcieLinkWidth", lambda f: f.pcie[1]),
        "nvmlDeviceGetBrand": lambda h: figure(h, "nvmlDeviceGetBrand", lambda f: f.brand),
        "nvmlInit": init,
        "nvmlShutdown": lambda: initialised.__setitem__(0, False),
        "nvmlSystemGetDriverVersion": lambda: s.driver,
        "nvmlSystemGetCudaDriverVersion": lambda: s.cuda,
        "nvmlDeviceGetCount": lambda: len(s.devices),
        "nvmlDeviceGetHandleByIndex": handle_by_index,
        "nvmlDeviceGetName": lambda h: device(h, "nvmlDeviceGetName").name,
        "nvmlDeviceGetUUID": lambda h: device(h, "nvmlDeviceGetUUID").uuid,
        "nvmlDeviceGetMemoryInfo": memory,
        "nvmlDeviceGetUtilizationRates": utilization,
        "nvmlDeviceGetComputeRunningProcesses": compute_processes,
        "nvmlDeviceGetGraphicsRunningProcesses": lambda h: device(h, "nvmlDeviceGetGraphicsRunningProcesses") and [],
        "nvmlSystemGetProcessName": process_name,
        "nvmlDeviceGetMigMode": mig_mode,
        "nvmlDeviceGetMaxMigDeviceCount": max_mig,
        "nvmlDeviceGetMigDeviceHandleByIndex": mig_handle,
    }
    if s.blocks is not None:
        calls[s.blocks] = _blocking(calls[s.blocks])
    return calls


def _blocking(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The call as a wedged driver makes it: the thread that makes it never comes back (as in the kernel, nothing
    can interrupt it)."""
    import threading

    never = threading.Event()

    def call(*args: Any, **kwargs: Any) -> Any:
        never.wait()
        return fn(*args, **kwargs)

    return call


def install(scenario: Scenario, setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    """Replace NVML's calls (and the driver-file check) with the scenario's. Pass monkeypatch.setattr in tests."""
    from qms_cli.hardware import nvml

    for name, fn in functions(scenario).items():
        assert hasattr(pynvml, name), f"pynvml has no {name}: the fake must use nvidia-ml-py's names"
        setattr_(pynvml, name, fn)
    setattr_(nvml, "driver_present", lambda: scenario.driver_files)


def rtx(n: int, total_gb: int = 24, name: str = "NVIDIA GeForce RTX 4090", **kw: Any) -> FakeDevice:
    return FakeDevice(name, f"GPU-{n:08x}-1111-2222-3333-444455556666", total_gb * GIB, **kw)


def a100_mig() -> FakeDevice:
    parent = FakeDevice("NVIDIA A100-SXM4-80GB", "GPU-a100a100-0000-0000-0000-000000000000", 80 * GIB,
                        used=0, reserved=0, mig=[], figures=A100_SXM)
    assert parent.mig is not None
    for k in range(2):
        parent.mig.append(FakeDevice("NVIDIA A100-SXM4-80GB MIG 3g.40gb", f"MIG-0000000{k}-aaaa-bbbb-cccc-dddddddddddd",
                                     40 * GIB - 512 * MIB, used=10 * MIB, reserved=0, figures=A100_SXM,
                                     multiprocessors=42))  # a 3g.40gb slice: 42 of the card's 108
    return parent


NS = pynvml.NVML_ERROR_NOT_SUPPORTED
SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "no-driver": lambda: Scenario(driver_files=False),
    "no-library": lambda: Scenario(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND),
    "driver-not-loaded": lambda: Scenario(init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED),
    "version-mismatch": lambda: Scenario(init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH),
    "one-idle": lambda: Scenario([rtx(0)]),
    "two-one-busy": lambda: Scenario([
        rtx(0, util=(0, 0)),
        rtx(1, used=18 * GIB, util=(97, 80), processes=[(4242, "python3", 12 * GIB), (777, None, 6 * GIB - 300 * MIB)]),
    ]),
    "lost": lambda: Scenario([rtx(0), rtx(1, failing={"nvmlDeviceGetHandleByIndex": pynvml.NVML_ERROR_GPU_IS_LOST}),
                              rtx(2, failing={"nvmlDeviceGetMemoryInfo": pynvml.NVML_ERROR_GPU_IS_LOST})]),
    "v1-only": lambda: Scenario([rtx(0, total_gb=12, name="NVIDIA GeForce RTX 3060", figures=RTX_3060)],
                                driver="470.82.01",
                                cuda=11040, v2=False),
    "mig-a100": lambda: Scenario([a100_mig()], driver="550.90.07", cuda=12040),
    # A card profiles/cards.yaml does not list: its speed is derived from what it reports.
    "unlisted-card": lambda: Scenario([rtx(0, total_gb=12, name="NVIDIA RTX 3500 Ada Generation Laptop GPU",
                                           figures=Figures((8, 9), 5120, 1695, 2250, 9001, 192, (4, 16),
                                                           pynvml.NVML_BRAND_NVIDIA_RTX))]),
    "not-supported": lambda: Scenario([rtx(0, failing={"nvmlDeviceGetUtilizationRates": NS,
                                                       "nvmlDeviceGetComputeRunningProcesses": NS,
                                                       "nvmlDeviceGetGraphicsRunningProcesses": NS})]),
    "other-error": lambda: Scenario([rtx(0), rtx(1, failing={"nvmlDeviceGetName": pynvml.NVML_ERROR_UNKNOWN})]),
    "slow": lambda: Scenario([rtx(0)], slow=3.0),
    "wedged": lambda: Scenario([rtx(0)], blocks="nvmlInit"),
    "wedged-memory": lambda: Scenario([rtx(0)], blocks="nvmlDeviceGetMemoryInfo"),
    "eight": lambda: Scenario([rtx(i, total_gb=80, name="NVIDIA H100 80GB HBM3", used=i * GIB, figures=H100_SXM,
                                   processes=[(1000 + i, "worker", i * GIB)]) for i in range(8)]),
}


def main(argv: list[str]) -> int:
    """`python -m tests.fake_nvml SCENARIO qms-args...`: the real qms CLI over a scenario."""
    install(SCENARIOS[argv[0]]())
    from qms_cli.cli.app import main as qms_main

    return qms_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
