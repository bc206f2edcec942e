"""Who holds a claim, and whether they still live: the worker and its runner, by process id and start time on
one boot of one host (Linux's /proc; elsewhere nothing can be checked and the lease's time decides).

A runner runs in a process group of its own and, on Linux, gets SIGKILL when its worker dies (the
parent-death signal), so it cannot outlive the worker. A stale claim whose worker or runner still lives on
this host is not handed out again; a runner whose worker is gone is ended first.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

_PROC = Path("/proc")
_PR_SET_PDEATHSIG = 1


def boot_id() -> str | None:
    """This boot of this host (a process id and start time mean something only within one boot)."""
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields from the state on (field 3), or None if there is no such process."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    return text.rsplit(")", 1)[1].split()


def started(pid: int) -> int | None:
    """When the process started (clock ticks since boot), or None if it is not there."""
    fields = _stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _live(pid: int, start: int) -> bool:
    """The same process (not a zombie, not a later one given the same id)."""
    fields = _stat(pid)
    return fields is not None and len(fields) > 19 and fields[0] != "Z" and int(fields[19]) == start


def _group_live(pgid: int) -> bool:
    """Some process of group `pgid` is still running (zombies aside)."""
    try:
        entries = [e.name for e in _PROC.iterdir() if e.name.isdigit()]
    except OSError:
        return False
    for name in entries:
        fields = _stat(int(name))
        if fields and len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def claim_of(runner: int | None = None) -> str | None:
    """The lease as stored: this boot, the worker (this process) and its runner (a group leader), or None
    where processes cannot be checked."""
    boot = boot_id()
    me = started(os.getpid())
    if boot is None or me is None:
        return None
    lease: dict[str, Any] = {"host": socket.gethostname(), "boot": boot, "worker": [os.getpid(), me]}
    if runner is not None:
        start = started(runner)
        if start is not None:
            lease["runner"] = [runner, start]
    return json.dumps(lease, separators=(",", ":"))


def parse(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        lease = json.loads(text)
    except ValueError:
        return None
    return lease if isinstance(lease, dict) else None


def holder_lives(text: str | None) -> bool:
    """Whether a stale claim must stay where it is: its worker or its runner still lives on this host (boot).
    A runner left behind by a dead worker is ended here (SIGKILL to its group); the claim is then free."""
    lease = parse(text)
    if lease is None or lease.get("boot") != boot_id():
        return False  # another host, another boot, or nothing recorded: the lease's time decides
    try:
        worker_pid, worker_start = (int(v) for v in lease["worker"])
        runner = [int(v) for v in lease["runner"]] if "runner" in lease else None
    except (KeyError, TypeError, ValueError):
        return False
    if _live(worker_pid, worker_start):
        return True  # the worker lives (a database outage kept it from heartbeating): its run is its own
    if runner is None:
        return False
    pgid, start = runner
    leader = _stat(pgid)
    if (leader is None or leader[0] == "Z" or started(pgid) == start) and _group_live(pgid):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
        return _group_live(pgid)
    return False


def spawn_options() -> dict[str, Any]:
    """subprocess.Popen options for a runner: its own process group and, on Linux, death with its worker.
    No terminal input: a queued task has nobody to ask (and a background group reading one would stop)."""
    import subprocess

    options: dict[str, Any] = {"process_group": 0, "stdin": subprocess.DEVNULL}
    prctl = _prctl()
    if prctl is not None:
        parent = os.getpid()

        def die_with_worker() -> None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the worker died before the signal was set
                os._exit(137)
        options["preexec_fn"] = die_with_worker
    return options


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up before any fork (a child must not load libraries), or None off Linux."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return fn
    except (OSError, AttributeError):
        return None
