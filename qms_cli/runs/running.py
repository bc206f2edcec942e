"""`qms run`: hand a plan to the studio's command, run it, watch its graphics memory, and record the run.

The command gets the plan's essentials as environment variables and the whole plan as a JSON file; it runs
without a shell, its output streams through (stderr is read line by line to notice out-of-memory errors), and
it runs in a process group of its own, and Ctrl-C, SIGTERM and SIGHUP sent to qms are passed on to that group.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from qms_cli.errors import UsageError
from qms_cli.plan.manager import Plan

OOM = re.compile(r"out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED", re.IGNORECASE)


class RunResult(NamedTuple):
    exit_code: int
    seconds: float
    peak_bytes: int | None
    outcome: str  # ok | failed | oom | cancelled
    started_at: str
    finished_at: str


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def environment(plan: Plan, plan_file: Path, base: dict[str, str]) -> dict[str, str]:
    """The essentials of the plan, for a command that does not read JSON."""
    r = plan.route.chosen
    c, p = r.config, r.prediction
    device = "cpu" if r.on_cpu or r.device is None else f"cuda:{r.device.index}"
    return {**base, "QMS_PLAN": str(plan_file), "QMS_FUNCTION": plan.route.function, "QMS_TIER": r.tier.id,
            "QMS_MODEL": c.model, "QMS_RESOLUTION": str(c.resolution), "QMS_WIDTH": str(p.width),
            "QMS_HEIGHT": str(p.height), "QMS_STEPS": str(c.steps or ""), "QMS_FRAMES": str(c.frames or ""),
            "QMS_COUNT": str(plan.task.count), "QMS_OPTIONS": " ".join(c.options), "QMS_DEVICE": device}


FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def execute(argv: list[str], env: dict[str, str], gpu_index: int | None,
            stop: threading.Event | None = None, spawn: dict[str, Any] | None = None,
            on_start: Any = None, *, forward_signals: bool = False) -> RunResult:
    """Run the command to its end (or until Ctrl-C, or until `stop` is set), sampling the graphics memory it
    adds. The command runs in a process group of its own; forward_signals: SIGINT, SIGTERM and SIGHUP sent to
    qms go to that whole group (issue 15). A stopped or signalled run is "cancelled", exit code 128 + signal.
    `spawn`: more Popen options (the queue's worker: death with the worker, no terminal input); `on_start(pid)`
    is called once the command runs."""
    from qms_cli.hardware.nvml import MemorySampler

    started, t0 = now(), time.perf_counter()
    sampler = MemorySampler(gpu_index or 0)
    oom = threading.Event()
    received: list[int] = []
    previous = _catch(received) if forward_signals else {}
    try:
        try:
            proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, **{"process_group": 0, **(spawn or {})})
        except FileNotFoundError:
            raise UsageError(f"{argv[0]!r} was not found; give the command after --, e.g. "
                             "qms run -- python generate.py") from None
        except PermissionError:
            raise UsageError(f"{argv[0]!r} cannot be run (permission denied)") from None
        tee = threading.Thread(target=_tee, args=(proc.stderr, oom), daemon=True)
        tee.start()
        if on_start is not None:
            on_start(proc.pid)
        with sampler if gpu_index is not None else contextlib.nullcontext():
            try:
                code = _wait(proc, stop, received)
            except KeyboardInterrupt:
                received.append(signal.SIGINT)
                code = None
            cancelled = code is None
            if code is None:
                code = _stop(proc, received)
        tee.join(timeout=5)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    seconds = time.perf_counter() - t0
    if cancelled and received:
        outcome, code = "cancelled", 128 + received[0]
    elif cancelled:
        outcome, code = "cancelled", 130
    elif code == 0:
        outcome = "ok"
    else:
        outcome = "oom" if oom.is_set() else "failed"
    return RunResult(code, seconds, sampler.peak if gpu_index is not None else None, outcome, started, now())


def _catch(received: list[int]) -> dict[int, Any]:
    """Note SIGINT, SIGTERM and SIGHUP instead of dying of them (the main thread only: signals arrive there)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def note(number: int, _frame: Any) -> None:
        received.append(number)

    return {number: signal.signal(number, note) for number in FORWARDED}


def _wait(proc: subprocess.Popen[bytes], stop: threading.Event | None, received: list[int]) -> int | None:
    """The command's exit code, or None if `stop` was set or a signal came first."""
    while not received and not (stop is not None and stop.is_set()):
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
    return None


def _tee(stream: Any, oom: threading.Event) -> None:
    """Copy the command's stderr to ours as it comes, noticing out-of-memory errors."""
    out = sys.stderr.buffer
    for line in iter(stream.readline, b""):
        out.write(line)
        out.flush()
        if OOM.search(line.decode("utf-8", "replace")):
            oom.set()
    stream.close()


def _signal_group(proc: subprocess.Popen[bytes], number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(proc.pid, number)


def _stop(proc: subprocess.Popen[bytes], received: list[int]) -> int:
    """Pass the signal (SIGINT when stopped) on to the command's group, give it time to stop, then insist; a
    second signal to qms insists at once."""
    _signal_group(proc, received[0] if received else signal.SIGINT)
    seen = len(received)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline and len(received) == seen:
            try:
                code = proc.wait(timeout=0.2)
                _signal_group(proc, signal.SIGKILL)  # what the command left behind in its group
                return code
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    _signal_group(proc, signal.SIGKILL)
    return proc.wait()




def row(plan: Plan, result: RunResult | None, *, project: str | None, fingerprint: str, proceeded: bool | None,
        source: str = "run") -> dict[str, Any]:
    """A history row for a planned task and what happened (None: it was not run)."""
    r = plan.route.chosen
    c, p = r.config, r.prediction
    key = plan_config_key(plan)
    return {
        "started_at": result.started_at if result else now(), "finished_at": result.finished_at if result else None,
        "project": project, "node": plan.task.node, "function": plan.route.function,
        "requested": plan.route.requested.id, "chosen": r.tier.id, "model": c.model, "resolution": c.resolution,
        "steps": c.steps, "frames": c.frames, "count": plan.task.count, "options": " ".join(c.options),
        "config_key": key, "device": "cpu" if r.on_cpu or r.device is None else f"gpu:{r.device.index}",
        "fingerprint": fingerprint, "model_seconds": p.model_seconds or p.seconds, "predicted_low": p.low,
        "predicted": p.seconds, "predicted_high": p.high, "predicted_peak": p.peak,
        "actual_seconds": result.seconds if result else None, "actual_peak": result.peak_bytes if result else None,
        "outcome": result.outcome if result else "cancelled", "exit_code": result.exit_code if result else None,
        "fallback": int(plan.fallback), "proceeded": None if proceeded is None else int(proceeded), "source": source,
    }


def plan_config_key(plan: Plan) -> str:
    """The identity of the configuration a plan chose (as the history keys it)."""
    from qms_cli.estimate.candidate import Candidate
    from qms_cli.estimate.learning import config_key

    r = plan.route.chosen
    return config_key(Candidate(r.tier, plan.route.function, r.config, r.on_cpu))


def plan_file(document: str) -> Path:
    """Write the plan JSON where the command can read it (removed by the caller when the run ends)."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix="qms-plan-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(document)
    return Path(name)
