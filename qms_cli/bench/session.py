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
from qms_cli.bench.suite import Sizes, jobs
from qms_cli.catalog.load import Catalog
from qms_cli.errors import DataError
from qms_cli.estimate import memfit
from qms_cli.estimate.calibration import Calibration, Sample, band_for, errors, fit, predicted
from qms_cli.estimate.memfit import MemoryFit, fit_memory
from qms_cli.estimate.predict import step_work
from qms_cli.estimate.stats import median, percentile
from qms_cli.values import Value

WORKLOAD_TEXT_DIM = 256  # workloads.TEXT_DIM (that module imports torch)
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
    option: str | None = None  # a memory option measured next to its twin without it
    predicted_bytes: float | None = None  # peak memory: weights as stored + working memory
    measured_bytes: float | None = None

    @property
    def error(self) -> float:
        return abs(self.predicted - self.measured) / self.measured

    @property
    def memory_error(self) -> float | None:
        """(predicted - measured) / measured peak: negative when memory was under-predicted."""
        if self.predicted_bytes is None or not self.measured_bytes:
            return None
        return (self.predicted_bytes - self.measured_bytes) / self.measured_bytes


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


Results = list[dict[str, Any]]


def run_worker(request: dict[str, Any], total: int, progress: Progress,
               offset: int = 0) -> tuple[Results, dict[str, Any], bool]:
    """(results, hello, interrupted): results as the worker reports them, one per finished job; progress
    counts from `offset` (jobs finished by earlier workers of the same run)."""
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
            progress(offset + len(results), total, by_id[data["id"]], data)
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
        detail: dict[str, Any] = {"id": job["id"]}
        detail.update({k: job[k] for k in ("heads", "tokens", "text_tokens", "side", "frames", "twin")
                       if k in job})
        detail.update({k: r[k] for k in ("repeats", "spread", "work_bytes", "weight_bytes", "params", "process")
                       if k in r})
        if job.get("option"):
            detail["options"] = [job["option"]]  # the memory option measured, as the catalogue names it
        if job["kind"] == "step":
            hidden = job["heads"] * job["head_dim"]
            tokens = r["tokens"]
            attention = tokens + job["text_tokens"] if family.joint_text else tokens
            detail["attention_tokens"] = attention
            lin, attn = step_work(workload_architecture(catalog, job, hidden), family.joint_text, tokens,
                                  job["text_tokens"])
            out.append(Sample(kind="step", family=job["family"], seconds=r["seconds"], lin=lin, attn=attn,
                              hidden=hidden, fit=job["fit"], tier=job["tier"], function=job["function"],
                              detail=detail))
        else:
            if "tiled" in job.get("options", ()):
                detail["tile"] = job.get("tile", job["side"] // 2)  # as the worker tiles it
            flops = family.decode_flops_per_pixel * job["side"] ** 2 * job["frames"]
            out.append(Sample(kind="decode", family=job["family"], seconds=r["seconds"], decode=flops, fit=job["fit"],
                              tier=job["tier"], function=job["function"], detail=detail))
    return out


def workload_architecture(catalog: Catalog, job: dict[str, Any], hidden: int) -> dict[str, float]:
    """The architecture numbers of a model-shaped workload: its family's (embeddings, modulation), at the
    workload's width and depth, reading text as wide as the worker made it (workloads.TEXT_DIM unless set)."""
    base = next(m.architecture for m in catalog.models.models.values() if m.family == job["family"])
    layers = job["layers"]
    return {**base, "hidden": hidden, "ffn": round(hidden * job["ffn_ratio"]), "layers": sum(layers),
            "double_blocks": layers[0] if len(layers) > 1 else 0, "text_dim": job.get("text_dim", WORKLOAD_TEXT_DIM)}


def model_shaped(catalog: Catalog, sizes: Sizes, *, evaluate: bool, threads: int, device: str, dtype: str,
                 fingerprint: str, vram_limit: int | None, progress: Progress,
                 families: list[str] | None = None, isolate: bool = False, card_bytes: int = 0) -> BenchResult:
    """Measure, fit and evaluate; the calibration is built even from an interrupted run, if it can be.
    `isolate`: each model in a worker process of its own (no allocator state carried from one to the next);
    `card_bytes`: the memory free for held-out tiers to run at full size (suite.jobs)."""
    require_torch()
    job_list = jobs(catalog, sizes, evaluate, families, card=device.startswith("cuda"), card_bytes=card_bytes)
    config = {"threads": threads, "device": device, "dtype": dtype, "cap_s": sizes.cap_s, "vram_limit": vram_limit}
    results, hello, interrupted = run_jobs(job_list, config, progress, isolate)
    failures = tuple(f"{_describe(next(j for j in job_list if j['id'] == r['id']))}: "
                     f"{'out of memory' if r['status'] == 'oom' else r.get('message', 'failed')}"
                     for r in results if r["status"] != "ok")
    samples = samples_of(catalog, job_list, results)
    try:
        coefficients = fit(samples)
    except ValueError:
        return BenchResult(calibration=None, evaluations=(), failures=failures, interrupted=interrupted,
                           measured=len(results))
    memory, margin = fit_memory(samples, memfit.MARGIN_SLACK if device.startswith("cuda") else memfit.PROCESSOR_SLACK)
    held = [s for s in samples if not s.fit and not (s.detail or {}).get("options")]
    # Judged: the held-out sizes, and tiled decodes (predicted by the fitted decoder on its tiles, as plans are).
    defs = catalog.models.options
    judged = held + [s for s, _ in _pairs(samples) if s.kind == "decode" and defs[(s.detail or {})["options"][0]]
                     .decode == "tiled"] or [s for s in samples if s.fit]
    errs = errors(coefficients, judged)
    p90 = percentile(errs, 0.9)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    options = option_effects(samples)
    cal = Calibration(fingerprint=fingerprint, device=hello.get("device", device), date=now, qms_version=__version__,
                      torch_version=hello.get("torch"), threads=threads, precision=dtype, fit=coefficients,
                      median_error=median(errs), p90_error=p90, band=band_for(p90, max(errs, default=0.0)),
                      samples=tuple(samples), configurations={}, memory_margin=margin, partial=interrupted,
                      memory=memory or None, options=options or None)
    evaluations = tuple(_evaluate(coefficients, memory, margin or 1.0, s) for s in held if s.family in coefficients)
    evaluations += _option_evaluations(catalog, samples, memory, coefficients)
    return BenchResult(calibration=cal, evaluations=evaluations, failures=failures, interrupted=interrupted,
                       measured=len(results))


def run_jobs(job_list: list[dict[str, Any]], config: dict[str, Any], progress: Progress,
             isolate: bool) -> tuple[Results, dict[str, Any], bool]:
    """All the jobs, in one worker or (isolate) one per model; stops at an interruption."""
    results: Results = []
    hello: dict[str, Any] = {}
    interrupted = False
    for group in (_by_model(job_list) if isolate else [job_list]):
        if not group:
            continue
        got, hello_now, interrupted = run_worker({"config": config, "jobs": group}, len(job_list), progress,
                                                 offset=len(results))
        results += got
        hello = hello or hello_now
        if interrupted:
            break
    return results, hello, interrupted


def _by_model(job_list: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The jobs in runs of the same model (the worker builds each model once and keeps it for the next job)."""
    groups: list[list[dict[str, Any]]] = []
    last: Any = None
    for job in job_list:
        key = (job["kind"], job["family"], job.get("heads"), str(job.get("layers")), tuple(job.get("options", ())),
               job.get("tile"))
        if key != last:
            groups.append([])
            last = key
        groups[-1].append(job)
    return groups


def _evaluate(coefficients: dict[str, Any], memory: dict[str, MemoryFit], margin: float, s: Sample) -> Evaluation:
    """A held-out sample against the fitted time (and, where measured, memory) model."""
    pb = mb = None
    if memfit.measured(s) and s.family in memory:
        pb, mb = memfit.predicted_peak(memory, s, margin), float(memfit.peak(s))
    return Evaluation(kind=s.kind, family=s.family, tier=s.tier, function=s.function, size=_size(s),
                      predicted=predicted(coefficients, s), measured=s.seconds, predicted_bytes=pb, measured_bytes=mb)


def option_effects(samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Each memory option measured, by name: its time, weights and working memory as factors of its twin's."""
    out: dict[str, dict[str, float]] = {}
    for s, twin in _pairs(samples):
        d, t = s.detail or {}, twin.detail or {}
        effect = {"time_factor": round(s.seconds / twin.seconds, 4)}
        if d.get("weight_bytes") and t.get("weight_bytes"):
            effect["storage_factor"] = round(d["weight_bytes"] / t["weight_bytes"], 4)
        if d.get("work_bytes") and t.get("work_bytes"):
            effect["work_factor"] = round(d["work_bytes"] / t["work_bytes"], 4)
        out[f"{s.family}/{d['options'][0]}"] = effect
    return out


def _pairs(samples: list[Sample]) -> list[tuple[Sample, Sample]]:
    """(sample with a memory option, its twin without it)."""
    by_id = {(s.detail or {}).get("id"): s for s in samples}
    return [(s, by_id[(s.detail or {})["twin"]]) for s in samples
            if (s.detail or {}).get("options") and (s.detail or {}).get("twin") in by_id]


def _option_evaluations(catalog: Catalog, samples: list[Sample], memory: dict[str, MemoryFit],
                        coefficients: dict[str, Any]) -> tuple[Evaluation, ...]:
    """What the model profiles say each option costs or saves (time_factor, storage_factor, a tiled decoder's
    workspace capped at one tile), applied to the twin's measurement, against what the option measured; a
    tiled decode's time is the fitted decoder's on its tiles (overlaps and a fixed cost per tile), as plans
    predict it."""
    defs = catalog.models.options
    out = []
    for s, twin in _pairs(samples):
        name = (s.detail or {})["options"][0]
        o, d, t = defs[name], s.detail or {}, twin.detail or {}
        tiled = s.kind == "decode" and o.decode == "tiled"
        pb = mb = None
        if d.get("work_bytes") is not None and t.get("work_bytes") is not None:
            mb = float(d.get("weight_bytes", 0) + d["work_bytes"])
            if s.kind == "step" and o.storage_factor < 1:
                pb = t.get("weight_bytes", 0) * o.storage_factor + t["work_bytes"]
            elif tiled and s.family in memory:
                f = memory[s.family]
                pb = d.get("weight_bytes", 0) + f.decode_fixed + f.decode_per_pixel * (d["side"] // 2) ** 2
        seconds = predicted(coefficients, s) if tiled and s.family in coefficients \
            else twin.seconds * o.time_factor
        out.append(Evaluation(kind=s.kind, family=s.family, tier=None, function=None, size=_size(s), predicted=seconds,
                              measured=s.seconds, option=name, predicted_bytes=pb, measured_bytes=mb))
    return tuple(out)


def _size(s: Sample) -> str:
    d = s.detail or {}
    if s.kind == "decode":
        return f"{d.get('side')}px" + (f" x {d['frames']} frames" if d.get("frames", 1) > 1 else "")
    return f"{s.hidden} wide, {d.get('tokens')} picture + {d.get('text_tokens')} text pieces"


def _describe(job: dict[str, Any]) -> str:
    if job["kind"] == "decode":
        return f"{job['family']} decoder at {job['side']}px"
    return f"{job['family']} step, {job['heads'] * job['head_dim']} wide, {job['tokens']} tokens"
