"""What each model configuration needs (from profiles/models.yaml)."""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

from dataclasses import dataclass
from typing import Any, NamedTuple

from qms_cli.units import parse_size
from qms_cli.values import Value


class MemoryOption(NamedTuple):
    """How one memory option changes residency, activation memory, decoding and time."""

    name: str
    offload: str = "none"
    resident_fraction: float = 1.0
    activations: float = 1.0
    decode: str = "full"
    storage_factor: float = 1.0
    time_factor: float = 1.0

    @classmethod
    def from_data(cls, name: str, data: dict[str, Any]) -> "MemoryOption":
        return cls(name, **data)


class Component(NamedTuple):
    """One set of weights (denoiser, text encoder, decoder) at its chosen precision."""

    name: str
    role: str
    params: int
    precision: str
    weights: dict[str, int]
    blocks: int = 1  # a text encoder's layers, streamed one at a time under `sequential`

    @classmethod
    def from_data(cls, name: str, data: dict[str, Any]) -> "Component":
        return cls(name=name, role=data["role"], params=data["params"], precision=data["precision"],
                   weights={p: parse_size(s) for p, s in data["weights"].items()}, blocks=data.get("blocks", 1))


@dataclass(frozen=True, eq=False, repr=False)
class ModelProfile(Value):
    """A model configuration's weights, latent geometry, architecture and supported memory options."""

    id: str
    family: str
    modality: str
    default_steps: int
    components: dict[str, Component]
    latent: dict[str, Any]
    architecture: dict[str, int]
    memory_options: tuple[str, ...]

    @classmethod
    def from_data(cls, model_id: str, data: dict[str, Any]) -> "ModelProfile":
        return cls(model_id, data["family"], data["modality"], data["default_steps"],
                   {n: Component.from_data(n, c) for n, c in data["components"].items()},
                   dict(data["latent"]), dict(data["architecture"]), tuple(data["memory_options"]))


class Family(NamedTuple):
    """What the estimator needs about a model family: geometry, guidance, activation and decoder costs."""

    name: str
    aspect: tuple[int, int]
    joint_text: bool
    guidance_passes: int
    fps: float | None
    activation_fixed: int
    activation_bytes: float  # per token per hidden unit
    encode_workspace: int
    decode_bytes_per_pixel: float
    decode_tile: int
    decode_flops_per_pixel: float

    @classmethod
    def from_data(cls, name: str, d: dict[str, Any]) -> "Family":
        act, dec = d["activations"], d["decode"]
        return cls(name, (d["aspect"][0], d["aspect"][1]), d["joint_text"], d["guidance_passes"], d.get("fps"),
                   parse_size(act["fixed"]), act["bytes_per_token_hidden"], parse_size(d["encode_workspace"]),
                   dec["bytes_per_pixel"], dec["tile"], dec["flops_per_pixel"])


@dataclass(frozen=True, eq=False, repr=False)
class ModelSet(Value):
    """All model profiles, their families, the precision vocabulary and the memory options."""

    precisions: dict[str, float]
    options: dict[str, MemoryOption]
    families: dict[str, Family]
    models: dict[str, ModelProfile]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "ModelSet":
        return cls(dict(data["precisions"]),
                   {n: MemoryOption.from_data(n, o) for n, o in data["memory_options"].items()},
                   {n: Family.from_data(n, f) for n, f in data["families"].items()},
                   {m: ModelProfile.from_data(m, d) for m, d in data["models"].items()})

    def jargon(self) -> set[str]:
        """Words people must never be shown: model ids, families, option names, precision words."""
        from qms_cli.catalog.jargon import catalog_terms

        return catalog_terms(self.precisions, self.options, {m.id: m.family for m in self.models.values()})
