"""Sizes and durations as people write them.

Sizes are binary, as GPU memory is marketed and as nvidia-smi reports it: "12GB" = 12 GiB = 12288 MiB.
"""

from __future__ import annotations

import re

from qms_cli.errors import UsageError

GIB = 1024**3
MAX_SIZE = 1024**5  # 1024 TB: past any machine's memory (a larger size is a typing mistake)
_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4}
# Patterns compile on first use (re caches them): importing this module stays cheap.
_SIZE = r"(?i)^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt])(?:i?b)?\s*$"
_BYTES = r"(?i)^\s*([0-9]+)\s*b(?:ytes?)?\s*$"
SIZE_EXAMPLES = '"12GB", "12G", "12 GiB", "12288MB", "0.5TB"'

_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400, "w": 604800, "week": 604800}
_DURATION = r"(?i)^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]+?)s?\s*$"
_RANGE = r"(?i)^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:-|–|to)\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]+?)s?\s*$"


class SizeError(UsageError):
    """A size that does not parse."""


def parse_size(text: str, *, what: str = "size") -> int:
    """Bytes in a size such as "12GB", "11.5 GiB", "12288MB" or "512B" (all units binary)."""
    m = re.match(_BYTES, text)
    if m:
        if int(m.group(1)) > MAX_SIZE:
            raise SizeError(f"{what} {text!r} is more than any machine has; give a size up to 1024TB")
        return int(m.group(1))
    m = re.match(_SIZE, text)
    if not m:
        raise SizeError(f"{what} {text!r} is not a size; use a number and a unit, e.g. {SIZE_EXAMPLES}")
    size = float(m.group(1)) * 1024 ** _POWERS[m.group(2).lower()]
    if size > MAX_SIZE:
        raise SizeError(f"{what} {text!r} is more than any machine has; give a size up to 1024TB, "
                        f"e.g. {SIZE_EXAMPLES}")
    return int(size)


def format_size(n_bytes: int | float) -> str:
    """A size for people, in binary units written the way cards are sold: "11.5 GB", "512 MB"."""
    for unit, power in (("TB", 4), ("GB", 3), ("MB", 2), ("KB", 1)):
        value = n_bytes / 1024**power
        if value >= 1:
            return f"{value:.0f} {unit}" if value >= 100 or value == int(value) else f"{value:.1f} {unit}"
    return f"{int(n_bytes)} B"


_DURATION_HINT = "is not a duration; use e.g. \"90s\", \"5 minutes\", \"90d\""
_RANGE_HINT = "is not a time range; use e.g. \"5-10 seconds\" or \"2-5 minutes\""


def _unit_seconds(unit: str, text: str, hint: str) -> float:
    key = unit.lower()
    if key not in _SECONDS:
        raise UsageError(f"{text!r} {hint}")
    return float(_SECONDS[key])


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "90s", "5 minutes", "2h" or "90d"."""
    m = re.match(_DURATION, text)
    if not m:
        raise UsageError(f"{text!r} {_DURATION_HINT}")
    return float(m.group(1)) * _unit_seconds(m.group(2), text, _DURATION_HINT)


def parse_time_range(text: str) -> tuple[float, float]:
    """(low, high) seconds of a label such as "5-10 seconds" or "2-5 minutes"."""
    m = re.match(_RANGE, text)
    if not m:
        raise UsageError(f"{text!r} {_RANGE_HINT}")
    scale = _unit_seconds(m.group(3), text, _RANGE_HINT)
    return float(m.group(1)) * scale, float(m.group(2)) * scale


def parse_shares(text: str, option: str, names: tuple[str, ...], *, fractions: bool) -> dict[str, float]:
    """{"low": 50.0, ...} from "low=50,standard=35,high=15". fractions: each a share of the cards, 0-1 or "75%"
    ("none" for no entries); otherwise weights, at least one above 0."""
    accepted = (f"NAME=SHARE pairs separated by commas, NAME one of {', '.join(names)}, SHARE from 0 to 1 or a "
                "percentage (or \"none\")" if fractions else
                f"NAME=WEIGHT pairs separated by commas, NAME one of {', '.join(names)}, "
                "e.g. low=50,standard=35,high=15")
    if fractions and text.strip().lower() == "none":
        return {}
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or name not in names or name in out:
            raise UsageError(f"{option} {text!r}: {part.strip()!r} is not understood; give {accepted}")
        try:
            number = float(value[:-1]) / 100 if fractions and value.endswith("%") else float(value)
        except ValueError:
            raise UsageError(f"{option} {text!r}: {value!r} is not a number; give {accepted}") from None
        if number < 0 or number != number or (fractions and number > 1) or number == float("inf"):
            raise UsageError(f"{option} {text!r}: {value!r} is out of range; give {accepted}")
        out[name] = number
    if not fractions and not any(out.values()):
        raise UsageError(f"{option} {text!r}: at least one weight must be more than 0")
    return out
