"""Outcomes a worker has but the queue's database has not taken yet, kept on this machine's disk (issue 15).

A finished run is written here before anything else; the history row is added, then the queue marks the task
done, and only then is the entry removed. A worker delivers what is left (its own, or a killed worker's on
this machine) before it claims again, and a claim with an entry here is never handed out again: a finished
run is not rerun because the database was away when it ended.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def folder() -> Path:
    from qms_cli.paths import data_dir

    return data_dir() / "queue-journal"


def _prefix(queue: str) -> str:
    return hashlib.sha256(queue.encode()).hexdigest()[:16]


def path_for(queue: str, task_id: int) -> Path:
    return folder() / f"{_prefix(queue)}-{task_id}.json"


def write(path: Path, entry: dict[str, Any]) -> None:
    """Write (or rewrite) one entry, durably (project/atomic.py: synced temporary file, rename, synced folder);
    DataError if it cannot be."""
    from qms_cli.project.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(entry))


def task_of(path: Path) -> int | None:
    """The task id an entry's name carries."""
    tail = path.stem.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def read(path: Path) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


def holds(queue: str, task_id: int) -> bool:
    """An outcome for this task waits here to be delivered."""
    return path_for(queue, task_id).exists()


def pending(queue: str) -> list[Path]:
    """This queue's entries, oldest task first."""
    prefix = _prefix(queue) + "-"
    try:
        names = [p for p in folder().iterdir() if p.name.startswith(prefix) and p.suffix == ".json"]
    except OSError:
        return []
    return sorted(names, key=lambda p: task_of(p) or 0)


@contextlib.contextmanager
def taken(path: Path) -> Iterator[bool]:
    """Hold an entry while writing or delivering it (False: another worker on this machine holds it)."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
        with contextlib.suppress(OSError):
            if not path.exists():
                os.unlink(str(path) + ".lock")


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
