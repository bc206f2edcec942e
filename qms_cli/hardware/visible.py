"""CUDA_VISIBLE_DEVICES, read the way CUDA reads it: which devices a task will see, in which order.

Entries are NVML indices, GPU UUIDs (a unique prefix is enough) or MIG UUIDs, comma-separated. As in CUDA,
the first entry that names no device hides it and every entry after it; an empty value hides all devices.
Indices assume CUDA_DEVICE_ORDER=PCI_BUS_ID, the order NVML uses.
"""

from __future__ import annotations

from dataclasses import replace

from qms_cli.hardware.resources import Gpu, Notice


def select(devices: list[Gpu], spec: str | None) -> tuple[list[Gpu], list[Notice]]:
    """The visible devices, renumbered as the task will see them, and notices about what was hidden."""
    if spec is None:
        return devices, []
    chosen: list[Gpu] = []
    tokens = [t.strip() for t in spec.split(",")] if spec.strip() else []
    notices: list[Notice] = []
    for token in tokens:
        match = _match(token, devices)
        if match is None or match in chosen:
            notices.append(Notice("visibility", cause="no_match", setting=spec, entry=token, visible=len(chosen)))
            break
        chosen.append(match)
    if not tokens:
        notices.append(Notice("visibility", cause="empty"))
    return [replace(g, index=i) for i, g in enumerate(chosen)], notices


def _match(token: str, devices: list[Gpu]) -> Gpu | None:
    if token.isdigit():
        whole = [g for g in devices if g.mig_parent is None and g.nvml_index == int(token)]
        return whole[0] if whole else None
    if token.startswith(("GPU-", "MIG-")):
        found = [g for g in devices if g.uuid and g.uuid.startswith(token)]
        return found[0] if len(found) == 1 else None
    return None
