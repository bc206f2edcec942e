"""What `qms bench` does with its options: measure (model-shaped work or --runner), calibrate, save, report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from qms_cli.cli.common import Settings
from qms_cli.errors import UsageError


def run_bench(settings: Settings, quick: bool, evaluate: bool, functions: list[str], runner: str | None,
              timeout: float | None,
              threads: int | None, device: str, vram_limit: str | None, report: Path | None, output: Path | None,
              as_json: bool, isolate: bool | None = None, rungs: bool = False) -> None:
    import typer

    from qms_cli.estimate import calibration, calibration_file
    from qms_cli.plan.manager import QualityManager
    from qms_cli.render import bench as view
    from qms_cli.units import parse_size

    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"--device {device!r}: choose auto, cpu or cuda")
    qm = QualityManager.from_project(profiles=settings.profiles, vram_limit=None)
    res = qm.resources
    has_card = res.source == "nvml" and res.best_gpu is not None
    use_cuda = device == "cuda" or (device == "auto" and has_card)
    if use_cuda and not has_card:
        raise UsageError("--device cuda: this machine has no NVIDIA graphics card qms can use")
    limit = parse_size(vram_limit, what="--vram-limit") if vram_limit else None
    if rungs and runner is not None:
        raise UsageError("--rungs and --runner measure different things: choose one")
    if rungs and limit is None and not use_cuda:
        raise UsageError("--rungs on the processor needs --vram-limit: the graphics card size to check qms's "
                         "choices against, e.g. --vram-limit 12GB")
    if limit is not None and not use_cuda and not rungs:
        raise UsageError("--vram-limit caps a graphics card's memory while benchmarking; this run uses the "
                         "processor (to plan for a smaller card, use --vram-limit with qms plan)")
    fingerprint = res.best_gpu.fingerprint() if use_cuda and res.best_gpu else res.cpu_fingerprint
    tiers = qm.catalog.tiers
    names = [tiers.function(f) for f in functions] or tiers.functions
    families = sorted({qm.catalog.models.models[t.mappings[f].model].family for t in tiers.tiers for f in names})
    n_threads = threads or res.system.cpu_cores
    existing = calibration_file.load(fingerprint)
    progress = view.progress(as_json)
    outcome: Any
    too_fast: list[Any] = []  # --runner runs too fast to be real
    with progress:
        if rungs:
            from qms_cli.bench.rungs import rung_truth

            planner = QualityManager.from_project(profiles=settings.profiles, vram_limit=vram_limit) if limit else qm
            # bf16 on the processor too: its bytes stand in for the card's.
            outcome = rung_truth(planner, [t.id for t in tiers.tiers], names, threads=n_threads,
                                 device="cuda:0" if use_cuda else "cpu", dtype="bfloat16",
                                 progress=progress.update, isolate=use_cuda if isolate is None else isolate)
            interrupted = outcome.interrupted
            # On a card, what the full-size runs needed becomes the memory margin plans use here (raised only).
            cal = _with_margin(existing, fingerprint, res, outcome.margin, interrupted) if use_cuda else None
        elif runner is not None:
            from qms_cli.bench.runner import run_all

            results, interrupted = run_all(qm, runner, list(tiers.tiers), names, timeout, progress.update)
            too_fast = calibration.implausible(results)
            cal = None if too_fast else _with_runner(existing, fingerprint, res, results, interrupted)
            outcome = view.RunnerOutcome(results, interrupted)
        else:
            from qms_cli.bench.session import model_shaped
            from qms_cli.bench.suite import FULL, QUICK

            result = model_shaped(qm.catalog, QUICK if quick else FULL, evaluate=evaluate, threads=n_threads,
                                  device="cuda:0" if use_cuda else "cpu", dtype="bfloat16" if use_cuda else "float32",
                                  fingerprint=fingerprint, vram_limit=limit, progress=progress.update,
                                  families=families, isolate=use_cuda if isolate is None else isolate,
                                  card_bytes=_card_bytes(res, limit) if use_cuda else 0)
            cal = result.calibration
            if cal is not None and existing is not None:
                cal = replace(cal, configurations=existing.configurations,
                              memory_margin=_larger(cal.memory_margin, existing.memory_margin))
            interrupted, outcome = result.interrupted, result
    saved, problem = calibration_file.save_or_keep(cal, output) if cal is not None else (None, None)
    if report is not None:
        from qms_cli.render.bench_report import write_report

        write_report(report, outcome, cal)
    if as_json:
        view.emit_json_result(outcome, cal, saved)
    else:
        view.show(outcome, cal, saved, report)
    if interrupted:
        if problem is not None:
            import sys

            from qms_cli.render import messages as m

            sys.stderr.write(m.calibration_not_saved(problem, str(saved) if saved else None) + "\n")
        raise typer.Exit(130)
    _refusals(too_fast, cal, saved, problem, as_json)


def _refusals(too_fast: list[Any], cal: Any, saved: Path | None, problem: str | None, as_json: bool) -> None:
    """Exit 1 when the measurements were not saved as this machine's calibration: implausible runs, or a folder
    that cannot be written (the measurements are then kept elsewhere, or printed)."""
    from qms_cli.errors import DataError
    from qms_cli.render import messages as m

    if too_fast:
        r = too_fast[0]
        raise DataError(m.runner_implausible(len(too_fast), f"{r.tier}, {r.function}", m.duration(r.seconds),
                                             m.duration(r.predicted_seconds)))
    if problem is None:
        return
    if saved is None and not as_json:  # --json output holds the calibration already
        import json
        import sys

        sys.stdout.write(json.dumps(cal.as_json(), indent=1) + "\n")
    raise DataError(m.calibration_not_saved(problem, str(saved) if saved else None))


def _with_runner(existing: Any, fingerprint: str, res: Any, results: list[Any], interrupted: bool) -> Any:
    """The stored calibration with the runner's whole-task measurements added (or a new one holding them)."""
    configurations = dict(existing.configurations) if existing else {}
    for r in results:
        configurations[f"{r.tier}/{r.function}"] = {"seconds": round(r.seconds, 4), "peak_bytes": r.peak_bytes,
                                                     "predicted_seconds": round(r.predicted_seconds, 4),
                                                     "exit_code": r.exit_code}
    if existing is not None:
        return replace(existing, configurations=configurations, partial=existing.partial or interrupted)
    return replace(_new_calibration(fingerprint, res, interrupted, "runner"), configurations=configurations)


