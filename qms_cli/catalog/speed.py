"""How fast a device is: reference throughputs before calibration (profiles/throughput.yaml over the card
figures of profiles/cards.yaml).

A card's throughput = its dense 16-bit tensor peak x the efficiency its card class reaches on each kind of work
(matrix products, attention), fitted to published runs (docs/measurements.md). The estimator divides work by
these numbers; `qms bench` supplies measured ones through the same `Speed`.
"""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from qms_cli.catalog.cards import Card, CardTable
    from qms_cli.hardware.resources import Gpu

MEMORY_MARGIN = 1.0  # whole-peak margin: none until calibration measures one (predict.py has its own)


class FamilySpeed(NamedTuple):
    """One model family's speeds as `qms bench` measured them on a device."""

    linear_flops: float  # matrix products per second
    linear_width: float  # hidden size at which matrix products run at half speed
    attention_flops: float  # attention per second
    step_overhead: float  # seconds per denoising pass
    decode_flops: float | None  # the decoder's convolutions per second; None: not measured (the reference stays)
    decode_overhead: float  # seconds per decode, whatever its size


class WorkingMemory(NamedTuple):
    """One model family's working memory, in bytes: a denoising pass holds `fixed + per_token_hidden x tokens x
    hidden`, a decode `decode_fixed + decode_per_pixel x pixels of one frame`."""

    fixed: float
    per_token_hidden: float
    decode_fixed: float
    decode_per_pixel: float


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
    families: tuple[tuple[str, FamilySpeed], ...] = ()  # measured speeds by model family (qms bench)
    memory: tuple[tuple[str, WorkingMemory], ...] = ()  # measured working memory by model family (qms bench)
    option_time: tuple[tuple[str, float], ...] = ()  # measured time factors of memory options, "family/option"

    def option_factors(self, family: str) -> dict[str, float]:
        """The measured time factors of memory options on this family's models."""
        prefix = family + "/"
        return {k[len(prefix):]: f for k, f in self.option_time if k.startswith(prefix)}

    def for_family(self, family: str) -> "Speed":
        """This speed with the family's measured numbers in place, if it was measured."""
        found = dict(self.families).get(family)
        if found is None:
            return self
        return self._replace(linear_flops=found.linear_flops, linear_width=found.linear_width,
                             attention_flops=found.attention_flops, step_overhead=found.step_overhead,
                             decode_flops=found.decode_flops or self.decode_flops,
                             decode_overhead=found.decode_overhead)


class Throughput:
    """The reference: efficiencies by card class (profiles/throughput.yaml) over card figures (profiles/cards.yaml,
    read the first time a card needs matching)."""

    def __init__(self, d: dict[str, Any], cards: Callable[[], "CardTable"] | None = None) -> None:
        self.efficiency = _resolve(d["efficiency"])
        self.step_overhead = float(d["step_overhead_s"])
        self.transfer_share = float(d["transfer"]["share_of_link"])
        lo, hi = d["range"]["uncalibrated"]
        self.band = (float(lo), float(hi))  # classes fitted to published runs
        lo, hi = d["range"]["unfitted_class"]
        self.unfitted_band = (float(lo), float(hi))  # classes that take another's efficiencies
        self.fitted = {name for name, c in d["efficiency"].items() if "like" not in c}
        self.cpu_gflops_per_core = float(d["cpu"]["gflops_per_core"])
        self._load_cards = cards
        self._cards: CardTable | None = None

    @classmethod
    def from_data(cls, d: dict[str, Any], cards: Callable[[], "CardTable"] | None = None) -> "Throughput":
        return cls(d, cards)

    def cards(self) -> "CardTable":
        """The card table, read once."""
        if self._cards is None:
            if self._load_cards is None:
                from qms_cli.errors import DataError

                raise DataError("no card table (cards.yaml) was given with this throughput profile")
            self._cards = self._load_cards()
            missing = sorted(self._cards.classes() - set(self.efficiency))
            if missing:
                from qms_cli.errors import DataError

                raise DataError(f"{self._cards.filename}: card class {missing[0]!r} has no efficiency in "
                                f"throughput.yaml (classes there: {', '.join(sorted(self.efficiency))})")
        return self._cards

    def gpu(self, name: str) -> Speed:
        """A card's reference speed by its name alone."""
        table = self.cards()
        found = table.find(name)
        return self._speed(found, "reference") if found else self._speed(table.unknown(name), "assumed")

    def card(self, gpu: "Gpu") -> Speed:
        """A card's reference speed: the listed card of its name, else derived from what it reported, else (a
        simulated card with neither) the stated stand-in. The host link is the one NVML reported, if it did."""
        table = self.cards()
        found = table.find(gpu.name)
        kind = "reference"
        if found is None:
            found, kind = table.derive(gpu), "derived"
        if found is None:
            found, kind = table.unknown(gpu.name), "assumed"
        link = table.link_of(gpu)
        if link is not None and found.link != link[1] and not found.link.startswith("NVLink"):
            found = found._replace(host_gbs=link[0], link=f"{link[1]} (as the card reports)")
        return self._speed(found, kind)

    def _speed(self, card: "Card", kind: str) -> Speed:
        lin_eff, attn_eff = self.efficiency[card.cls]
        peak = card.tflops * 1e12
        basis = (f"{kind} ({card.how}): {card.tflops:.4g} TFLOPS x {card.cls} efficiencies {lin_eff:g} matrix "
                 f"products, {attn_eff:g} attention; host link {card.link} (uncalibrated)")
        band = self.band if card.cls in self.fitted else self.unfitted_band
        return Speed(linear_flops=peak * lin_eff, attention_flops=peak * attn_eff, step_overhead=self.step_overhead,
                     linear_width=0.0, decode_flops=peak * lin_eff,
                     host_bandwidth=card.host_gbs * 1e9 * self.transfer_share, band=band,
                     memory_margin=MEMORY_MARGIN, calibrated=False, basis=basis)

    def cpu(self, cores: int) -> Speed:
        flops = self.cpu_gflops_per_core * 1e9 * max(cores, 1)
        # No published processor runs to fit to: shown the range of a card class never measured.
        return Speed(linear_flops=flops, attention_flops=flops, step_overhead=self.step_overhead, linear_width=0.0,
                     decode_flops=flops, host_bandwidth=float("inf"), band=self.unfitted_band,
                     memory_margin=MEMORY_MARGIN, calibrated=False,
                     basis=f"reference: {cores} processor cores x {self.cpu_gflops_per_core:g} GFLOPS (uncalibrated)")


def _resolve(classes: dict[str, dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """(matrix products, attention) efficiency per class, following `like` to a fitted class."""
    out: dict[str, tuple[float, float]] = {}
    for name in classes:
        seen, c = [name], classes[name]
        while "like" in c:
            if c["like"] not in classes or c["like"] in seen:
                from qms_cli.errors import DataError

                raise DataError(f"throughput.yaml::$.efficiency.{seen[-1]}.like: {c['like']!r} is not a class "
                                "with its own efficiencies")
            seen.append(c["like"])
            c = classes[c["like"]]
        out[name] = (float(c["linear"]), float(c["attention"]))
    return out
