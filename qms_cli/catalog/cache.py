"""A cache of documents that parsed and validated, keyed by their exact bytes and the schema's bytes.

Parsing YAML and loading jsonschema cost ~80 ms, more than a whole `qms show` may take. A document whose
bytes (and schema) were seen before is served from here as JSON; anything else is parsed and validated.
Errors are never cached, and a cache that cannot be read or written is simply skipped.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qms_cli.paths import cache_dir, schema_file

_KEEP = 256  # entries kept; older ones are pruned when a new one is written


# The code that decides validity: an edit to any of these (in a checkout) invalidates the cache.
_CHECKERS = ("catalog/schemas.py", "catalog/semantics.py", "catalog/parsing.py", "catalog/jargon.py", "units.py")


def _entry(kind: str, text: str, schemas: tuple[str, ...]) -> tuple[Path, bytes]:
    from qms_cli import __version__
    here = Path(__file__).parent.parent  # qms_cli/
    stamps = ",".join(str((here / name).stat().st_mtime_ns) for name in _CHECKERS)
    key = f"{__version__}\0{stamps}\0{kind}\0".encode()
    for name in schemas:
        key += schema_file(name).read_bytes() + b"\0"
    key += text.encode("utf-8")
    # crc32 names the entry (zlib is loaded already; hashlib would add ~2.5 ms to every start); the entry
    # holds the whole key, compared on every hit, so a crc collision is a miss, never a wrong answer.
    return cache_dir() / "validated" / f"{kind}-{len(key):x}-{zlib.crc32(key):08x}.json", key


def load_validated(kind: str, text: str, parse_and_validate: Callable[[], Any],
                   schemas: tuple[str, ...] | None = None) -> Any:
    """The validated data of `text`: from the cache, or from `parse_and_validate()` (then cached).
    The key covers `text`, the schemas it is checked against (default: the one named `kind`) and qms's
    version."""
    if os.environ.get("QMS_NO_CACHE"):
        return parse_and_validate()
    entry, key = _entry(kind, text, schemas or (kind,))
    try:
        raw = entry.read_bytes()
        if raw.startswith(key + b"\0"):
            return json.loads(raw[len(key) + 1 :])
    except (OSError, ValueError):
        pass
    encoded = json.dumps(parse_and_validate(), ensure_ascii=False)
    remember(entry, key, encoded)
    return json.loads(encoded)  # the same value a later cache hit returns


def remember_validated(kind: str, text: str, data: Any) -> None:
    """Record that `text` is valid (e.g. a file qms just wrote from validated data)."""
    if not os.environ.get("QMS_NO_CACHE"):
        remember(*_entry(kind, text, (kind,)), json.dumps(data, ensure_ascii=False))


def remember(entry: Path, key: bytes, encoded: str) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        tmp.write_bytes(key + b"\0" + encoded.encode("utf-8"))
        os.replace(tmp, entry)
        _prune(entry.parent)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    entries = list(folder.glob("*.json"))  # dot-prefixed temporaries are not matched
    if len(entries) <= _KEEP:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for old in entries[: len(entries) - _KEEP // 2]:
        old.unlink(missing_ok=True)
