"""How fast a device is: reference throughputs before calibration (profiles/throughput.yaml).

The estimator divides work by these numbers; `qms bench` will supply measured ones through the same `Speed`.
"""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

from typing import Any, NamedTuple

from qms_cli.units import parse_size

MEMORY_MARGIN = 1.0  # whole-peak margin: none until calibration measures one (predict.py has its own)


class Speed(NamedTuple):
    """Throughputs of one device, and how sure we are of them."""

    linear_flops: float  # matrix products per second (on wide models)
    attention_flops: float  # attention per second
    step_overhead: float  # seconds per denoising pass
    linear_width: float  # hidden size at which matrix products run at half speed (0: no such slowdown)
    decode_flops: float  # the decoder's convolutions per second
    host_bandwidth: float  # bytes per second between main memory and the card
    band: tuple[float, float]  # the time range as factors of the point estimate
    memory_margin: float
    calibrated: bool
    basis: str  # where the numbers come from, for --technical
    decode_overhead: float = 0.0  # seconds per decode, whatever its size
    # Measured speeds by model family (qms bench): (linear, linear width, attention, overhead, decoder flops
    # or None, decoder overhead).
    families: tuple[tuple[str, tuple[float, float, float, float, float | None, float]], ...] = ()
    # Measured working memory by model family (qms bench): (pass fixed bytes, bytes per token x hidden unit,
    # decode fixed bytes, decode bytes per pixel); and measured time factors of memory options, "family/option".
    memory: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()
    option_time: tuple[tuple[str, float], ...] = ()

    def option_factors(self, family: str) -> dict[str, float]:
        """The measured time factors of memory options on this family's models."""
        prefix = family + "/"
        return {k[len(prefix):]: f for k, f in self.option_time if k.startswith(prefix)}

    def for_family(self, family: str) -> "Speed":
        """This speed with the family's measured numbers in place, if it was measured."""
        found = dict(self.families).get(family)
        if found is None:
            return self
        lin, width, attn, overhead, decode, decode_overhead = found
        return self._replace(linear_flops=lin, linear_width=width, attention_flops=attn, step_overhead=overhead,
                             decode_flops=decode or self.decode_flops, decode_overhead=decode_overhead)


class Throughput(NamedTuple):
    """The reference table."""

    linear_efficiency: float
    attention_efficiency: float
    step_overhead: float
    host_bandwidth: float
    band: tuple[float, float]
    cpu_gflops_per_core: float
    gpus: tuple[tuple[str, float], ...]
    default_tflops: float

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> "Throughput":
        lo, hi = d["range"]["uncalibrated"]
        return cls(d["efficiency"]["linear"], d["efficiency"]["attention"], d["step_overhead_s"],
                   float(parse_size(d["host_bandwidth"])), (lo, hi), d["cpu"]["gflops_per_core"],
                   tuple((g["match"], g["tflops"]) for g in d["gpus"]), d["default_gpu_tflops"])

    def gpu(self, name: str) -> Speed:
        """A card's reference speed, by the first table entry its name contains."""
        key = name.casefold()
        match = next(((m, t) for m, t in self.gpus if m.casefold() in key), None)
        tflops = match[1] if match else self.default_tflops
        basis = f"reference: {match[0]} {tflops:g} TFLOPS" if match else f"reference: unknown card, {tflops:g} TFLOPS"
        peak = tflops * 1e12
        return Speed(peak * self.linear_efficiency, peak * self.attention_efficiency, self.step_overhead, 0.0,
                     peak * self.linear_efficiency, self.host_bandwidth, self.band, MEMORY_MARGIN, False,
                     basis + " (uncalibrated)")

    def cpu(self, cores: int) -> Speed:
        flops = self.cpu_gflops_per_core * 1e9 * max(cores, 1)
        return Speed(flops, flops, self.step_overhead, 0.0, flops, float("inf"), self.band, MEMORY_MARGIN, False,
                     f"reference: {cores} processor cores x {self.cpu_gflops_per_core:g} GFLOPS (uncalibrated)")
