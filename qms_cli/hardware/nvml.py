"""NVIDIA GPUs through NVML (nvidia-ml-py, imported as pynvml): the only module that touches it.

Faults never crash: no driver or library -> no GPU (CPU only); a driver/library version mismatch -> a hint to
restart; a lost GPU -> a row marked unavailable; a field not supported -> None (shown as N/A); any other error
on one device degrades that device only.
"""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

import contextlib
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from qms_cli.hardware.resources import Fault, Gpu, GpuProcess, Notice


class Reading(NamedTuple):
    devices: list[Gpu]
    notices: list[Notice]


def driver_present() -> bool:
    """A cheap look for an NVIDIA driver before loading NVML (whose import alone costs ~15 ms)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(Path(p).exists() for p in ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg"))


class _Lost(Exception):
    pass


def read() -> Reading:
    """Every device NVML reports (MIG instances as devices of their own), in NVML order."""
    if not driver_present():
        return Reading([], [Notice("no_gpu", cause="no_driver")])
    try:
        import pynvml
    except ImportError:
        return Reading([], [Notice("no_gpu", cause="no_package")])
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibRmVersionMismatch as e:
        return Reading([], [Notice("driver_mismatch", error=str(e))])
    except (pynvml.NVMLError_LibraryNotFound, pynvml.NVMLError_DriverNotLoaded) as e:
        return Reading([], [Notice("no_gpu", cause="not_loaded", error=str(e))])
    except pynvml.NVMLError as e:
        return Reading([], [Notice("no_gpu", cause="driver_error", error=str(e))])
    try:
        return Reading(_devices(pynvml), [])
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def _devices(nv: Any) -> list[Gpu]:
    driver = _text(_get(nv, nv.nvmlSystemGetDriverVersion)[0])
    cuda_raw = _get(nv, nv.nvmlSystemGetCudaDriverVersion)[0]
    cuda = f"{cuda_raw // 1000}.{cuda_raw % 1000 // 10}" if isinstance(cuda_raw, int) else None
    out: list[Gpu] = []
    for i in range(nv.nvmlDeviceGetCount()):
        try:
            handle = nv.nvmlDeviceGetHandleByIndex(i)
        except nv.NVMLError as e:
            out.append(_broken(nv, i, e))
            continue
        mig, _ = _get(nv, nv.nvmlDeviceGetMigMode, handle)
        if mig and mig[0] == nv.NVML_DEVICE_MIG_ENABLE:
            parent = _text(_get(nv, nv.nvmlDeviceGetUUID, handle)[0])
            count = _get(nv, nv.nvmlDeviceGetMaxMigDeviceCount, handle)[0] or 0
            for j in range(count):
                try:
                    mig_handle = nv.nvmlDeviceGetMigDeviceHandleByIndex(handle, j)
                except nv.NVMLError_NotFound:
                    continue  # an empty slot
                except nv.NVMLError as e:
                    out.append(_broken(nv, i, e, parent))
                    continue
                out.append(_device(nv, mig_handle, i, driver, cuda, parent, handle))
        else:
            out.append(_device(nv, handle, i, driver, cuda, None))
    return [replace(g, index=n) for n, g in enumerate(out)]


def _broken(nv: Any, i: int, error: Exception, parent: str | None = None) -> Gpu:
    lost = isinstance(error, nv.NVMLError_GpuIsLost)
    why = Fault("lost") if lost else Fault("driver_error", error=str(error))
    return Gpu(index=i, nvml_index=i, name=f"Graphics card {i}", status="unavailable", problems=(why,),
               mig_parent=parent)


def _device(nv: Any, handle: Any, i: int, driver: str | None, cuda: str | None, parent: str | None,
            parent_handle: Any = None) -> Gpu:
    problems: list[Fault] = []

    def field(fn: Callable[..., Any], *args: Any, what: str) -> Any:
        value, error = _get(nv, fn, *args)
        if error is not None:
            if isinstance(error, nv.NVMLError_GpuIsLost):
                raise _Lost
            problems.append(Fault("unreadable", field=what, error=str(error)))
        return value

    try:
        name = _text(field(nv.nvmlDeviceGetName, handle, what="name")) or f"Graphics card {i}"
        uuid = _text(field(nv.nvmlDeviceGetUUID, handle, what="uuid"))
        memory, api = _memory(nv, handle, field)
        util = field(nv.nvmlDeviceGetUtilizationRates, handle, what="utilization")
        processes = _processes(nv, handle, field)
        figures = _figures(nv, handle, parent_handle)
    except _Lost:
        return _broken(nv, i, nv.NVMLError_GpuIsLost(), parent)
    total, used, free, reserved = memory
    return Gpu(index=i, nvml_index=i, name=name, uuid=uuid, total=total, used=used, free=free, reserved=reserved,
               utilization=getattr(util, "gpu", None), memory_utilization=getattr(util, "memory", None),
               driver_version=driver, cuda_version=cuda, processes=processes,
               status="degraded" if problems else "ok", problems=tuple(problems), mig_parent=parent,
               memory_api=api, **figures)


_BRANDS = {"NVML_BRAND_GEFORCE": "geforce", "NVML_BRAND_GEFORCE_RTX": "geforce", "NVML_BRAND_TITAN": "titan",
           "NVML_BRAND_TITAN_RTX": "titan", "NVML_BRAND_QUADRO": "quadro", "NVML_BRAND_QUADRO_RTX": "quadro",
           "NVML_BRAND_TESLA": "tesla", "NVML_BRAND_NVIDIA_RTX": "nvidia_rtx", "NVML_BRAND_NVIDIA": "nvidia"}


def _figures(nv: Any, handle: Any, parent: Any = None) -> dict[str, Any]:
    """What the card says about its speed: compute capability, multiprocessors (MIG instances) or CUDA cores,
    boost and max clocks (MHz), memory bus width (bits), host link and brand; None where not supported (never a
    problem: the card is still fine). A MIG instance reports its own multiprocessors; clocks, bus and link come
    from its card where it has none (the card's cores are not the instance's)."""

    def read(fn: Callable[..., Any], *args: Any) -> Any:
        value = _get(nv, fn, handle, *args)[0]
        if value is None and parent is not None:
            value = _get(nv, fn, parent, *args)[0]
        return value

    cc = read(nv.nvmlDeviceGetCudaComputeCapability)
    attributes = _get(nv, nv.nvmlDeviceGetAttributes, handle)[0]
    gen, lanes = read(nv.nvmlDeviceGetMaxPcieLinkGeneration), read(nv.nvmlDeviceGetMaxPcieLinkWidth)
    brand = read(nv.nvmlDeviceGetBrand)
    names = {getattr(nv, k): v for k, v in _BRANDS.items() if hasattr(nv, k)}
    # The rated boost clock where the card has one (NVML's "customer boost max"); else the highest clock.
    boost = _positive(read(nv.nvmlDeviceGetClock, nv.NVML_CLOCK_SM, nv.NVML_CLOCK_ID_CUSTOMER_BOOST_MAX))
    return {"compute_capability": (int(cc[0]), int(cc[1])) if cc else None,
            "multiprocessors": _positive(getattr(attributes, "multiprocessorCount", None)),
            "cuda_cores": _positive(read(nv.nvmlDeviceGetNumGpuCores)) if parent is None else None,
            "boost_sm_clock_mhz": boost,
            "max_sm_clock_mhz": _positive(read(nv.nvmlDeviceGetMaxClockInfo, nv.NVML_CLOCK_SM)),
            "max_memory_clock_mhz": _positive(read(nv.nvmlDeviceGetMaxClockInfo, nv.NVML_CLOCK_MEM)),
            "memory_bus_bits": _positive(read(nv.nvmlDeviceGetMemoryBusWidth)),
            "pcie": (gen, lanes) if _positive(gen) and _positive(lanes) else None,
            "brand": None if brand is None else names.get(brand, "other")}


def _positive(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None


def _memory(nv: Any, handle: Any, field: Any) -> tuple[tuple[int | None, ...], str | None]:
    """(total, used, free, reserved) by the v2 API; v1 on drivers without it (v1 counts reserved as used)."""
    value, error = _get(nv, nv.nvmlDeviceGetMemoryInfo, handle, version=nv.nvmlMemory_v2)
    if value is not None:
        return (int(value.total), int(value.used), int(value.free), int(value.reserved)), "v2"
    if isinstance(error, nv.NVMLError_GpuIsLost):
        raise _Lost
    v1 = field(nv.nvmlDeviceGetMemoryInfo, handle, what="memory")
    if v1 is None:
        return (None, None, None, None), None
    return (int(v1.total), int(v1.used), int(v1.free), None), "v1"


def _processes(nv: Any, handle: Any, field: Any) -> tuple[GpuProcess, ...] | None:
    seen: dict[int, GpuProcess] = {}
    answered = False
    for fn in (nv.nvmlDeviceGetComputeRunningProcesses, nv.nvmlDeviceGetGraphicsRunningProcesses):
        procs, error = _get(nv, fn, handle)
        if isinstance(error, nv.NVMLError_GpuIsLost):
            raise _Lost
        if procs is None:
            continue  # not permitted or not supported: processes stay unknown unless the other call answers
        answered = True
        for p in procs:
            if p.pid not in seen:
                name = _text(_get(nv, nv.nvmlSystemGetProcessName, p.pid)[0])
                used = p.usedGpuMemory if isinstance(p.usedGpuMemory, int) else None
                seen[p.pid] = GpuProcess(int(p.pid), name, used)
    return tuple(seen.values()) if answered else None


def _get(nv: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Exception | None]:
    """(value, None), or (None, error): NotSupported comes back as (None, None), i.e. simply N/A."""
    try:
        return fn(*args, **kwargs), None
    except nv.NVMLError_NotSupported:
        return None, None
    except nv.NVMLError as e:
        return None, e


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


class MemorySampler:
    """Samples one card's used graphics memory in a thread while a command runs; `peak` is the most seen
    (bytes), None where NVML is not available. The card's use before the start is subtracted, so the peak is
    what the command added."""

    def __init__(self, index: int = 0, interval: float = 0.05) -> None:
        import threading

        self.index, self.interval = index, interval
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MemorySampler":
        if driver_present():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:
            return
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
            base = int(pynvml.nvmlDeviceGetMemoryInfo(handle).used)
            peak = 0
            while not self._stop.wait(self.interval):
                peak = max(peak, int(pynvml.nvmlDeviceGetMemoryInfo(handle).used) - base)
                self.peak = peak
        except pynvml.NVMLError:
            pass
        finally:
            with contextlib.suppress(pynvml.NVMLError):
                pynvml.nvmlShutdown()
