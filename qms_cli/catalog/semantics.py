"""Checks beyond the schemas: what makes a set of profiles consistent and fit to show people."""

from __future__ import annotations

from typing import Any

from qms_cli.catalog.jargon import catalog_terms, find_jargon
from qms_cli.catalog.schemas import Problem, json_path
from qms_cli.catalog.tiers import unknown_tiers
from qms_cli.errors import UsageError
from qms_cli.units import parse_size, parse_time_range

_SHOWN = ("name", "description", "time_label")


def check_tiers(tiers: dict[str, Any], models: dict[str, Any] | None, filename: str) -> list[Problem]:
    """Consistency of a validated tier set, against validated models (None: skip model checks)."""
    out: list[Problem] = []

    def bad(path: tuple[str | int, ...], message: str) -> None:
        out.append(Problem(filename, json_path(path), message))

    items = tiers["tiers"]
    seen: dict[str, int] = {}
    for i, tier in enumerate(items):
        for field in ("id", "name"):
            key = tier[field].casefold()
            if key in seen and seen[key] != i:
                bad(("tiers", i, field), f"{tier[field]!r} is already used by tier {seen[key] + 1}; "
                                         "each tier's id and name must be unique")
            seen.setdefault(key, i)
    if "default" in tiers and tiers["default"] not in [t["id"] for t in items]:
        bad(("default",), f"{tiers['default']!r} is not a tier id here; "
                          f"tier ids: {', '.join(t['id'] for t in items)}")
    functions = list(items[0]["mappings"])
    for i, tier in enumerate(items[1:], start=1):
        if set(tier["mappings"]) != set(functions):
            missing = sorted(set(functions) - set(tier["mappings"]))
            extra = sorted(set(tier["mappings"]) - set(functions))
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"extra {', '.join(extra)}"] if extra else []
            detail = "; ".join(parts)
            bad(("tiers", i, "mappings"), f"every tier must map the same functions as the first ({detail})")
    for i, tier in enumerate(items):
        try:
            low, high = parse_time_range(tier["time_label"])
            if low > high:
                bad(("tiers", i, "time_label"), f"{tier['time_label']!r}: the range's low end is above its high end")
        except UsageError as e:
            bad(("tiers", i, "time_label"), e.message)
    _check_order(items, models, bad)
    if models is not None:
        _check_references(items, models, bad)
        terms = catalog_terms(models["precisions"], models["memory_options"],
                              {m: d["family"] for m, d in models["models"].items()})
    else:
        terms = set()
    for i, tier in enumerate(items):
        for field in _SHOWN:
            _jargon_problem(tier[field], terms, ("tiers", i, field), bad)
        for fn in tier["mappings"]:
            _jargon_problem(fn, terms, ("tiers", i, "mappings", fn), bad, what="function name")
    return out


def _jargon_problem(text: str, terms: set[str], path: tuple[str | int, ...], bad: Any, what: str = "text") -> None:
    words = find_jargon(text, terms)
    if words:
        bad(path, f"{what} people see names {', '.join(map(repr, words))}: keep model names, memory options, "
                  "precision words and engine terms out of it")


def _check_order(items: list[dict[str, Any]], models: dict[str, Any] | None, bad: Any) -> None:
    for i in range(1, len(items)):
        lower, tier = items[i - 1], items[i]
        if parse_size(tier["target_vram"]) < parse_size(lower["target_vram"]):
            bad(("tiers", i, "target_vram"), f"{tier['target_vram']} is below tier {lower['id']!r} "
                                             f"({lower['target_vram']}); list tiers from lowest to highest")
        for fn, mapping in tier["mappings"].items():
            below = lower["mappings"].get(fn)
            if below is None:
                continue
            for field in ("resolution", "steps", "frames"):
                a, b = _effective(below, field, models), _effective(mapping, field, models)
                if a is not None and b is not None and b < a:
                    bad(("tiers", i, "mappings", fn, field), f"{b} is below tier {lower['id']!r} ({a}); "
                                                             "quality must not drop from a lower tier to a higher one")


