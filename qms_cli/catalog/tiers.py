"""Quality tiers and what each maps a function to (from profiles/tiers.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qms_cli.errors import UsageError
from qms_cli.units import parse_size, parse_time_range
from qms_cli.values import Value


@dataclass(frozen=True, eq=False, repr=False)
class Configuration(Value):
    """The model configuration a tier uses for one function."""

    model: str
    resolution: int
    steps: int | None
    frames: int | None
    options: tuple[str, ...]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Configuration:
        return cls(data["model"], data["resolution"], data.get("steps"), data.get("frames"),
                   tuple(data.get("options", ())))

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "resolution": self.resolution, "steps": self.steps,
                "frames": self.frames, "options": list(self.options)}


@dataclass(frozen=True, eq=False, repr=False)
class Tier(Value):
    """One quality tier, as a person chooses it."""

    id: str
    name: str
    icon: str
    description: str
    time_label: str
    target_vram: int
    mappings: dict[str, Configuration]
    rank: int

    @classmethod
    def from_data(cls, data: dict[str, Any], rank: int) -> Tier:
        return cls(data["id"], data["name"], data["icon"], data["description"], data["time_label"],
                   parse_size(data["target_vram"]),
                   {fn: Configuration.from_data(m) for fn, m in data["mappings"].items()}, rank)

    @property
    def label(self) -> str:
        return f"{self.icon} {self.name}"

    @property
    def time_range(self) -> tuple[float, float]:
        return parse_time_range(self.time_label)

    def view(self) -> dict[str, Any]:
        """The tier as a person sees it (no model names)."""
        return {"id": self.id, "name": self.name, "icon": self.icon, "description": self.description,
                "time_label": self.time_label}


@dataclass(frozen=True, eq=False, repr=False)
class TierSet(Value):
    """The tiers from lowest to highest, and the functions they map."""

    tiers: tuple[Tier, ...]
    default_id: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TierSet:
        tiers = tuple(Tier.from_data(t, rank) for rank, t in enumerate(data["tiers"]))
        return cls(tiers, data.get("default") or tiers[(len(tiers) - 1) // 2].id)

    @property
    def default(self) -> Tier:
        return self.get(self.default_id)

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.tiers]

    @property
    def functions(self) -> list[str]:
        return list(self.tiers[0].mappings) if self.tiers else []

    def find(self, text: str) -> Tier | None:
        """The tier whose id or display name is `text`, in any case."""
        key = text.strip().casefold()
        return next((t for t in self.tiers if key in (t.id.casefold(), t.name.casefold())), None)

    def get(self, text: str) -> Tier:
        """As find(), or a usage error that lists the tiers."""
        tier = self.find(text)
        if tier is None:
            raise UsageError(f"unknown quality {text!r}; choose one of: {self.choices()}")
        return tier

    def choices(self) -> str:
        return ", ".join(f"{t.id} ({t.name})" if t.name.casefold() != t.id.casefold() else t.id
                         for t in self.tiers)

    def function(self, text: str) -> str:
        """The function's name as the tiers spell it, matched in any case."""
        key = " ".join(text.split()).casefold()
        for name in self.functions:
            if name.casefold() == key:
                return name
        raise UsageError(f"unknown function {text!r}; choose one of: {', '.join(self.functions)}")


def unknown_tiers(data: dict[str, Any], tier_ids: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """(path, tier) for each quality in the project that names no tier in `tier_ids`."""
    wanted: list[tuple[tuple[str, ...], Any]] = [(("quality",), data.get("quality"))]
    wanted += [(("quality_overrides", node), t) for node, t in data.get("quality_overrides", {}).items()]
    return [(path, tier) for path, tier in wanted if tier is not None and tier not in tier_ids]
