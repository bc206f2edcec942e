"""A model-shaped bench: run the worker, turn its results into samples, fit, evaluate, calibrate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from qms_cli import __version__
from qms_cli.bench.suite import LAYERS, Sizes, jobs
from qms_cli.calibration import Calibration, Sample, band_for, errors, fit, median, percentile, predicted
from qms_cli.catalog import Catalog
from qms_cli.errors import DataError
from qms_cli.predict import step_work
from qms_cli.values import Value

HEAD_DIM = 128
Progress = Callable[[int, int, dict[str, Any], dict[str, Any] | None], None]


@dataclass(frozen=True, eq=False, repr=False)
class Evaluation(Value):
    """A held-out measurement against the fitted model's prediction."""

    kind: str
    family: str
    tier: str | None
    function: str | None
    size: str
    predicted: float
    measured: float

    @property
    def error(self) -> float:
        return abs(self.predicted - self.measured) / self.measured


@dataclass(frozen=True, eq=False, repr=False)
class BenchResult(Value):
    calibration: Calibration | None
    evaluations: tuple[Evaluation, ...]
    failures: tuple[str, ...]  # jobs that ran out of memory or failed, in words
    interrupted: bool
    measured: int


def require_torch() -> None:
    """torch and diffusers, or a DataError saying how to get them."""
    import importlib.util

    missing = [m for m in ("torch", "diffusers") if importlib.util.find_spec(m) is None]
    if missing:
        raise DataError(f"qms bench needs {' and '.join(missing)} for its model-shaped work: "
                        "pip install 'qms-cli[bench]' (or measure your own command with --runner)")


def run_worker(request: dict[str, Any], total: int, progress: Progress) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                                 bool]:
    """(results, hello, interrupted): results as the worker reports them, one per finished job."""
    proc = subprocess.Popen([sys.executable, "-m", "qms_cli.bench.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(request))
    proc.stdin.close()
    results: list[dict[str, Any]] = []
    hello: dict[str, Any] = {}
    by_id = {j["id"]: j for j in request["jobs"]}
    interrupted = False
    try:
        for line in proc.stdout:
            data = json.loads(line)
            if "hello" in data:
                hello = data["hello"]
                continue
            results.append(data)
            progress(len(results), total, by_id[data["id"]], data)
        proc.wait()
    except KeyboardInterrupt:
        interrupted = True
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    err = proc.stderr.read().strip()
    if not interrupted and proc.returncode not in (0, 130) and not results:
        raise DataError(f"the bench worker failed: {err.splitlines()[-1] if err else proc.returncode}")
    return results, hello, interrupted


def samples_of(catalog: Catalog, job_list: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[Sample]:
    """Samples (with their flops, worked out as the estimator works them out) of the jobs that ran."""
    by_id = {j["id"]: j for j in job_list}
    families = catalog.models.families
    out = []
    for r in results:
        job = by_id[r["id"]]
        if r["status"] != "ok":
            continue
        family = families[job["family"]]
        detail: dict[str, Any] = {k: job[k] for k in ("heads", "tokens", "text_tokens", "side", "frames") if k in job}
        detail.update({k: r[k] for k in ("repeats", "spread", "peak_bytes", "params") if k in r})
        if job["kind"] == "step":
            hidden = job["heads"] * HEAD_DIM
            tokens = r["tokens"]
            attention = tokens + job["text_tokens"] if family.joint_text else tokens
            lin, attn = step_work(r["params"], sum(LAYERS[job["family"]]), hidden, attention, tokens,
                                  job["text_tokens"], family.joint_text)
            out.append(Sample("step", job["family"], r["seconds"], lin, attn, hidden, 0.0, job["fit"], job["tier"],
                              job["function"], detail))
        else:
            flops = family.decode_flops_per_pixel * job["side"] ** 2 * job["frames"]
            out.append(Sample("decode", job["family"], r["seconds"], decode=flops, fit=job["fit"], tier=job["tier"],
                              function=job["function"], detail=detail))
    return out


def model_shaped(catalog: Catalog, sizes: Sizes, *, evaluate: bool, threads: int, device: str, dtype: str,
                 fingerprint: str, vram_limit: int | None, progress: Progress,
                 families: list[str] | None = None) -> BenchResult:
    """Measure, fit and evaluate; the calibration is built even from an interrupted run, if it can be."""
    require_torch()
    job_list = jobs(catalog, sizes, evaluate, families)
    request = {"config": {"threads": threads, "device": device, "dtype": dtype, "cap_s": sizes.cap_s,
                          "vram_limit": vram_limit}, "jobs": job_list}
    results, hello, interrupted = run_worker(request, len(job_list), progress)
    failures = tuple(f"{_describe(next(j for j in job_list if j['id'] == r['id']))}: "
                     f"{'out of memory' if r['status'] == 'oom' else r.get('message', 'failed')}"
                     for r in results if r["status"] != "ok")
    samples = samples_of(catalog, job_list, results)
    try:
        coefficients = fit(samples)
    except ValueError:
        return BenchResult(None, (), failures, interrupted, len(results))
    held = [s for s in samples if not s.fit]
    judged = held or [s for s in samples if s.fit]
    errs = errors(coefficients, judged)
    p90 = percentile(errs, 0.9)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    cal = Calibration(fingerprint, hello.get("device", device), now, __version__, hello.get("torch"), threads,
                      dtype, coefficients, median(errs), p90, band_for(p90), tuple(samples), {}, None, interrupted)
    evaluations = tuple(Evaluation(s.kind, s.family, s.tier, s.function, _size(s), predicted(coefficients, s),
                                   s.seconds) for s in held if s.family in coefficients)
    return BenchResult(cal, evaluations, failures, interrupted, len(results))


def _size(s: Sample) -> str:
    d = s.detail or {}
    if s.kind == "decode":
        return f"{d.get('side')}px" + (f" x {d['frames']} frames" if d.get("frames", 1) > 1 else "")
    return f"{d.get('heads', 0) * HEAD_DIM} wide, {d.get('tokens')}+{d.get('text_tokens')} tokens"


def _describe(job: dict[str, Any]) -> str:
    if job["kind"] == "decode":
        return f"{job['family']} decoder at {job['side']}px"
    return f"{job['family']} step, {job['heads'] * HEAD_DIM} wide, {job['tokens']} tokens"
