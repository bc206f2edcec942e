"""Calibration: the machine's measured speeds, fitted from bench samples (its file: estimate/calibration_file.py).

A step's time is modelled as  passes x (L/T + L/h x w/T + A/Ta + c)  with L the matrix-product flops, h the
hidden size, A the attention flops (predict.step_work). Fitting the four coefficients is a non-negative least
squares on relative errors (each sample weighted by 1/time, so a 10 ms and a 10 s sample count alike), robust
to runs slowed by other work (fitting.relative_rows); the narrow-model term w goes only where it is inside the
noise or the data clearly contradict it (_step_terms). A decode is its convolutions plus
a fixed cost per call, on each tile when tiled (qms_cli.estimate.tiles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from qms_cli.catalog.speed import FamilySpeed, Speed, WorkingMemory
from qms_cli.estimate import tiles
from qms_cli.estimate.fitting import held_out_score, nnls, nnls_columns, relative_rows, squared_error
from qms_cli.estimate.memfit import MemoryFit
from qms_cli.estimate.stats import median
from qms_cli.values import Value


@dataclass(frozen=True, eq=False, repr=False)
class Sample(Value):
    """One measurement: a denoising pass (`step`), a decode, or an external runner's whole task."""

    kind: str  # "step" | "decode" | "runner"
    family: str
    seconds: float
    lin: float = 0.0  # matrix-product flops (step)
    attn: float = 0.0  # attention flops (step)
    hidden: int = 0
    decode: float = 0.0  # decoder flops (decode)
    fit: bool = True  # used in the fit (False: held out for evaluation)
    tier: str | None = None
    function: str | None = None
    detail: dict[str, Any] | None = None  # sizes, repeats, spread, peak memory, precision...

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Sample:
        return cls(**d)


class FamilyFit(NamedTuple):
    """Seconds per flop (matrix products, the narrow-model term, attention, decoder) and per pass/decode."""

    linear: float
    narrow: float
    attention: float
    overhead: float
    decode: float
    decode_overhead: float

    def step(self, s: Sample) -> float:
        return s.lin * self.linear + s.lin / max(s.hidden, 1) * self.narrow + s.attn * self.attention + self.overhead

    def as_json(self) -> dict[str, Any]:
        return {"linear_flops": _inverse(self.linear), "linear_width": _ratio(self.narrow, self.linear),
                "attention_flops": _inverse(self.attention), "step_overhead_s": self.overhead,
                "decode_flops": _inverse(self.decode), "decode_overhead_s": self.decode_overhead}

    @classmethod
    def from_json(cls, c: dict[str, Any]) -> FamilyFit:
        lin = 1 / c["linear_flops"] if c["linear_flops"] else 0.0
        return cls(lin, c["linear_width"] * lin, 1 / c["attention_flops"] if c["attention_flops"] else 0.0,
                   c["step_overhead_s"], 1 / c["decode_flops"] if c["decode_flops"] else 0.0, c["decode_overhead_s"])


# Memory options whose whole cost is compute in each denoising pass, so a measured factor replaces the profile's
# (offloading's cost is mostly transfer, predicted from bandwidth; tiling's falls on the decode, not the passes).
STEP_FACTORS = ("fp8-storage",)
MIN_STEPS = 4  # a family's step fit has four unknowns


def fit(samples: list[Sample]) -> dict[str, FamilyFit]:
    """Per model family (architectures reach different efficiencies), the step and decode coefficients, from
    the samples marked `fit`. A family needs at least four step measurements."""
    out: dict[str, FamilyFit] = {}
    for family in sorted({s.family for s in samples}):
        steps = [s for s in samples if s.kind == "step" and s.fit and s.family == family]
        if len(steps) < MIN_STEPS:
            continue
        lin, narrow, attn, overhead = _step_terms(steps)
        decodes = [s for s in samples if s.kind == "decode" and s.fit and s.family == family]
        # A decode's time grows with its pixels: the per-flop term is kept even where noise favours a fixed cost.
        dec, dec_fixed = _decode_terms(*relative_rows([[s.decode, 1.0] for s in decodes],
                                                      [s.seconds for s in decodes], _decode_terms)) \
            if decodes else (0.0, 0.0)
        out[family] = FamilyFit(lin, narrow, attn, overhead, dec, dec_fixed)
    if not out:
        raise ValueError(f"a fit needs at least {MIN_STEPS} step measurements of one model family")
    return out


_PLAIN, _WIDTH = (0, 2, 3), (0, 1, 2, 3)  # the step terms without and with the narrow-model one
_REQUIRED = (0, 2)  # a pass's time grows with its matrix products and its attention: neither is fitted away
SIGNIFICANT = 4.0  # the narrow-model term must explain four times the noise's variance (two standard errors)
SWALLOW = 4  # the narrow-model width is at most this many times the widest measured


