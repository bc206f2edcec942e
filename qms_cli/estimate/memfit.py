"""Memory calibration: the working memory `qms bench` measured, fitted to the estimator's own terms.

A denoising pass holds, on top of its weights, `fixed + bytes x attention tokens x hidden` (predict.py); a
decode holds `fixed + bytes x pixels of one frame`. Both pairs are fitted per model family by non-negative
least squares on relative errors, from the samples marked `fit`. The margin is the worst measured/modelled
peak (weights + working memory) among those samples, widened by 5% (10% for the processor's noisier counter):
what a prediction is multiplied by so it is not under the measured peak.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from qms_cli.estimate.fitting import nnls

if TYPE_CHECKING:
    from qms_cli.estimate.calibration import Sample

MARGIN_SLACK = 1.05  # a card's allocator counts exactly
PROCESSOR_SLACK = 1.10  # the processor's resident-memory counter varies ~7% between runs of the same work
MIN_POINTS = 3


class MemoryFit(NamedTuple):
    """Bytes of working memory: a pass's fixed part and per token x hidden unit; a decode's fixed part and per
    pixel of one frame (0, 0 where no decode was measured)."""

    fixed: float
    per_token_hidden: float
    decode_fixed: float
    decode_per_pixel: float

    def work(self, s: Sample) -> float:
        d = s.detail or {}
        if s.kind == "step":
            return self.fixed + self.per_token_hidden * float(d["attention_tokens"]) * s.hidden
        return self.decode_fixed + self.decode_per_pixel * float(d["side"]) ** 2

    def as_json(self) -> dict[str, float]:
        return {"fixed_bytes": round(self.fixed), "bytes_per_token_hidden": round(self.per_token_hidden, 3),
                "decode_fixed_bytes": round(self.decode_fixed),
                "decode_bytes_per_pixel": round(self.decode_per_pixel, 3)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MemoryFit:
        return cls(d["fixed_bytes"], d["bytes_per_token_hidden"], d["decode_fixed_bytes"], d["decode_bytes_per_pixel"])


def measured(s: Sample) -> bool:
    """Whether the sample carries a working-memory measurement the fit can use (no memory option applied)."""
    d = s.detail or {}
    return d.get("work_bytes") is not None and not d.get("options") and s.kind in ("step", "decode")


def peak(s: Sample) -> int:
    """The measured peak: the weights as stored plus the working memory."""
    d = s.detail or {}
    return int(d.get("weight_bytes", 0) + d["work_bytes"])


def fit_memory(samples: list[Sample], slack: float = MARGIN_SLACK) -> tuple[dict[str, MemoryFit], float | None]:
    """(per family fit, margin); a family needs MIN_POINTS step measurements. The margin is None when nothing
    was fitted."""
    out: dict[str, MemoryFit] = {}
    for family in sorted({s.family for s in samples}):
        own = [s for s in samples if s.fit and s.family == family and measured(s)]
        steps = [s for s in own if s.kind == "step"]
        if len(steps) < MIN_POINTS:
            continue
        fixed, per = _line([(s.detail["attention_tokens"] * s.hidden, s.detail["work_bytes"])  # type: ignore[index]
                            for s in steps])
        decodes = [s for s in own if s.kind == "decode"]
        dec = _line([(s.detail["side"] ** 2, s.detail["work_bytes"]) for s in decodes])  # type: ignore[index]
        out[family] = MemoryFit(fixed, per, *dec)
    if not out:
        return out, None
    worst = max(peak(s) / predicted_peak(out, s, 1.0) for s in samples
                if s.fit and s.family in out and measured(s) and (s.kind == "step" or out[s.family].decode_per_pixel))
    return out, math.ceil(round(max(1.0, worst) * slack * 100, 6)) / 100


def predicted_peak(fits: dict[str, MemoryFit], s: Sample, margin: float) -> float:
    """The modelled peak of a sample (weights as stored + fitted working memory) x `margin`."""
    return (float((s.detail or {}).get("weight_bytes", 0)) + fits[s.family].work(s)) * margin


def _line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(intercept, slope) >= 0 fitting y = a + b x with relative errors, over the points with some memory;
    (0, 0) without two of them."""
    points = [(x, y) for x, y in points if y > 0]
    if len(points) < 2:
        return 0.0, 0.0
    a, b = nnls([[1 / y, x / y] for x, y in points], [1.0] * len(points))
    return a, b
