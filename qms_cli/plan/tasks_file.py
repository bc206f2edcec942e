"""`qms plan --tasks FILE.jsonl`: one task per line, bad lines reported by number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qms_cli.catalog.parsing import json_object_line
from qms_cli.plan.manager import Task
from qms_cli.values import Value

FIELDS: dict[str, tuple[type, ...]] = {"function": (str,), "quality": (str,), "node": (str,), "count": (int,),
                                       "frames": (int,), "seconds": (int, float)}


@dataclass(frozen=True, eq=False, repr=False)
class LineError(Value):
    line: int
    message: str


def read_tasks(path: Path) -> tuple[list[tuple[int, Task]], list[LineError]]:
    """(line number, task) for every good line, and an error for every bad one (blank lines are skipped)."""
    from qms_cli.catalog.parsing import read_text

    tasks: list[tuple[int, Task]] = []
    errors: list[LineError] = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            tasks.append((n, parse_task(line)))
        except ValueError as e:
            errors.append(LineError(n, str(e)))
    return tasks, errors


def parse_task(line: str) -> Task:
    data = json_object_line(line, FIELDS, 'a task is a JSON object, e.g. {"function": "Create Image", "quality": '
                                          '"high"}')
    if "function" not in data:
        raise ValueError("'function' is required, e.g. \"Create Image\"")
    for key, value in data.items():
        kind = FIELDS[key]
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise ValueError(f"{key!r} must be {'text' if kind == (str,) else 'a number'}, not {value!r}")
    return Task(data["function"], quality=data.get("quality"), node=data.get("node"), count=data.get("count") or 1,
                frames=data.get("frames"), seconds=data.get("seconds"))
