"""What a machine offers for work: its graphics cards, memory and processor, as one snapshot."""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

import re
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from qms_cli.values import Value

GIB = 1024**3
# Main memory kept back for the desktop and other programs' growth: what a task may use is the memory the
# kernel says is available now (MemAvailable; swap is not memory) less this.
RAM_RESERVE = GIB


class GpuProcess(NamedTuple):
    """A process holding graphics memory (name and bytes where the driver tells)."""

    pid: int
    name: str | None
    used_bytes: int | None


class Fault(NamedTuple):
    """What went wrong reading one card, as facts; render/messages/machine.py words it.

    kind: "lost" (the card stopped responding), "driver_error" (the driver refused the card: `error`) or
    "unreadable" (one `field` could not be read: "name", "uuid", "memory" or "utilization"; `error`).
    """

    kind: str
    field: str | None = None
    error: str | None = None  # what the driver said, as it said it

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "field": self.field, "error": self.error}


@dataclass(frozen=True, eq=False, repr=False)
class Gpu(Value):
    """One device a task can run on: a whole card, or a MIG instance of one.

    Memory fields are bytes as qms treats them (capped by a VRAM limit); None where the driver does not say.
    `status` is "ok", "degraded" (some fields could not be read) or "unavailable" (excluded from routing).
    """

    index: int
    name: str
    uuid: str | None = None
    nvml_index: int | None = None
    total: int | None = None
    used: int | None = None
    free: int | None = None
    reserved: int | None = None
    utilization: int | None = None
    memory_utilization: int | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    processes: tuple[GpuProcess, ...] | None = None
    status: str = "ok"
    problems: tuple[Fault, ...] = ()  # what could not be read, when not "ok"
    mig_parent: str | None = None
    memory_api: str | None = None
    simulated: bool = False
    physical_total: int | None = None  # the card's own size when a VRAM limit caps `total`
    # What NVML says about the card's speed (None where not reported): used to derive a card that is not in
    # profiles/cards.yaml, and the host link offloading copies weights over.
    compute_capability: tuple[int, int] | None = None
    multiprocessors: int | None = None  # NVML reports it for MIG instances
    cuda_cores: int | None = None  # whole cards: multiprocessors = cores / cores per multiprocessor
    boost_sm_clock_mhz: int | None = None  # the rated boost clock, where NVML has it
    max_sm_clock_mhz: int | None = None
    max_memory_clock_mhz: int | None = None
    memory_bus_bits: int | None = None
    pcie: tuple[int, int] | None = None  # (generation, lanes): the most the card and its slot allow
    brand: str | None = None  # NVML's brand, lowercase: "geforce", "titan", "nvidia_rtx", ...

    @property
    def usable(self) -> bool:
        return self.status != "unavailable" and self.free is not None

    def capped(self, limit: int | None) -> "Gpu":
        """This device as qms treats it under a VRAM limit: total capped, the rest of it free."""
        if limit is None or self.total is None or self.total <= limit:
            return self
        held = (self.used or 0) + (self.reserved or 0)
        return replace(self, total=limit, free=max(0, limit - held), physical_total=self.total)

    def available(self, reserve: int) -> int:
        """Bytes a task can use: free memory less the reserve (0 when unusable)."""
        return max(0, (self.free or 0) - reserve) if self.usable else 0

    def fingerprint(self) -> str:
        """Stable identity for calibration and history: model, memory size, driver major version."""
        size = round((self.physical_total or self.total or 0) / GIB)
        name = self.name.split(",")[0]  # "Simulated GPU, 12 GiB" -> "Simulated GPU"
        if self.simulated and not name.lower().startswith("simulated"):
            name = f"simulated {name}"
        driver = f" driver{self.driver_version.split('.')[0]}" if self.driver_version else ""
        return slug(f"{name} {size}gb{driver}")


class System(NamedTuple):
    """Main memory and processor: what the processor rung of the ladder runs on."""

    ram_total: int
    ram_available: int
    cpu_cores: int
    cpu_threads: int
    cpu_model: str


