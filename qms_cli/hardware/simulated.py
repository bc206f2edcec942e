"""Simulated machines: a hardware profile (profiles/hardware/*.yaml or any YAML file), or one card of a
given size (`--vram-limit 12GB` on a machine without a GPU)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qms_cli.errors import DataError, UsageError
from qms_cli.hardware.resources import Gpu, System
from qms_cli.units import format_size, parse_size

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog


def profile_path(name: str, catalog: Catalog) -> Path:
    """A machine by name from the profiles' hardware/ folders, or a YAML file by path."""
    known = catalog.hardware_files()
    if name in known:
        return known[name]
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    raise UsageError(f"--hardware {name!r} is neither a simulated machine nor a YAML file; "
                     f"machines: {', '.join(sorted(known))}")


def from_profile(name: str, catalog: Catalog) -> tuple[list[Gpu], System, str]:
    """(devices, system, machine name) of a simulated machine, validated like any profile."""
    from qms_cli.catalog.load import read_document, summary
    from qms_cli.catalog.semantics import check_hardware

    path = profile_path(name, catalog)
    data = read_document(path, "hardware")
    problems = check_hardware(data, str(path))
    if problems:
        raise DataError(summary(problems))
    gpus = []
    for i, card in enumerate(data["gpus"]):
        total = parse_size(card["memory_total"])
        used = parse_size(card.get("memory_used", "0GB"))
        gpus.append(Gpu(index=i, nvml_index=i, uuid=f"SIM-{path.stem}-{i}", name=card["name"], total=total,
                        used=used, free=total - used, reserved=0, driver_version=card.get("driver_version"),
                        cuda_version=card.get("cuda_version"), processes=(), simulated=True))
    cores = data["cpu"]["cores"]
    ram = parse_size(data["ram"])
    return gpus, System(ram, ram, cores, cores, data["cpu"]["model"]), data["name"]


def one_card(size: int) -> Gpu:
    """The card `--vram-limit` simulates on a machine without one: all of it free."""
    return Gpu(index=0, name=f"Simulated GPU, {format_size(size).replace('GB', 'GiB')}", uuid="SIM-vram-limit-0",
               total=size, used=0, free=size, reserved=0, processes=(), simulated=True)
