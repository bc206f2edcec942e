"""Changing project.json: under a lock, checked as a whole before anything is written, and replaced only if no
other program saved it since it was read (atomic.py); when one did, its save is read and the change applied
again. A file qms cannot update is left byte for byte as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError
from qms_cli.project.file import (
    PROJECT_LIMIT,
    Project,
    ProjectError,
    ProjectProblem,
    check_tiers,
    parse_problem,
    parse_project,
    read_project,
    too_deep_problem,
)

__all__ = ["update_project"]

LOCK_TIMEOUT_S = 30.0
SAVE_ATTEMPTS = 50  # another program saved between qms's read and its write: read again, this many times


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
                raise ProjectError(too_deep_problem(path)) from None
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
        project = Project(path, text, parse_project(text, path, known))
    except ParseError as e:  # qms's own edit produced an invalid file: refuse rather than write it
        raise ProjectError(parse_problem(path, e)) from None
    except RecursionError:
        raise ProjectError(too_deep_problem(path)) from None
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
