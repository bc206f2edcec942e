"""Where things are in JSON text, as offsets: an object's members and an array's elements, found with the json
module's own scanner (`raw_decode`, `scanstring`: nested values are skipped at C speed), and the first key an
object repeats. Reading a profile or project (parsing.py) and editing one in place (project/jsonedit.py) share it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qms_cli.values import Value

DECODER = json.JSONDecoder()
WHITESPACE = re.compile(r"[ \t\n\r]*")
scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False, repr=False)
class Member(Value):
    """One `"key": value` of an object, as offsets into the text."""

    key: str
    key_start: int
    value_start: int
    value_end: int


def skip(text: str, pos: int) -> int:
    return WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]


def members(text: str, start: int) -> list[Member]:
    """The members of the object whose `{` is at `start` (text must already be valid JSON)."""
    out: list[Member] = []
    pos = skip(text, start + 1)
    if text[pos] == "}":
        return out
    while True:
        key, after_key = scanstring(text, pos + 1)
        value_start = skip(text, skip(text, after_key) + 1)
        _, value_end = DECODER.raw_decode(text, value_start)
        out.append(Member(key, pos, value_start, value_end))
        pos = skip(text, value_end)
        if text[pos] == "}":
            return out
        pos = skip(text, pos + 1)


def elements(text: str, start: int) -> Iterator[int]:
    pos = skip(text, start + 1)
    if text[pos] == "]":
        return
    while True:
        yield pos
        _, end = DECODER.raw_decode(text, pos)
        pos = skip(text, end)
        if text[pos] == "]":
            return
        pos = skip(text, pos + 1)


def find_duplicate(text: str) -> int | None:
    """Offset of the first key that repeats an earlier key of the same object, or None."""
    stack = [skip(text, 0)]
    while stack:
        pos = stack.pop()
        if text[pos] == "{":
            seen: set[str] = set()
            for m in members(text, pos):
                if m.key in seen:
                    return m.key_start
                seen.add(m.key)
                stack.append(m.value_start)
        elif text[pos] == "[":
            stack.extend(elements(text, pos))
    return None
