"""The calibration file of each device: where it lives, reading and validating it, setting aside speeds fitted
by an older qms, and saving it (atomically; elsewhere when its folder cannot be written).

What a calibration holds and how its speeds are fitted: qms_cli/estimate/calibration.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from qms_cli.estimate.calibration import VERSION, Calibration

if TYPE_CHECKING:
    from qms_cli.hardware.resources import Notice, Resources


def default_path(fingerprint: str) -> Path:
    from qms_cli.paths import calibration_file

    return calibration_file(fingerprint)


def save(cal: Calibration, path: Path | None = None) -> Path:
    """Write the calibration (atomically) to `path` or the default place for its fingerprint."""
    from qms_cli.project.atomic import write_atomic

    target = path or default_path(cal.fingerprint)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, json.dumps(cal.as_json(), indent=1) + "\n")
    return target


def save_or_keep(cal: Calibration, path: Path | None = None) -> tuple[Path | None, str | None]:
    """(where it was written, why not where it belongs): the default place or `path`, else, when that folder
    cannot be written, the current folder, else the temporary folder; (None, why) when nowhere can be."""
    import tempfile

    from qms_cli.errors import DataError

    target = path or default_path(cal.fingerprint)
    try:
        return save(cal, target), None
    except (OSError, DataError) as e:
        problem = e.message if isinstance(e, DataError) else f"{target}: {e.strerror or e}"
    for folder in (".", tempfile.gettempdir()):
        try:
            return save(cal, Path(folder).absolute() / f"calibration-{cal.fingerprint}.json"), problem
        except (OSError, DataError):
            continue
    return None, problem


def load(fingerprint: str) -> Calibration | None:
    """The stored calibration for a fingerprint, validated, or None. A broken file is a DataError."""
    path = default_path(fingerprint)
    if not path.is_file():
        return None
    return read(path)


def read(path: Path) -> Calibration:
    from qms_cli.catalog.load import read_document

    return Calibration.from_json(read_document(path, "calibration"))


def for_resources(resources: Resources) -> tuple[dict[str, Calibration], list[Notice]]:
    """The stored calibrations of this machine's devices (best card and processor), by fingerprint, and a
    notice for each one that could not be used: unreadable (then ignored: estimates fall back to reference
    speeds), or its speeds fitted by an older qms (set aside)."""
    from qms_cli.errors import DataError
    from qms_cli.hardware.resources import Notice

    out, problems = {}, []
    for fp in sorted({resources.fingerprint, resources.cpu_fingerprint}):
        try:
            cal = load(fp)
        except DataError as e:
            problems.append(Notice("calibration_unreadable", error=e.message))
            continue
        if cal is not None and cal.version < VERSION and cal.fit:
            # Its speeds were fitted to work counted the old way (every parameter for every token): planning with
            # them would be ~1.8x off. Memory fits and a runner's whole-task times do not depend on that count.
            problems.append(Notice("calibration_outdated", device=cal.device, date=cal.date[:10]))
            cal = replace(cal, fit=None)
        if cal is not None:
            out[fp] = cal
    return out, problems
