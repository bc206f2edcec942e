"""project.json: find it, read it, and change the quality safely.

A change goes through a temporary file in the same folder (fsync, atomic rename) under a lock, follows
symlinks, keeps the file's mode, and touches only the bytes of the value that changes: every other key, its
order, the indentation and the final newline stay as they were. A file qms cannot read or validate is left
byte-for-byte as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError
from qms_cli.values import Value

PROJECT_FILE = "project.json"
LOCK_TIMEOUT_S = 30.0


@dataclass(frozen=True, eq=False, repr=False)
class Project(Value):
    """A project file's path, exact text and validated data."""

    path: Path
    text: str
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.path.resolve().parent.name)

    @property
    def quality(self) -> str | None:
        return self.data.get("quality")

    @property
    def overrides(self) -> dict[str, str]:
        return dict(self.data.get("quality_overrides", {}))


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
        if (folder / PROJECT_FILE).is_file():
            return folder / PROJECT_FILE
    raise DataError(f"no {PROJECT_FILE} in {here} or its parents; create one with `qms init` or pass --project")


def read_project(path: Path, tier_ids: list[str] | None = None) -> Project:
    """The validated project; with tier_ids, its quality and overrides must name those tiers."""
    from qms_cli.cache import load_validated
    from qms_cli.catalog import check_document, summary
    from qms_cli.parsing import read_text

    text = read_text(path)

    def parse_and_validate() -> Any:
        data, problems = check_document(text, str(path), "project")
        if problems:
            raise DataError(summary(problems))
        return data

    data = load_validated("project", text, parse_and_validate)
    if tier_ids is not None and unknown_tiers(data, tier_ids):
        from qms_cli.semantics import check_project

        raise DataError(summary(check_project(data, tier_ids, str(path))))
    return Project(path, text, data)


def unknown_tiers(data: dict[str, Any], tier_ids: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """(path, tier) for each quality in the project that names no tier in `tier_ids`."""
    wanted: list[tuple[tuple[str, ...], Any]] = [(("quality",), data.get("quality"))]
    wanted += [(("quality_overrides", node), t) for node, t in data.get("quality_overrides", {}).items()]
    return [(path, tier) for path, tier in wanted if tier is not None and tier not in tier_ids]


def update_project(path: Path, change: Callable[[Project], str]) -> tuple[Project, bool]:
    """Apply `change` (old project -> new text) under the lock; (project after, whether it changed)."""
    from qms_cli.cache import remember_validated
    from qms_cli.catalog import check_document, summary

    with _lock(path):
        before = read_project(path)
        text = change(before)
        if text == before.text:
            return before, False
        data, problems = check_document(text, str(path), "project")
        if problems:  # qms's own edit produced an invalid file: refuse rather than write it
            raise DataError(summary(problems))
        write_atomic(path, text)
        remember_validated("project", text, data)
        return Project(path, text, data), True


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


def write_atomic(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Replace (or, if `exclusive`, create) the file at `path` with `text`, all or nothing."""
    import stat
    import tempfile

    target = path.resolve()  # a symlink stays a symlink: its target is replaced
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise DataError(f"{path}: cannot write in {target.parent} ({e.strerror or e}); the file is unchanged") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            os.link(tmp, target)  # fails if the file appeared meanwhile: never clobber
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except FileExistsError:
        os.unlink(tmp)
        raise DataError(f"{path}: already exists; pass --force to replace it") from None
    except OSError as e:
        os.unlink(tmp)
        raise DataError(f"{path}: cannot be written ({e.strerror or e}); the file is unchanged") from None
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
