"""Main memory and processor of this machine.

On Linux they come straight from /proc (the files psutil itself reads), which keeps psutil's ~11 ms import
off `qms probe`; elsewhere psutil answers. `QMS_MAIN_MEMORY=64GB` plans as if the machine had that much main
memory, all of it available (as `VRAM_LIMIT` simulates a card on a machine without one).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path

from qms_cli.hardware.resources import System

PROC = Path("/proc")


def read_system(environ: Mapping[str, str] | None = None) -> System:
    system = _linux() if sys.platform.startswith("linux") and (PROC / "meminfo").is_file() else _psutil()
    given = (os.environ if environ is None else environ).get("QMS_MAIN_MEMORY")
    if given:
        from qms_cli.units import parse_size

        size = parse_size(given, what="QMS_MAIN_MEMORY")
        return system._replace(ram_total=size, ram_available=size)
    return system


def _threads() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours taskset and container CPU sets
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _linux() -> System:
    mem = {}
    for line in (PROC / "meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if parts:
            mem[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    available = mem.get("MemAvailable", mem.get("MemFree", 0) + mem.get("Cached", 0))
    model, cores = "", set()
    try:
        physical = core = ""
        for line in (PROC / "cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name" and not model:
                model = value
            elif key == "physical id":
                physical = value
            elif key == "core id":
                core = value
                cores.add((physical, core))
    except OSError:
        pass
    threads = _threads()
    return System(mem.get("MemTotal", 0), available, min(len(cores), threads) if cores else threads, threads,
                  model or platform.processor() or platform.machine())


def _psutil() -> System:
    import psutil

    vm = psutil.virtual_memory()
    threads = _threads()
    cores = psutil.cpu_count(logical=False) or threads
    return System(int(vm.total), int(vm.available), min(cores, threads), threads,
                  platform.processor() or platform.machine())
