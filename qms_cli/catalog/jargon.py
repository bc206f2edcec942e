"""Words that must not reach people: model names, memory flags, precision words and engine terms.

Text for people (tier names, descriptions, time labels, every message in render/messages.py) is checked
against these; `--technical` and `--json` are where such words belong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

# Engine and ML vocabulary that says nothing to someone choosing a quality. Catalogue-specific words (model
# ids and families, option names, precision words) come from models.yaml through catalog_terms().
GENERIC = frozenset({
    "vram", "cuda", "nvml", "cudnn", "offload", "offloaded", "offloading", "lowvram", "medvram", "highvram",
    "novram", "quantized", "quantization", "quantised", "checkpoint", "safetensors", "gguf", "lora", "vae",
    "unet", "dit", "transformer", "denoiser", "sampler", "cfg", "latent", "latents", "tokens", "oom",
    "fp32", "fp16", "bf16", "fp8", "int8", "int4", "nf4", "tf32", "mig", "pcie", "diffusers", "comfyui",
})


def catalog_terms(precisions: Iterable[str], options: Iterable[str], families: Mapping[str, str]) -> set[str]:
    """The catalogue's own jargon: precision words, option names (without dashes), model ids and families."""
    return {*precisions, *(o.lstrip("-") for o in options), *families, *families.values()}


@cache
def _pattern(terms: frozenset[str]) -> re.Pattern[str]:
    words = sorted((t.casefold() for t in terms if t), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, words)) + r")(?![a-z0-9])")


def find_jargon(text: str, terms: Iterable[str] = ()) -> list[str]:
    """The jargon words in `text` (case-insensitive, whole words), in order of appearance."""
    found = _pattern(frozenset(GENERIC | set(terms))).findall(text.casefold())
    return list(dict.fromkeys(found))
