"""The machine's resources: real GPUs through NVML, or simulated ones. `probe()` is the Python API."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from qms_cli.hardware.resources import Fault, Gpu, GpuProcess, Notice, Resources, System
from qms_cli.units import GIB, parse_size

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog

__all__ = ["DEFAULT_RESERVE", "Fault", "Gpu", "GpuProcess", "Notice", "Resources", "System", "probe"]

DEFAULT_RESERVE = 2 * GIB


def _size(value: int | str | None, what: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return parse_size(value, what=what)


def probe(vram_limit: int | str | None = None, reserve: int | str | None = None, hardware: str | None = None,
          catalog: Catalog | None = None, environ: Mapping[str, str] | None = None) -> Resources:
    """What this machine (or a simulated one) offers for work.

    vram_limit: cap on each card's total (default: $VRAM_LIMIT); with no card, simulates one of that size.
    reserve: memory kept free on each card (default 2 GiB). hardware: a simulated machine's name or file.
    """
    env = os.environ if environ is None else environ
    limit = _size(vram_limit, "--vram-limit")
    if limit is None:
        from qms_cli.env import size

        limit = size("VRAM_LIMIT", env)
    keep = _size(reserve, "--reserve")
    keep = DEFAULT_RESERVE if keep is None else keep
    if limit is not None and limit <= 0:
        from qms_cli.errors import UsageError

        raise UsageError(f"the VRAM limit must be more than 0 bytes, not {vram_limit or env.get('VRAM_LIMIT')!r}")
    notices: list[Notice] = []
    machine = None
    if hardware is not None:
        from qms_cli.catalog.load import load_catalog
        from qms_cli.hardware.simulated import from_profile

        devices, system, machine = from_profile(hardware, catalog or load_catalog())
        source = "simulated"
    else:
        from qms_cli.hardware import deadline, nvml
        from qms_cli.hardware.system import read_system
        from qms_cli.hardware.visible import select

        reading = deadline.read() if nvml.driver_present() else nvml.read()
        devices, hidden = select(reading.devices, env.get("CUDA_VISIBLE_DEVICES"))
        notices += reading.notices + hidden
        system = read_system()
        source = "nvml" if reading.devices else "none"
        if not devices and limit is not None:
            from qms_cli.hardware.simulated import one_card

            devices, source = [one_card(limit)], "simulated"
            notices = [n for n in notices if n.kind != "no_gpu"]
    gpus = tuple(g.capped(limit) for g in devices)
    return Resources(gpus, system, source, keep, limit, machine, tuple(notices))