def _step_terms(steps: list[Sample]) -> list[float]:
    """(linear, narrow, attention, overhead) seconds per unit. Timings are noisy (a loaded machine: same-size
    runs 30% apart), so the narrow-model term is dropped only where it is inside the noise -- it lowers the
    squared error by less than SIGNIFICANT times the noise's variance (the fit's residual scatter, at least the
    measured spread of repeated runs) -- or where the data clearly contradict it: with three widths or more,
    fitted to all but the widest it predicts the widest worse than a fit without it, by more than the noise
    (what estimates do: full-size models are wider than anything measured). Where it would swallow the main
    term, it is held at SWALLOW times the widest width (a width term alone would make full-size models look
    free); the matrix products and attention are always kept (a pass's time grows with both)."""
    widths = [float(s.hidden) for s in steps]
    cap = SWALLOW * max(widths)
    rows, targets = relative_rows([[s.lin, s.lin / s.hidden, s.attn, 1.0] for s in steps],
                                  [s.seconds for s in steps], lambda r, t: _width_terms(r, t, cap))
    plain, terms = nnls_columns(rows, targets, _PLAIN, _REQUIRED), _width_terms(rows, targets, cap)
    if terms[1] <= 0:
        return plain
    noise = max(math.sqrt(squared_error(rows, targets, terms) / max(1, len(rows) - len(_WIDTH))), _spread(steps))
    if squared_error(rows, targets, plain) - squared_error(rows, targets, terms) < SIGNIFICANT * noise**2:
        return plain
    if len(set(widths)) >= 3 and held_out_score(rows, targets, widths, _WIDTH, _REQUIRED) \
            > held_out_score(rows, targets, widths, _PLAIN, _REQUIRED) + 2 * noise:
        return plain
    return terms


def _decode_terms(rows: list[list[float]], targets: list[float]) -> list[float]:
    return nnls(rows, targets, (0,))


def _width_terms(rows: list[list[float]], targets: list[float], cap: float) -> list[float]:
    """All four terms, the narrow-model width held at `cap` where it would be wider (then, at any width, the
    main term is a fair share of the time)."""
    terms = nnls(rows, targets, _REQUIRED)
    if terms[0] > 0 and terms[1] / terms[0] > cap:
        a, attn, fixed = nnls([[r[0] + cap * r[1], r[2], r[3]] for r in rows], targets, (0, 1))
        terms = [a, a * cap, attn, fixed]
    return terms


def _spread(samples: list[Sample]) -> float:
    """The median relative spread of the samples' repeated runs (0 where none was reported)."""
    return median([float((s.detail or {}).get("spread", 0.0)) for s in samples])


def predicted(f: dict[str, FamilyFit], s: Sample) -> float:
    """What the fitted model says a sample takes (0 for a family without a fit)."""
    ff = f.get(s.family)
    if ff is None:
        return 0.0
    if s.kind == "decode":
        d = s.detail or {}
        side = d.get("side", 0)
        return tiles.decode_seconds(s.decode, ff.decode, ff.decode_overhead, tiles.grid(side, side, d.get("tile", 0)))
    return ff.step(s)


def errors(f: dict[str, FamilyFit], samples: list[Sample]) -> list[float]:
    """Absolute percentage errors of the fit on `samples`."""
    return [abs(predicted(f, s) - s.seconds) / s.seconds for s in samples
            if s.kind in ("step", "decode") and s.family in f]


VERSION = 2  # 2: a pass's work counted from the architecture (qms_cli/estimate/flops.py)
GOAL_P90 = 0.10  # what calibration aims for: 9 in 10 sizes it was not fitted to within 10%


def goal_met(p90: float) -> bool:
    return p90 <= GOAL_P90


def band_for(p90: float, worst: float = 0.0) -> tuple[float, float]:
    """The time range shown once calibrated: the measured 90th-percentile error, widened by a quarter, at
    least +-10%; where the 90th percentile misses the goal, wide enough for the worst error measured too."""
    e = max(GOAL_P90, 1.25 * p90, 0.0 if goal_met(p90) else worst)
    # Rounded outwards to three places, so the range stored still holds every error it was widened for.
    return (max(0.05, math.floor((1 - e) * 1000 + 1e-9) / 1000), math.ceil((1 + e) * 1000 - 1e-9) / 1000)


