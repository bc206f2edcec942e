"""Graphics cards by name (profiles/cards.yaml), or derived from what NVML reports about a card not listed.

Names match exactly after normalising what drivers vary ("NVIDIA GeForce RTX 4060 Ti" = "RTX 4060 Ti", "-" and
"_" as spaces, case): "RTX 4060" never matches a 4060 Ti or a 4060 Laptop GPU. Failing that, a name with
memory-size words the table does not list ("RTX 3060 8GB") matches the listed name without them.
"""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from qms_cli.errors import DataError

if TYPE_CHECKING:
    from qms_cli.hardware.resources import Gpu

_DROP = frozenset({"nvidia", "geforce", "tesla", "generation"})
_SIZE = re.compile(r"^(\d+(gb|g)|hbm\w*)$")


class Card(NamedTuple):
    """A card's datasheet (or derived) figures."""

    name: str
    cls: str  # which fitted efficiencies apply
    tflops: float  # dense 16-bit tensor, fp32 accumulate
    bandwidth: float | None  # memory, GB/s
    host_gbs: float  # host link, GB/s per direction
    link: str  # "PCIe 4.0 x16"
    how: str  # how its figures were found, for the plan's basis


def normalise(name: str) -> str:
    """The matching key of a card name."""
    return " ".join(t for t in re.split(r"[\s_-]+", name.casefold()) if t and t not in _DROP)


def _loose(key: str) -> str:
    return " ".join(t for t in key.split() if not _SIZE.match(t))


class CardTable:
    """The cards of profiles/cards.yaml, and the rules to derive one that is not listed."""

    def __init__(self, data: dict[str, Any], filename: str) -> None:
        self.lanes = {int(k): float(v) for k, v in data["pcie_lane_gbs"].items()}
        self.derive_rules: dict[str, dict[str, Any]] = data["derive"]
        self.unknown_card = data["unknown_card"]
        self.unknown_link = (int(data["unknown_link"][0]), int(data["unknown_link"][1]))
        self.filename = filename
        self.exact: dict[str, Card] = {}
        for i, row in enumerate(data["cards"]):
            if row["source"] not in data["sources"]:
                raise DataError(f"{filename}::$.cards[{i}].source: {row['source']!r} is not one of `sources`")
            host, link = self._link(tuple(row["pcie"]), f"$.cards[{i}].pcie")
            if "host_gbs" in row:
                host, link = float(row["host_gbs"]), f"NVLink-C2C {row['host_gbs']:g} GB/s"
            for name in row["names"]:
                card = Card(name, row["class"], float(row["tflops"]), float(row["bandwidth"]), host, link,
                            f"listed as {name}, source {row['source']}")
                key = normalise(name)
                if key in self.exact:
                    raise DataError(f"{filename}::$.cards[{i}].names: {name!r} is listed twice")
                self.exact[key] = card
        if normalise(self.unknown_card) not in self.exact:
            raise DataError(f"{filename}::$.unknown_card: {self.unknown_card!r} is not a listed card")

    def _link(self, pcie: tuple[int, ...], where: str) -> tuple[float, str]:
        gen, lanes = pcie
        if gen not in self.lanes:
            raise DataError(f"{self.filename}::{where}: PCIe generation {gen} is not in pcie_lane_gbs "
                            f"({', '.join(map(str, sorted(self.lanes)))})")
        return self.lanes[gen] * lanes, f"PCIe {gen}.0 x{lanes}"

    def classes(self) -> set[str]:
        derived = {r.get(k) for r in self.derive_rules.values() for k in ("class", "geforce_class")} - {None}
        return {c.cls for c in self.exact.values()} | {str(c) for c in derived}

    def find(self, name: str) -> Card | None:
        """The listed card of this name (exact after normalising; else without its memory-size words)."""
        key = normalise(name)
        return self.exact.get(key) or self.exact.get(_loose(key))

    def derive(self, gpu: "Gpu") -> Card | None:
        """A card's figures from what NVML reported, or None where it reported too little."""
        if gpu.compute_capability is None:
            return None
        cc = "{}.{}".format(*gpu.compute_capability)
        rule = self.derive_rules.get(cc)
        if rule is None:
            return None
        sms = gpu.multiprocessors or (gpu.cuda_cores // rule["cores_per_sm"] if gpu.cuda_cores else None)
        clock = gpu.boost_sm_clock_mhz or gpu.max_sm_clock_mhz
        if not sms or not clock:
            return None
        geforce = gpu.brand in ("geforce", "titan") and "geforce" in rule
        rate = rule["geforce"] if geforce else rule["flops_per_clock"]
        tflops = sms * clock * 1e6 * rate / 1e12
        bandwidth = (gpu.memory_bus_bits / 8 * gpu.max_memory_clock_mhz * 2 / 1e3
                     if gpu.memory_bus_bits and gpu.max_memory_clock_mhz else None)
        host, link = self.link_of(gpu) or self._link(self.unknown_link, "$.unknown_link")
        which = "boost" if gpu.boost_sm_clock_mhz else "highest"
        memory = (f"; {gpu.memory_bus_bits}-bit x {gpu.max_memory_clock_mhz} MHz = {bandwidth:.0f} GB/s"
                  if bandwidth else "")
        how = (f"from the card's own figures: {sms} multiprocessors x {clock} MHz ({which} clock) x {rate:g} "
               f"(compute capability {cc}{', GeForce rate' if geforce else ''}){memory}")
        return Card(gpu.name, rule.get("geforce_class", rule["class"]) if geforce else rule["class"], tflops,
                    bandwidth, host, link, how)

    def link_of(self, gpu: "Gpu") -> tuple[float, str] | None:
        """The host link NVML reported (the most the card and its slot allow), if it did."""
        if gpu.pcie is None or gpu.pcie[0] not in self.lanes:
            return None
        return self._link(gpu.pcie, "pcie")

    def unknown(self, name: str) -> Card:
        """A card with no figures at all (a simulated card by a name not listed): the stated stand-in."""
        ref = self.exact[normalise(self.unknown_card)]
        return ref._replace(name=name, how=f"{name!r} is not a listed card and reported no figures: taken as "
                                             f"{ref.name} (cards.yaml unknown_card)")