class Notice(NamedTuple):
    """Something people should know about the machine, or about what qms read of it, as facts: `kind` is for
    programs (the "type" in --json); render/messages/machine.py words it. Only the fields of its kind are set.

    The probe: "no_gpu" (`cause`: "no_driver", "no_package", "not_loaded" or "driver_error", with the driver's
    `error`), "driver_mismatch" (`error`), "driver_hung" (`cause` "timeout" or "earlier", `seconds` waited),
    "visibility" (`cause` "no_match": `setting`, its first `entry` naming no card, the cards still `visible`;
    or "empty"). A fleet: "stale" (`host`, `seconds`: the age limit), "host_down" (`host`: the instance).
    What plans read: "calibration_unreadable" and "history_unreadable" (`error`), "calibration_outdated"
    (`device`, `date`), "local_fallback" (`error`: why Prometheus could not be used).
    """

    kind: str
    cause: str | None = None
    error: str | None = None
    seconds: float | None = None
    visible: int | None = None
    setting: str | None = None
    entry: str | None = None
    host: str | None = None
    device: str | None = None
    date: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The facts (the --json of `qms probe` words them: render/probe.py)."""
        return {"type": self.kind, **{k: v for k, v in self._asdict().items() if k != "kind" and v is not None}}


class Resources(NamedTuple):
    """The snapshot routing uses: devices, system, and what is available for work on the best device."""

    gpus: tuple[Gpu, ...]
    system: System
    source: str  # "nvml" | "simulated" | "none"
    reserve: int
    vram_limit: int | None = None
    machine: str | None = None  # the simulated machine's name
    notices: tuple[Notice, ...] = ()
    ram_reserve: int = RAM_RESERVE

    @property
    def available_ram(self) -> int:
        """Main memory a task can use: available now less the reserve."""
        return max(0, self.system.ram_available - self.ram_reserve)

    def available(self, gpu: Gpu) -> int:
        return gpu.available(self.reserve)

    def idle_available(self, gpu: Gpu) -> int:
        """What a task could use on the card were nothing else on it: its size less the reserve."""
        return max(0, (gpu.total or 0) - self.reserve)

    @property
    def best_gpu(self) -> Gpu | None:
        """The usable device with the most memory available for work (lowest index on a tie)."""
        usable = [g for g in self.gpus if g.usable]
        return max(usable, key=lambda g: (self.available(g), -g.index)) if usable else None

    @property
    def available_vram(self) -> int:
        best = self.best_gpu
        return self.available(best) if best else 0

    @property
    def fingerprint(self) -> str:
        best = self.best_gpu
        return best.fingerprint() if best else self.cpu_fingerprint

    @property
    def cpu_fingerprint(self) -> str:
        """The processor's identity: calibrations of the processor rung are kept under it."""
        return slug(f"cpu {self.system.cpu_model}")

    def as_json(self) -> dict[str, Any]:
        """The snapshot as facts: notices and card problems unworded (render/probe.py's probe_json words them)."""
        best = self.best_gpu
        return {
            "source": self.source,
            "machine": self.machine,
            "fingerprint": self.fingerprint,
            "reserve_bytes": self.reserve,
            "vram_limit_bytes": self.vram_limit,
            "best_gpu": best.index if best else None,
            "available_vram_bytes": self.available_vram,
            "gpus": [_gpu_json(g, self.available(g)) for g in self.gpus],
            "system": {"ram_total_bytes": self.system.ram_total, "ram_available_bytes": self.system.ram_available,
                       "cpu_cores": self.system.cpu_cores, "cpu_threads": self.system.cpu_threads,
                       "cpu_model": self.system.cpu_model, "ram_reserve_bytes": self.ram_reserve,
                       "available_ram_bytes": self.available_ram},
            "notices": [n.as_json() for n in self.notices],
        }


def _gpu_json(g: Gpu, available: int) -> dict[str, Any]:
    return {
        "index": g.index, "nvml_index": g.nvml_index, "uuid": g.uuid, "name": g.name, "status": g.status,
        "problems": [f.as_json() for f in g.problems], "simulated": g.simulated, "mig_parent_uuid": g.mig_parent,
        "memory": {"total_bytes": g.total, "used_bytes": g.used, "free_bytes": g.free, "reserved_bytes": g.reserved,
                   "physical_total_bytes": g.physical_total or g.total, "api": g.memory_api},
        "available_bytes": available,
        "utilization": {"gpu_percent": g.utilization, "memory_percent": g.memory_utilization},
        "driver_version": g.driver_version, "cuda_version": g.cuda_version,
        "processes": None if g.processes is None else [
            {"pid": p.pid, "name": p.name, "used_bytes": p.used_bytes} for p in g.processes],
        "fingerprint": g.fingerprint(),
    }


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
