"""Where qms finds its bundled data and keeps its own files."""

from __future__ import annotations

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


def _user_dir(env: str, xdg: str, linux_default: str, kind: str) -> Path:
    """$env if set; on Linux the XDG folder (what platformdirs answers, without its ~3 ms import on every
    start); elsewhere platformdirs."""
    from qms_cli import env as variables

    override = variables.folder(env)
    if override:
        return override
    if sys.platform.startswith("linux"):
        return (variables.base_folder(xdg) or variables.home() / linux_default) / "qms"
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")("qms", appauthor=False))


def cache_dir() -> Path:
    """qms's cache folder (validated documents, project locks): $QMS_CACHE_DIR or the user cache folder."""
    return _user_dir("QMS_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "cache")


def data_dir() -> Path:
    """qms's data folder (calibrations, history): $QMS_DATA_DIR or the user data folder."""
    return _user_dir("QMS_DATA_DIR", "XDG_DATA_HOME", ".local/share", "data")


def calibration_file(fingerprint: str) -> Path:
    """Where `qms bench` keeps a device's calibration."""
    return data_dir() / "calibration" / f"{fingerprint}.json"


def history_file() -> Path:
    """The history database: $QMS_DB, else history.sqlite3 in the data folder."""
    from qms_cli.env import folder

    return folder("QMS_DB") or data_dir() / "history.sqlite3"


def log_dir() -> Path:
    """Where details of unexpected errors are written: $QMS_LOG_DIR, else the platform's user log folder."""
    from qms_cli.env import folder, home

    override = folder("QMS_LOG_DIR")
    if override:
        return override
    if sys.platform.startswith("linux"):
        home()  # platformdirs would put the logs under an empty or relative HOME
    import platformdirs

    return Path(platformdirs.user_log_dir("qms", appauthor=False))