def _effective(mapping: dict[str, Any], field: str, models: dict[str, Any] | None) -> int | None:
    if field == "steps" and "steps" not in mapping and models is not None:
        model = models["models"].get(mapping["model"])
        return model["default_steps"] if model else None
    value = mapping.get(field)
    return value if isinstance(value, int) else None


def _check_references(items: list[dict[str, Any]], models: dict[str, Any], bad: Any) -> None:
    known = models["models"]
    for i, tier in enumerate(items):
        for fn, mapping in tier["mappings"].items():
            path = ("tiers", i, "mappings", fn)
            model = known.get(mapping["model"])
            if model is None:
                bad((*path, "model"), f"model {mapping['model']!r} is not in models.yaml; "
                                      f"known: {', '.join(sorted(known))}")
                continue
            for j, option in enumerate(mapping.get("options", ())):
                if option not in model["memory_options"]:
                    bad((*path, "options", j), f"{mapping['model']!r} does not support memory option {option!r}; "
                                               f"it supports: {', '.join(model['memory_options']) or 'none'}")
            if model["modality"] == "video" and "frames" not in mapping:
                bad(path, f"{mapping['model']!r} makes video: give 'frames'")
            if model["modality"] == "image" and "frames" in mapping:
                bad((*path, "frames"), f"{mapping['model']!r} makes images: 'frames' does not apply")


def check_models(models: dict[str, Any], filename: str) -> list[Problem]:
    """Consistency of validated model profiles: options, precisions and roles they name exist."""
    out: list[Problem] = []
    precisions, options = models["precisions"], models["memory_options"]
    for name, family in models["families"].items():
        if sum(1 for m in models["models"].values() if m["family"] == name and m["modality"] == "video") \
                and "fps" not in family:
            out.append(Problem(filename, json_path(("families", name)), "a family that makes video needs 'fps'"))
    for model_id, model in models["models"].items():
        if model["family"] not in models["families"]:
            out.append(Problem(filename, json_path(("models", model_id, "family")),
                               f"family {model['family']!r} is not defined under 'families'"))
        for j, option in enumerate(model["memory_options"]):
            if option not in options:
                out.append(Problem(filename, json_path(("models", model_id, "memory_options", j)),
                                   f"memory option {option!r} is not defined under 'memory_options'"))
        roles = [c["role"] for c in model["components"].values()]
        for role in ("denoiser", "vae"):
            if roles.count(role) != 1:
                out.append(Problem(filename, json_path(("models", model_id, "components")),
                                   f"needs exactly one component with role {role!r}, has {roles.count(role)}"))
        for name, comp in model["components"].items():
            path = ("models", model_id, "components", name)
            if comp["role"] == "text_encoder" and "blocks" not in comp:
                out.append(Problem(filename, json_path(path), "a text encoder needs 'blocks' (its layers)"))
            for p in comp["weights"]:
                if p not in precisions:
                    out.append(Problem(filename, json_path((*path, "weights", p)),
                                       f"{p!r} is not a precision listed under 'precisions'"))
            if comp["precision"] not in comp["weights"]:
                out.append(Problem(filename, json_path((*path, "precision")),
                                   f"no weight size given for its precision {comp['precision']!r}"))
    return out


def check_project(data: dict[str, Any], tier_ids: list[str], filename: str) -> list[Problem]:
    """A validated project's quality and overrides name tiers that exist."""
    return [Problem(filename, json_path(path), f"{tier!r} is not a tier here; tiers: {', '.join(tier_ids)}")
            for path, tier in unknown_tiers(data, tier_ids)]


def check_hardware(hw: dict[str, Any], filename: str) -> list[Problem]:
    """A simulated machine's cards use no more memory than they have."""
    out = []
    for i, gpu in enumerate(hw["gpus"]):
        if "memory_used" in gpu and parse_size(gpu["memory_used"]) > parse_size(gpu["memory_total"]):
            out.append(Problem(filename, json_path(("gpus", i, "memory_used")),
                               f"{gpu['memory_used']} is more than the card's {gpu['memory_total']}"))
    return out
