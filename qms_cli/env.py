"""Environment variables, parsed in one place like the options they stand for (issue 15).

A value that does not parse is a UsageError (exit 2) naming the variable, the value and what is accepted,
raised where the value is first needed; an empty variable is the same as an unset one.

Read through here: paths.py (QMS_DATA_DIR, QMS_CACHE_DIR, QMS_LOG_DIR, QMS_DB, XDG_*_HOME, HOME),
runs/history.py (QMS_DB_TIMEOUT), queue/model.py (QMS_QUEUE_LEASE), exporter/monitor.py and queue/store.py
(QMS_QUEUE_URL), hardware/__init__.py (VRAM_LIMIT, CUDA_VISIBLE_DEVICES), queue/worker.py (QMS_RUNNER). Read
directly, as plain switches or names on the start-up path: catalog/load.py (QMS_PROFILES), catalog/cache.py
(QMS_NO_CACHE), render/output.py (QMS_OUTPUT).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from qms_cli.errors import UsageError


def text(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value with surrounding blanks removed; None when unset or empty."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def seconds(name: str, default: float, *, minimum: float, maximum: float) -> float:
    """A number of seconds ("30", "2.5", "90s", "5 minutes") from minimum to maximum; `default` when unset."""
    raw = text(name)
    if raw is None:
        return default
    accepted = (f"give a number of seconds from {minimum:g} to {maximum:g}, e.g. {default:g} or "
                f"\"{default:g}s\"")
    try:
        value = float(raw)
    except ValueError:
        from qms_cli.units import parse_duration

        try:
            value = parse_duration(raw)
        except UsageError:
            raise UsageError(f"{name}={raw!r} is not a number of seconds; {accepted}") from None
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise UsageError(f"{name}={raw!r} is out of range; {accepted}")
    return value


def size(name: str, environ: Mapping[str, str] | None = None) -> int | None:
    """Bytes in a size variable ("12GB", as the option it stands for); None when unset."""
    raw = text(name, environ)
    if raw is None:
        return None
    from qms_cli.units import parse_size

    return parse_size(raw, what=name)


def folder(name: str) -> Path | None:
    """A folder variable; None when unset or empty."""
    raw = text(name)
    return Path(raw).expanduser() if raw else None


def base_folder(name: str) -> Path | None:
    """An XDG base folder: used only when absolute (the XDG specification says to ignore relative ones)."""
    raw = text(name)
    return Path(raw) if raw and Path(raw).is_absolute() else None


def home() -> Path:
    """The home folder; a UsageError when HOME is empty or relative (qms would write its files who knows where)."""
    raw = os.environ.get("HOME")
    if raw is not None and not Path(raw.strip()).is_absolute():
        raise UsageError(f"HOME={raw!r} is not a folder qms can keep its files in; set HOME to your home folder "
                         "(an absolute path), or QMS_DATA_DIR, QMS_CACHE_DIR and QMS_LOG_DIR")
    return Path.home()
