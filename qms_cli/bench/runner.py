"""`qms bench --runner 'CMD {resolution} {steps} ...'`: time the studio's own generation command per tier and
function, sampling the graphics memory it adds through NVML. Placeholders are substituted in each argument;
no shell is involved.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from qms_cli.errors import UsageError
from qms_cli.values import Value

PLACEHOLDERS = ("tier", "function", "model", "resolution", "width", "height", "steps", "frames", "options", "count")


@dataclass(frozen=True, eq=False, repr=False)
class RunnerResult(Value):
    tier: str
    function: str
    seconds: float
    peak_bytes: int | None
    exit_code: int
    predicted_seconds: float
    argv: tuple[str, ...]


LISTS = ("options",)  # placeholders that stand for a list: one argument per item, none when empty


def command(template: str, values: dict[str, Any]) -> list[str]:
    """The argument list: the template split as a shell would, then each argument's {placeholders} filled. An
    argument holding a list placeholder ({options}) is repeated once per item ("{options}" -> "--lowvram",
    "tiled"; "--opt={options}" -> "--opt=--lowvram", "--opt=tiled"), and left out when the list is empty."""
    try:
        parts = shlex.split(template)
    except ValueError as e:
        raise UsageError(f"--runner {template!r} does not parse ({e})") from None
    if not parts:
        raise UsageError("--runner needs a command, e.g. --runner 'python gen.py {resolution} {steps}'")
    out = []
    for part in parts:
        named = [name for name in LISTS if "{" + name + "}" in part]
        try:
            part.format(**(values | {name: "" for name in named}))  # every placeholder known, even if repeated 0 times
        except (KeyError, IndexError, ValueError) as e:
            raise UsageError(f"--runner: {part!r} names an unknown placeholder ({e}); "
                             f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}") from None
        if named:
            out += [part.format(**(values | {named[0]: item})) for item in values[named[0]]]
        else:
            out.append(part.format(**values))
    return out


def run_one(argv: list[str], gpu_index: int | None, timeout: float | None) -> tuple[float, int | None, int]:
    """(seconds, peak bytes added on the card, exit code) of one run of the command."""
    from qms_cli.hardware.nvml import MemorySampler

    sampler = MemorySampler(gpu_index or 0)
    start = time.perf_counter()
    try:
        with sampler:
            code = subprocess.run(argv, stdin=subprocess.DEVNULL, timeout=timeout).returncode
    except FileNotFoundError:
        raise UsageError(f"--runner: {argv[0]!r} was not found") from None
    except subprocess.TimeoutExpired:
        code = 124
    return time.perf_counter() - start, sampler.peak if gpu_index is not None else None, code


def run_all(qm: Any, template: str, tiers: list[Any], functions: list[str], timeout: float | None,
            progress: Any) -> tuple[list[RunnerResult], bool]:
    """Run the command once per tier and function (as each tier maps it); (results, interrupted)."""
    res = qm.resources
    gpu = res.best_gpu.index if res.best_gpu else None
    pairs = [(t, f) for t in tiers for f in functions]
    out: list[RunnerResult] = []
    try:
        from qms_cli.estimate.candidate import Candidate
        from qms_cli.plan.ladder import as_mapped

        for i, (tier, fn) in enumerate(pairs, start=1):
            # The configuration as the tier maps it, predicted where it will run: the card, else the processor.
            mapped = Candidate(tier, fn, as_mapped(tier, fn, qm.catalog.models), cpu=gpu is None)
            rung = qm.router.rung(mapped, 1)
            c, p = rung.config, rung.prediction
            values = {"tier": tier.id, "function": fn, "model": c.model, "resolution": c.resolution,
                      "width": p.width, "height": p.height, "steps": c.steps, "frames": c.frames or "",
                      "options": list(c.options), "count": 1}
            argv = command(template, values)
            seconds, peak, code = run_one(argv, gpu, timeout)
            out.append(RunnerResult(tier=tier.id, function=fn, seconds=seconds, peak_bytes=peak, exit_code=code,
                                    predicted_seconds=p.seconds, argv=tuple(argv)))
            progress(i, len(pairs), {"kind": "runner", "tier": tier.id, "function": fn},
                     {"status": "ok" if code == 0 else "error", "seconds": seconds})
    except KeyboardInterrupt:
        return out, True
    return out, False
