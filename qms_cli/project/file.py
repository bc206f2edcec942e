"""project.json: find it, read it, and change the quality safely.

project.json belongs to the studio app; qms owns `quality` and `quality_overrides` only and never refuses a
file for any other key. A change goes through a temporary file in the same folder under a lock, follows
symlinks, keeps the file's mode, and touches only the bytes of the value that changes: every other key, its
order, the indentation and the line endings stay as they were. The whole resulting document is checked
before anything is written, and the file is replaced only if no other program saved it since it was read
(atomic.py); a file qms cannot read, validate or update is left byte-for-byte as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms_cli.catalog.parsing import READ_LIMIT as PROJECT_LIMIT  # a studio's canvas runs to tens of MB
from qms_cli.errors import DataError
from qms_cli.project.atomic import Identity, write_atomic
from qms_cli.values import Value

__all__ = ["PROJECT_FILE", "Project", "ProjectError", "ProjectProblem", "find_project", "read_project",
           "update_project", "write_atomic"]

PROJECT_FILE = "project.json"
LOCK_TIMEOUT_S = 30.0
SAVE_ATTEMPTS = 50  # another program saved between qms's read and its write: read again, this many times


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
        data = load_validated("project", text, lambda: _parse(text, path)) if cached else _parse(text, path, known)
    except ReadError as e:
        raise ProjectError(ProjectProblem(str(path), e.kind, e.message, limit=e.limit, value=e.reason)) from None
    except ParseError as e:
        raise ProjectError(_parse_problem(path, e)) from None
    except RecursionError:
        raise ProjectError(_too_deep(path)) from None
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


def _parse(text: str, path: Path, known: set[str] | None = None) -> Any:
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


def _parse_problem(path: Path, e: Any) -> ProjectProblem:
    return ProjectProblem(str(path), e.kind, e.message, value=e.value, line=e.line, column=e.column)


def _too_deep(path: Path) -> ProjectProblem:
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


def unknown_tiers(data: dict[str, Any], tier_ids: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """(path, tier) for each quality in the project that names no tier in `tier_ids`."""
    wanted: list[tuple[tuple[str, ...], Any]] = [(("quality",), data.get("quality"))]
    wanted += [(("quality_overrides", node), t) for node, t in data.get("quality_overrides", {}).items()]
    return [(path, tier) for path, tier in wanted if tier is not None and tier not in tier_ids]


def project_problem(where: str | os.PathLike[str] | None, tier_ids: list[str]) -> ProjectProblem | None:
    """Why the project found from `where` (or here up) cannot be used; None when it can or there is none."""
    try:
        read_project(find_project(where), tier_ids)
    except ProjectError as e:
        return e.problem
    except DataError:
        return None
    return None


def update_project(path: Path, change: Callable[[Project], str],
                   tier_ids: list[str] | None = None) -> tuple[Project, bool]:
    """Apply `change` (project -> new text) under the lock; (project after, whether it changed).
    The result must be a valid project (naming only `tier_ids`, when given) or nothing is written. When
    another program saves the file meanwhile, its save is read and the change applied to it again."""
    from qms_cli.catalog.cache import remember_validated
    from qms_cli.project.atomic import remove_abandoned, replace_if_unchanged

    known: set[str] = set()  # a retry must fit between two saves of the other program: validate once
    with _lock(path):
        remove_abandoned(path.resolve())
        for attempt in range(SAVE_ATTEMPTS):
            # A change is validated anyway (the result is checked), so the cache would only add a write.
            before = read_project(path, cached=False, known=known)
            try:
                text = change(before)
            except RecursionError:
                raise ProjectError(_too_deep(path)) from None
            after = _checked(path, text, tier_ids, known)
            if text == before.text:
                return after, False
            assert before.identity is not None and before.raw is not None
            if replace_if_unchanged(path, text, before.identity, before.raw, PROJECT_LIMIT, sync_first=attempt == 0):
                with contextlib.suppress(RecursionError):
                    remember_validated("project", text, after.data)
                return after, True
    raise ProjectError(ProjectProblem(str(path), "changing", f"{path}: another program saved it each time qms "
                                      f"was about to ({SAVE_ATTEMPTS} tries); the file is as that program left it"))


def _checked(path: Path, text: str, tier_ids: list[str] | None, known: set[str] | None = None) -> Project:
    """The project `text` would be, checked as a whole (format, owned keys, tiers) before it is written."""
    from qms_cli.catalog.parsing import ParseError

    try:
        project = Project(path, text, _parse(text, path, known))
    except ParseError as e:  # qms's own edit produced an invalid file: refuse rather than write it
        raise ProjectError(_parse_problem(path, e)) from None
    except RecursionError:
        raise ProjectError(_too_deep(path)) from None
    if tier_ids is not None:
        check_tiers(project, tier_ids)
    return project


def _lock(path: Path) -> Any:
    """An exclusive lock for this project file, kept in qms's cache folder (nothing is left beside it)."""
    import hashlib

    from filelock import FileLock, Timeout

    from qms_cli.paths import cache_dir

    folder = cache_dir() / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the lock folder {folder}: {e.strerror or e}") from None
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    lock = FileLock(str(folder / f"{key}.lock"), timeout=LOCK_TIMEOUT_S)

    class _Held:
        def __enter__(self) -> None:
            try:
                lock.acquire()
            except Timeout:
                raise DataError(f"{path}: another qms process has held it for {LOCK_TIMEOUT_S:.0f} s; "
                                "try again") from None

        def __exit__(self, *exc: object) -> None:
            lock.release()

    return _Held()
