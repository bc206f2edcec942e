"""NVML under a time limit: a wedged driver blocks nvmlInit (or any call) for ever; qms waits so long, then
reports the cards unavailable and goes on (issue 15). Wraps nvml.read without changing it.

The read runs in a daemon thread (a thread stuck in the driver cannot be stopped, and must not keep qms alive
at exit). While one is still stuck, no other is started: a long-running exporter does not pile up threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from qms_cli.hardware.resources import Notice

if TYPE_CHECKING:
    from qms_cli.hardware.nvml import Reading

DEFAULT_SECONDS = 10.0
_stuck: list[threading.Thread] = []  # the read still inside the driver, if any


def limit() -> float:
    """Seconds to wait for the driver: $QMS_NVML_TIMEOUT, default 10."""
    from qms_cli.env import seconds

    return seconds("QMS_NVML_TIMEOUT", DEFAULT_SECONDS, minimum=0.1, maximum=3600.0)


def read(seconds: float | None = None) -> Reading:
    """nvml.read(), or no devices and a "driver_hung" notice when the driver does not answer in time."""
    import qms_cli.hardware.nvml as nvml  # not `from qms_cli.hardware import`: the package imports this module

    wait = limit() if seconds is None else seconds
    if _stuck and _stuck[0].is_alive():
        return _hung(wait, "earlier")
    _stuck.clear()
    box: list[Reading] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            box.append(nvml.read())
        except BaseException as e:  # handed to the caller's thread
            failure.append(e)

    thread = threading.Thread(target=work, name="qms-nvml", daemon=True)
    thread.start()
    thread.join(wait)
    if thread.is_alive():
        _stuck.append(thread)
        return _hung(wait, "timeout")
    if failure:
        raise failure[0]
    return box[0]


def _hung(wait: float, cause: str) -> Reading:
    """cause: "timeout" (this read waited `wait` s) or "earlier" (an earlier read is still inside the driver)."""
    from qms_cli.hardware.nvml import Reading

    return Reading([], [Notice("driver_hung", cause=cause, seconds=wait)])
