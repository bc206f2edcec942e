"""Words for what qms found out about the machine and read of it: the probe's notices and card faults, a
fleet's missing machines, calibrations and histories that could not be used, the exporter's refreshes.

The core hands over facts (`qms_cli.hardware.Notice`, `Fault`, the exporter's `Refresh`); these turn them into
the sentences of the catalogue (render/messages). `notice_detail` is the technical line --json and logs carry
beside the sentence, never shown in the plain view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qms_cli.render.messages.bench import calibration_outdated, calibration_unreadable
from qms_cli.render.messages.core import duration
from qms_cli.render.messages.probe import (
    ALL_CARDS_HIDDEN,
    DRIVER_MISMATCH,
    NO_GPU,
    NO_GPU_PACKAGE,
    cards_hidden,
    driver_hung,
    host_down,
    host_stale,
    no_gpu_driver_said,
    prometheus_fallback,
)
from qms_cli.render.messages.runs import EXPORTER_REFRESH_RECOVERED, exporter_refresh_failed, history_unreadable

if TYPE_CHECKING:
    from qms_cli.exporter.metrics import Refresh
    from qms_cli.hardware.resources import Fault, Notice

FIELDS = {"name": "name", "uuid": "id", "memory": "memory", "utilization": "utilisation"}


def notice(n: Notice) -> str:
    """The sentence people read for a notice."""
    kind = n.kind
    if kind == "no_gpu":
        if n.cause == "no_package":
            return NO_GPU_PACKAGE
        return no_gpu_driver_said(_text(n.error)) if n.cause == "driver_error" else NO_GPU
    if kind == "driver_mismatch":
        return DRIVER_MISMATCH
    if kind == "driver_hung":
        return driver_hung(duration(_seconds(n.seconds)))
    if kind == "visibility":
        return ALL_CARDS_HIDDEN if n.cause == "empty" else cards_hidden(n.visible or 0)
    if kind == "stale":
        return host_stale(_text(n.host))
    if kind == "host_down":
        return host_down(_text(n.host))
    if kind == "calibration_unreadable":
        return calibration_unreadable(_text(n.error))
    if kind == "calibration_outdated":
        return calibration_outdated(_text(n.device), _text(n.date))
    if kind == "history_unreadable":
        return history_unreadable(_text(n.error))
    if kind == "local_fallback":
        return prometheus_fallback(_text(n.error))
    raise ValueError(f"no words for a notice of kind {kind!r}")


def notice_detail(n: Notice) -> str | None:
    """The technical line beside the sentence (for --json and logs), or None."""
    kind = n.kind
    if kind == "no_gpu" and n.cause == "no_driver":
        return "no NVIDIA driver files (/proc/driver/nvidia, /dev)"
    if kind == "no_gpu" and n.cause == "no_package":
        return "nvidia-ml-py is not installed"
    if kind in ("no_gpu", "driver_mismatch"):
        return f"nvmlInit: {n.error}"
    if kind == "driver_hung":
        if n.cause == "earlier":
            return "an earlier NVML call has not returned"
        return f"NVML did not return within {_seconds(n.seconds):g} s"
    if kind == "visibility":
        if n.cause == "empty":
            return "CUDA_VISIBLE_DEVICES is empty"
        return f"CUDA_VISIBLE_DEVICES={n.setting!r}: {n.entry!r} names no device; it and later entries are ignored"
    if kind == "stale":
        return f"no sample newer than {_seconds(n.seconds):.0f} s"
    if kind == "host_down":
        return f"up == 0 for {n.host}"
    return None


def notice_json(n: Notice) -> dict[str, Any]:
    """A notice as --json shows it: its kind, the sentence and the technical detail."""
    return {"type": n.kind, "message": notice(n), "detail": notice_detail(n)}


def notices(found: list[Notice] | tuple[Notice, ...]) -> list[str]:
    """Each notice's sentence, in order."""
    return [notice(n) for n in found]


def fault(f: Fault) -> str:
    """What went wrong with one card, in the words of its table row ("unavailable: ..." is added there)."""
    if f.kind == "lost":
        return "the card stopped responding"
    if f.kind == "driver_error":
        return f"the driver reported: {f.error}"
    if f.kind == "unreadable":
        return f"could not read its {FIELDS.get(f.field or '', f.field)} ({f.error})"
    raise ValueError(f"no words for a card fault of kind {f.kind!r}")


def faults(found: tuple[Fault, ...]) -> str:
    """A card's faults on one line."""
    return "; ".join(fault(f) for f in found)


def refresh(event: Refresh) -> str:
    """The exporter's one line when refreshing the numbers fails (once per kind), or works again."""
    if event.kind == "recovered":
        return EXPORTER_REFRESH_RECOVERED
    return exporter_refresh_failed(_text(event.problem))


def _text(value: str | None) -> str:
    return "" if value is None else value


def _seconds(value: float | None) -> float:
    return 0.0 if value is None else value
