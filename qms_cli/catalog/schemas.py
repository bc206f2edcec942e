"""The packaged JSON Schemas and validation that reports every error as `file::$.json.path: message`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from qms_cli.paths import bundled
from qms_cli.values import Value

KINDS = ("tiers", "models", "hardware", "project", "throughput", "calibration", "cards")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, eq=False, repr=False)
class Problem(Value):
    """One thing wrong with one file, in check-jsonschema's `file::$.path: message` form."""

    filename: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    syntax: bool = False  # a parse error: shown compiler-style, `file:line:column: message`

    def __str__(self) -> str:
        if self.syntax:
            return f"{self.filename}:{self.line}:{self.column}: {self.message}"
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.filename}::{self.path}: {self.message}{where}"

    def as_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "path": self.path, "message": self.message,
                "line": self.line, "column": self.column}


def json_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """`$.tiers[0].mappings['Create Image']` for ("tiers", 0, "mappings", "Create Image")."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += f".{part}"
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def schema_dir() -> Path:
    return bundled("schemas")


@cache
def _validator(name: str) -> Any:
    import jsonschema  # deferred: ~60 ms of imports, needed only when something is (re)validated
    from referencing import Registry, Resource

    resources = []
    for path in sorted(schema_dir().glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
        if path.name == f"{name}.schema.json":
            root = contents
    registry: Registry[Any] = Registry().with_resources(resources)
    cls = jsonschema.validators.validator_for(root)
    return cls(root, registry=registry, format_checker=cls.FORMAT_CHECKER)


def validate(data: Any, schema: str, filename: str,
             lines: dict[tuple[str | int, ...], tuple[int, int]] | None = None) -> list[Problem]:
    """Every schema error in `data` (best match for anyOf/oneOf), in document order."""
    problems = []
    for error in _validator(schema).iter_errors(data):
        error = _best(error)
        parts = tuple(error.absolute_path)
        at = parts
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            at = (*parts, extra[0]) if extra else parts  # point at the unknown key's line
        pos = _nearest(lines, at) if lines else None
        problems.append(Problem(filename, json_path(parts), _message(error), *(pos or (None, None))))
    return sorted(problems, key=lambda p: (p.line or 0, p.path, p.message))


def _best(error: Any) -> Any:
    """For anyOf/oneOf, the error that best explains the failure: the alternative with the fewest errors
    (the one the document came closest to), then jsonschema's best_match within it."""
    from jsonschema.exceptions import best_match

    while error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(branches.values(), key=len)
        error = best_match(closest)
    return error


def _nearest(lines: dict[tuple[str | int, ...], tuple[int, int]],
             parts: tuple[str | int, ...]) -> tuple[int, int] | None:
    while parts not in lines and parts:
        parts = parts[:-1]
    return lines.get(parts)


def _message(error: Any) -> str:
    """jsonschema's message, shortened where it would dump a whole sub-document."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        if allowed and extra:
            return f"unknown key {', '.join(map(repr, extra))}; allowed: {', '.join(allowed)}"
    if error.validator == "required":
        return str(error.message).replace(" is a required property", " is required")
    if error.validator in ("type", "enum", "const", "pattern") and isinstance(error.instance, (dict, list)):
        return f"expected {error.validator_value!r}, found {type(error.instance).__name__}"
    return str(error.message)
