"""`qms validate`: every problem in tier, model, hardware and project files, for CI and pre-commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qms_cli.catalog import semantics
from qms_cli.catalog.load import (
    check_document,
    hardware_files,
    locate,
    parse_document,
    parse_problem,
    profile_dirs,
    schema_problems,
)
from qms_cli.catalog.parsing import ParseError, read_text
from qms_cli.catalog.schemas import KINDS, Problem
from qms_cli.errors import QmsError, UsageError

_BY_NAME = {"tiers": "tiers", "models": "models", "project": "project", "throughput": "throughput", "cards": "cards"}
_BY_KEY = (("tiers", "tiers"), ("models", "models"), ("efficiency", "throughput"), ("coefficients", "calibration"),
           ("gpus", "hardware"),
           ("quality", "project"),
           ("quality_overrides", "project"), ("canvas", "project"))


@dataclass
class Report:
    """Files checked and every problem found."""

    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "checked": self.checked,
                "errors": [p.as_json() for p in self.problems]}


@dataclass
class _Doc:
    path: Path
    kind: str
    data: Any


def expand(paths: list[str]) -> list[Path]:
    """Files to check: each path, or a folder's tiers.yaml, models.yaml, hardware/*.yaml and project.json."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            names = ("tiers.yaml", "models.yaml", "throughput.yaml", "cards.yaml", "project.json")
            found = [p / n for n in names if (p / n).is_file()]
            found += sorted((p / "hardware").glob("*.y*ml"))
            if not found:
                raise UsageError(f"{p}: no tiers.yaml, models.yaml, hardware/*.yaml or project.json in this folder")
            out += found
        else:
            out.append(p)
    return out


def active_files(profiles: str | None) -> list[Path]:
    """The active profiles: tiers, models and every simulated machine on the search path."""
    dirs = profile_dirs(profiles)
    files = [locate(dirs, n) for n in ("tiers.yaml", "models.yaml", "throughput.yaml", "cards.yaml")]
    return files + list(hardware_files(dirs).values())


def detect_kind(path: Path, data: Any) -> str | None:
    """A file's kind from its name, else from its top-level keys."""
    if path.stem in _BY_NAME:
        return _BY_NAME[path.stem]
    if path.parent.name == "hardware":
        return "hardware"
    if isinstance(data, dict):
        for key, kind in _BY_KEY:
            if key in data:
                return kind
    return None


def validate_paths(paths: list[str], kind: str | None = None, profiles: str | None = None) -> Report:
    """Validate files (default: the active profiles) against their schemas and each other."""
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind!r} is not a kind; choose one of: {', '.join(KINDS)}")
    report = Report()
    docs: list[_Doc] = []
    for path in expand(paths) if paths else active_files(profiles):
        report.checked.append(str(path))
        doc = _check_file(path, kind, report)
        if doc is not None:
            docs.append(doc)
    for doc in docs:
        report.problems += _with_lines(doc, _semantic(doc, docs, profiles, report))
    report.problems.sort(key=lambda p: (report.checked.index(p.filename) if p.filename in report.checked
                                        else len(report.checked), p.line or 0, p.path))
    return report


def _check_file(path: Path, kind: str | None, report: Report) -> _Doc | None:
    name = str(path)
    try:
        text = read_text(path)
    except ParseError as e:
        report.problems.append(parse_problem(e))
        return None
    except QmsError as e:
        report.problems.append(Problem(name, "$", e.message.removeprefix(f"{name}: ")))
        return None
    try:
        data = parse_document(text, name)
    except ParseError as e:
        report.problems.append(parse_problem(e))
        return None
    found = kind or detect_kind(path, data)
    if found is None:
        report.problems.append(Problem(name, "$", "cannot tell what kind of file this is; pass --kind "
                                                   f"({', '.join(KINDS)})"))
        return None
    problems = schema_problems(data, text, name, found)
    report.problems += problems
    return None if problems else _Doc(path, found, data)


def _with_lines(doc: _Doc, problems: list[Problem]) -> list[Problem]:
    """Semantic problems in YAML, pointed at their lines."""
    if not problems or doc.path.suffix == ".json":
        return problems
    from dataclasses import replace

    from qms_cli.catalog.parsing import positions
    from qms_cli.catalog.schemas import json_path

    lines = {json_path(parts): pos for parts, pos in positions(read_text(doc.path)).items()}
    return [replace(p, line=lines[p.path][0], column=lines[p.path][1]) if p.path in lines else p
            for p in problems]


def _semantic(doc: _Doc, docs: list[_Doc], profiles: str | None, report: Report) -> list[Problem]:
    name = str(doc.path)
    if doc.kind == "models":
        return semantics.check_models(doc.data, name)
    if doc.kind == "hardware":
        return semantics.check_hardware(doc.data, name)
    if doc.kind in ("throughput", "calibration", "cards"):
        return []
    if doc.kind == "tiers":
        models = _companion(doc, docs, "models", profiles, report)
        return semantics.check_tiers(doc.data, models, name)
    tiers = _companion(doc, docs, "tiers", profiles, report)
    ids = [t["id"] for t in tiers["tiers"]] if tiers else None
    return semantics.check_project(doc.data, ids, name) if ids is not None else []


def _companion(doc: _Doc, docs: list[_Doc], kind: str, profiles: str | None, report: Report) -> Any:
    """The models a tier file is checked against (or the tiers a project is): one given alongside, else one
    in the same folder, else the active one. None when that file is itself broken (reported on its own)."""
    for other in docs:
        if other.kind == kind:
            return other.data
    sibling = doc.path.parent / f"{kind}.yaml"
    try:
        source = sibling if doc.kind == "tiers" and sibling.is_file() else locate(profile_dirs(profiles),
                                                                                 f"{kind}.yaml")
        data, problems = check_document(read_text(source), str(source), kind)
    except QmsError as e:
        report.problems.append(Problem(str(doc.path), "$", f"could not check against the {kind}: {e.message}"))
        return None
    if problems:
        report.problems.append(Problem(str(doc.path), "$", f"could not check against {source}: "
                                                           f"it has {len(problems)} problem(s)"))
        return None
    return data