def _with_margin(existing: Any, fingerprint: str, res: Any, margin: float | None, interrupted: bool) -> Any:
    """The stored calibration with its memory margin raised to what --rungs measured (None: nothing to save)."""
    if margin is None or (existing is not None and (existing.memory_margin or 0) >= margin):
        return None
    return replace(existing or _new_calibration(fingerprint, res, interrupted, "bfloat16"), memory_margin=margin)


def _new_calibration(fingerprint: str, res: Any, interrupted: bool, precision: str) -> Any:
    """A calibration holding no speeds yet (what --runner or --rungs measured is added to it)."""
    from datetime import datetime, timezone

    from qms_cli import __version__
    from qms_cli.estimate.calibration import Calibration, band_for

    device = res.best_gpu.name if res.best_gpu else "processor"
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Calibration(fingerprint=fingerprint, device=device, date=now, qms_version=__version__, torch_version=None,
                       threads=res.system.cpu_cores, precision=precision, fit=None, median_error=0.0, p90_error=0.0,
                       band=band_for(0.0), samples=(), configurations={}, memory_margin=None, partial=interrupted)


def _larger(a: float | None, b: float | None) -> float | None:
    return max((x for x in (a, b) if x is not None), default=None)


def _card_bytes(res: Any, limit: int | None) -> int:
    """What the best card has free for full-size work (within --vram-limit)."""
    free = int(res.best_gpu.free) if res.best_gpu else 0
    return min(free, limit) if limit else free
