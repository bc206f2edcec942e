"""What `qms accuracy`, `qms stats` and `qms history ...` do."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from qms_cli.errors import UsageError


def since_time(text: str | None) -> str | None:
    """An ISO time from a date ("2026-11-01") or a duration ago ("30d")."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None).isoformat()
    except ValueError:
        pass
    from qms_cli.units import parse_duration

    try:
        ago = parse_duration(text)
    except UsageError:
        raise UsageError(f"--since {text!r}: give a date (2026-11-01) or a duration ago (30d, 12h)") from None
    return (datetime.now(timezone.utc) - timedelta(seconds=ago)).isoformat(timespec="milliseconds")


def _open(db: Path | None, *, write: bool = False) -> Any:
    from qms_cli.runs import history

    path = db or history.default_path()
    return history.connect(path, create=False) if write else history.open_read(path)


def show_accuracy(since: str | None, db: Path | None, as_json: bool) -> None:
    from qms_cli.render.history import accuracy_view
    from qms_cli.runs import history
    from qms_cli.runs.analytics import accuracy

    conn = _open(db)
    start = since_time(since)
    groups = accuracy(history.accuracy_rows(conn, start))
    if as_json:
        from qms_cli.render.output import emit_json

        emit_json({"since": start, "groups": groups})
    else:
        accuracy_view(groups)


def show_stats(since: str | None, db: Path | None, as_json: bool) -> None:
    from qms_cli.render.history import stats_view
    from qms_cli.runs import history
    from qms_cli.runs.analytics import stats

    conn = _open(db)
    start = since_time(since)
    result = stats(history.stats_rows(conn, start))
    if as_json:
        from qms_cli.render.output import emit_json

        emit_json({"since": start, **result})
    else:
        stats_view(result)


def _as_dicts(rows: Any) -> list[dict[str, Any]]:
    from qms_cli.runs.history import COLUMNS

    names = ("id", *COLUMNS)
    return [dict(zip(names, r, strict=True)) for r in rows]


def list_history(limit: int, since: str | None, db: Path | None, as_json: bool) -> None:
    from qms_cli.render.history import history_view
    from qms_cli.runs import history

    conn = _open(db)
    runs = _as_dicts(history.rows(conn, since=since_time(since), limit=limit, newest_first=True))
    if as_json:
        from qms_cli.render.output import emit_json

        emit_json({"runs": runs})
    else:
        history_view(runs)


def prune_history(older_than: str, db: Path | None, as_json: bool) -> None:
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.runs import history
    from qms_cli.units import parse_duration

    try:
        age = parse_duration(older_than)
    except UsageError as e:
        raise UsageError(f"--older-than: {e.message}") from None
    before = (datetime.now(timezone.utc) - timedelta(seconds=age)).isoformat(timespec="milliseconds")
    n = history.prune(_open(db, write=True), before)
    if as_json:
        emit_json({"deleted": n, "before": before})
    else:
        emit_lines(m.pruned(n, before[:19].replace("T", " ")))


def export_history(fmt: str, since: str | None, db: Path | None, output: Path | None) -> None:
    from qms_cli.runs import history

    if fmt != "jsonl":
        raise UsageError(f"--format {fmt!r}: the format is jsonl")
    conn = _open(db)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for run in _as_dicts(history.rows(conn, since=since_time(since))):
            out.write(json.dumps(run, ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()
