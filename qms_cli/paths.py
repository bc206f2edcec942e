"""Where qms finds its bundled data and keeps its own files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """A bundled data folder ("profiles" or "schemas"): inside the wheel, or the repo root in a checkout."""
    installed = _PKG / "_data" / name
    return installed if installed.is_dir() else _PKG.parent / name


def schema_file(name: str) -> Path:
    """A packaged JSON Schema by name: "tiers" -> schemas/tiers.schema.json."""
    return bundled("schemas") / f"{name}.schema.json"


def cache_dir() -> Path:
    """qms's cache folder: $QMS_CACHE_DIR, else the platform's user cache folder."""
    env = os.environ.get("QMS_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform.startswith("linux"):
        # What platformdirs answers on Linux, without its ~3 ms import on every start.
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        return Path(xdg or Path.home() / ".cache") / "qms"
    import platformdirs

    return Path(platformdirs.user_cache_dir("qms", appauthor=False))


def log_dir() -> Path:
    """Where details of unexpected errors are written: $QMS_LOG_DIR, else the platform's user log folder."""
    env = os.environ.get("QMS_LOG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_log_dir("qms", appauthor=False))
