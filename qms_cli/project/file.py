"""project.json: find it and read it, as a validated `Project` or a `ProjectProblem` that says why not.

project.json belongs to the studio app; qms owns `quality` and `quality_overrides` only and never refuses a
file for any other key. Changing it (under a lock, touching only the bytes of the value that changes, replaced
only if no other program saved it meanwhile) is update.py's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms_cli.catalog.parsing import READ_LIMIT as PROJECT_LIMIT  # a studio's canvas runs to tens of MB
from qms_cli.catalog.tiers import unknown_tiers
from qms_cli.errors import DataError
from qms_cli.project.atomic import Identity
from qms_cli.values import Value

__all__ = ["PROJECT_FILE", "PROJECT_LIMIT", "Project", "ProjectError", "ProjectProblem", "find_project",
           "project_problem", "read_project"]

PROJECT_FILE = "project.json"


@dataclass(frozen=True, eq=False, repr=False)
class Project(Value):
    """A project file's path, exact text and validated data (and, when read from disk, its identity)."""

    path: Path
    text: str
    data: dict[str, Any]
    identity: Identity | None = None
    raw: bytes | None = None

    @property
    def name(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name.strip() else self.path.resolve().parent.name

    @property
    def created(self) -> str | None:
        created = self.data.get("created")
        return created if isinstance(created, str) else None

    @property
    def quality(self) -> str | None:
        return self.data.get("quality")

    @property
    def overrides(self) -> dict[str, str]:
        return dict(self.data.get("quality_overrides", {}))


@dataclass(frozen=True, eq=False, repr=False)
class ProjectProblem(Value):
    """Why a project file cannot be used, as facts. `kind`: missing, folder, not_a_file, too_large,
    unreadable, not_utf8, syntax, comments, duplicate, too_deep, not_an_object, invalid, unknown_quality,
    changing. `detail` is the technical form (`file::$.path: message`, `file:line:col: message`)."""

    path: str
    kind: str
    detail: str
    field: str | None = None  # the member qms owns that is wrong: quality or quality_overrides
    node: str | None = None  # the override's node
    value: str | None = None  # the offending value (a tier id, a key, JSON text)
    line: int | None = None
    column: int | None = None
    limit: int | None = None  # bytes, for too_large
    accepted: tuple[str, ...] = ()  # tier ids, for unknown_quality

    def as_json(self) -> dict[str, Any]:
        return {"file": self.path, "kind": self.kind, "field": self.field, "node": self.node, "value": self.value,
                "line": self.line, "column": self.column, "message": self.detail}


class ProjectError(DataError):
    """A project file that cannot be used (exit 1); `problem` holds the facts, the message the technical form."""

    def __init__(self, problem: ProjectProblem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def find_project(where: str | os.PathLike[str] | None = None) -> Path:
    """The project file: `where` (a file, or a folder holding project.json), else the nearest
    project.json in the current folder or its parents."""
    if where is not None:
        path = Path(where)
        if path.is_dir():
            path = path / PROJECT_FILE
        if not path.exists():
            raise DataError(f"{path}: no such file; create a project with `qms init`")
        return path
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.exists() and not candidate.is_dir():  # a device or pipe is found, then refused
            return candidate
    raise DataError(f"no {PROJECT_FILE} in {here} or its parents; create one with `qms init` or pass --project")


def read_project(path: Path, tier_ids: list[str] | None = None, *, cached: bool = True,
                 known: set[str] | None = None) -> Project:
    """The validated project; with tier_ids, its quality and overrides must name those tiers.
    A ProjectError says why it cannot be used."""
    from qms_cli.catalog.cache import load_validated
    from qms_cli.catalog.parsing import ParseError, ReadError, decode, read_bytes

    try:
        raw, st = read_bytes(path, PROJECT_LIMIT)
        text = decode(raw, str(path))
        data = (load_validated("project", text, lambda: parse_project(text, path)) if cached
                else parse_project(text, path, known))
    except ReadError as e:
        raise ProjectError(ProjectProblem(str(path), e.kind, e.message, limit=e.limit, value=e.reason)) from None
    except ParseError as e:
        raise ProjectError(parse_problem(path, e)) from None
    except RecursionError:
        raise ProjectError(too_deep_problem(path)) from None
    from qms_cli.project.atomic import identity

    project = Project(path, text, data, identity(st), raw)
    if tier_ids is not None:
        check_tiers(project, tier_ids)
    return project


def check_tiers(project: Project, tier_ids: list[str]) -> None:
    """A ProjectError when the project's quality or an override names no tier in `tier_ids`."""
    unknown = unknown_tiers(project.data, tier_ids)
    if unknown:
        from qms_cli.catalog.load import summary
        from qms_cli.catalog.semantics import check_project

        (where, tier), path = unknown[0], str(project.path)
        raise ProjectError(ProjectProblem(path, "unknown_quality", summary(check_project(project.data, tier_ids, path)),
                                          field=where[0], node=where[1] if len(where) > 1 else None, value=tier,
                                          accepted=tuple(tier_ids)))


def parse_project(text: str, path: Path, known: set[str] | None = None) -> Any:
    """Parsed and validated; `known` holds the owned parts (quality, quality_overrides) already found valid,
    which need no second look: the schema constrains nothing else (every other key is the app's)."""
    from qms_cli.catalog.load import schema_problems, summary
    from qms_cli.catalog.parsing import parse_json

    data = parse_json(text, str(path))
    owned = _owned(data)
    if known is not None and owned in known:
        return data
    problems = schema_problems(data, text, str(path), "project")
    if problems:
        raise ProjectError(_schema_problem(path, data, problems[0].path, summary(problems)))
    if known is not None and owned is not None:
        known.add(owned)
    return data


def _owned(data: Any) -> str | None:
    import json

    if not isinstance(data, dict):
        return None
    return json.dumps({k: data[k] for k in ("quality", "quality_overrides") if k in data}, sort_keys=True)


def parse_problem(path: Path, e: Any) -> ProjectProblem:
    return ProjectProblem(str(path), e.kind, e.message, value=e.value, line=e.line, column=e.column)


def too_deep_problem(path: Path) -> ProjectProblem:
    from qms_cli.catalog.parsing import too_deep

    return ProjectProblem(str(path), "too_deep", too_deep(str(path)).message)


def _schema_problem(path: Path, data: Any, where: str, detail: str) -> ProjectProblem:
    import json

    def shown(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else text[:37] + "..."

    if not isinstance(data, dict):
        return ProjectProblem(str(path), "not_an_object", detail, value=type(data).__name__)
    if where.startswith("$.quality_overrides"):
        overrides = data.get("quality_overrides")
        if isinstance(overrides, dict):
            for node, tier in overrides.items():
                if not isinstance(tier, str) or not _is_id(tier):
                    return ProjectProblem(str(path), "invalid", detail, field="quality_overrides", node=node,
                                          value=shown(tier))
        return ProjectProblem(str(path), "invalid", detail, field="quality_overrides", value=shown(overrides))
    return ProjectProblem(str(path), "invalid", detail, field="quality", value=shown(data.get("quality")))


def _is_id(text: str) -> bool:
    import json
    import re

    from qms_cli.paths import schema_file

    pattern = json.loads(schema_file("common").read_text(encoding="utf-8"))["$defs"]["id"]["pattern"]
    return re.search(pattern, text) is not None


def project_problem(where: str | os.PathLike[str] | None, tier_ids: list[str]) -> ProjectProblem | None:
    """Why the project found from `where` (or here up) cannot be used; None when it can or there is none."""
    try:
        read_project(find_project(where), tier_ids)
    except ProjectError as e:
        return e.problem
    except DataError:
        return None
    return None