@dataclass(frozen=True, eq=False, repr=False)
class Calibration(Value):
    """What `qms bench` measured on one device, as stored."""

    fingerprint: str
    device: str
    date: str
    qms_version: str
    torch_version: str | None
    threads: int
    precision: str
    fit: dict[str, FamilyFit] | None
    median_error: float
    p90_error: float
    band: tuple[float, float]
    samples: tuple[Sample, ...]
    configurations: dict[str, dict[str, Any]]  # external runner: "tier/function" -> seconds, peak_bytes
    memory_margin: float | None = None
    partial: bool = False
    memory: dict[str, MemoryFit] | None = None  # working memory by model family (qms_cli.estimate.memfit)
    options: dict[str, dict[str, float]] | None = None  # "family/option" -> measured factors (time, storage, work)
    version: int = VERSION  # 1: speeds fitted when a pass's work was counted from all parameters (set aside)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": VERSION, "fingerprint": self.fingerprint, "device": self.device, "date": self.date,
            "qms_version": self.qms_version, "torch_version": self.torch_version, "threads": self.threads,
            "precision": self.precision,
            "coefficients": None if self.fit is None else {f: c.as_json() for f, c in self.fit.items()},
            "error": {"median_ape": round(self.median_error, 4), "p90_ape": round(self.p90_error, 4),
                      "band": list(self.band), "goal_p90": GOAL_P90,
                      "goal_met": None if self.fit is None else goal_met(self.p90_error)},
            "memory_margin": self.memory_margin, "partial": self.partial,
            "memory": None if self.memory is None else {f: m.as_json() for f, m in self.memory.items()},
            "options": self.options,
            "configurations": self.configurations,
            "samples": [s.as_json() for s in self.samples],
        }

    def speed(self, base: Speed) -> Speed:
        """`base` (the reference speed of the same device) with each measured family's speeds in it."""
        margin = max(base.memory_margin, self.memory_margin or 0.0)
        if not self.fit:  # no speeds measured (an external runner, or qms bench --rungs alone)
            return base._replace(memory_margin=margin)
        note = "partial run, " if self.partial else ""
        families = tuple((fam, _family_speed(f, base)) for fam, f in self.fit.items() if f.linear)
        memory = tuple((fam, WorkingMemory(**m._asdict())) for fam, m in (self.memory or {}).items())
        times = tuple((key, e["time_factor"]) for key, e in (self.options or {}).items()
                      if key.split("/")[1] in STEP_FACTORS)
        return base._replace(band=self.band, calibrated=True, families=families, memory=memory, option_time=times,
                             memory_margin=margin,
                             basis=f"calibrated {self.date[:10]} on this machine ({note}{len(self.samples)} "
                                   f"measurements, 90% within {self.p90_error:.0%})")

    def measured(self, tier: str, function: str) -> dict[str, Any] | None:
        """An external runner's measurement of a whole task at this tier and function, if it succeeded."""
        found = self.configurations.get(f"{tier}/{function}")
        return found if found and found.get("exit_code") == 0 else None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Calibration:
        c = d["coefficients"]
        f = None if c is None else {fam: FamilyFit.from_json(v) for fam, v in c.items()}
        mem = d.get("memory")
        return cls(d["fingerprint"], d["device"], d["date"], d["qms_version"], d["torch_version"], d["threads"],
                   d["precision"], f, d["error"]["median_ape"], d["error"]["p90_ape"], tuple(d["error"]["band"]),
                   tuple(Sample.from_json(s) for s in d["samples"]), d["configurations"], d["memory_margin"],
                   d["partial"], None if mem is None else {k: MemoryFit.from_json(v) for k, v in mem.items()},
                   d.get("options"), d.get("version", 1))


def _family_speed(f: FamilyFit, base: Speed) -> FamilySpeed:
    """The fitted seconds per flop as speeds; a term the bench could not see (too small to time) keeps the
    reference value."""
    return FamilySpeed(linear_flops=1 / f.linear, linear_width=f.narrow / f.linear,
                       attention_flops=1 / f.attention if f.attention else base.attention_flops,
                       step_overhead=f.overhead, decode_flops=1 / f.decode if f.decode else None,
                       decode_overhead=f.decode_overhead)


def _inverse(x: float | None) -> float | None:
    return 1 / x if x else None


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


PLAUSIBLE = 20.0  # a run this many times faster than the reference estimate cannot have generated anything


def implausible(runs: list[Any]) -> list[Any]:
    """The successful runs of `qms bench --runner` too fast to be real (under 1/20 of the reference estimate):
    a command that does nothing would otherwise become this machine's speed (issue 15)."""
    return [r for r in runs if r.exit_code == 0 and r.seconds * PLAUSIBLE < r.predicted_seconds]
