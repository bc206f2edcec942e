"""Edit JSON text in place: change one member and keep every other byte (order, indentation, newline).

Spans come from catalog/jsonspans.py (the json module's own scanner), so nested values are skipped at C speed
and only the objects on the edited path are walked here.
"""

from __future__ import annotations

import json
from typing import Any

from qms_cli.catalog.jsonspans import WHITESPACE, Member, members, scanstring, skip


def root_start(text: str) -> int:
    """Offset of the top-level value (after any byte-order mark and whitespace)."""
    return skip(text, 1 if text.startswith("\ufeff") else 0)


def _locate(text: str, path: tuple[str, ...]) -> tuple[int, Member | None]:
    """(start of the object holding path[-1], that member or None)."""
    obj = root_start(text)
    for i, key in enumerate(path):
        found = next((m for m in members(text, obj) if m.key == key), None)
        if i == len(path) - 1:
            return obj, found
        if found is None or text[found.value_start] != "{":
            raise KeyError(key)
        obj = found.value_start
    raise KeyError(path)


def _style(text: str) -> tuple[str | None, str, str]:
    """(indent unit or None for one-line JSON, item separator, key separator) as the file writes them."""
    root = root_start(text)
    ms = members(text, root)
    if not ms:
        return "  ", ",", ": "
    gap = text[root + 1 : ms[0].key_start]
    key_end = scanstring(text, ms[0].key_start + 1)[1]
    colon = text[key_end : ms[0].value_start]
    if "\n" in gap:
        return gap.rsplit("\n", 1)[1], ",", colon
    # One line: `{"a": 1, "b": 2}` (json.dumps' default) or `{"a":1,"b":2}`; a lone member says little.
    between = (text[ms[0].value_end : ms[1].key_start] if len(ms) > 1
               else "," + (" " if colon.endswith(" ") else ""))
    return None, between, colon


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    return WHITESPACE.match(text, start).group(0).replace("\n", "").replace("\r", "")  # type: ignore[union-attr]


def _newline(text: str) -> str:
    """The file's line ending: CRLF when its first line ends so, else LF (issue 15: CRLF files stay CRLF)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _dump(value: Any, indent: str | None, item_sep: str, key_sep: str, base: str, nl: str = "\n") -> str:
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(item_sep, key_sep))
    out = json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", key_sep))
    return out.replace("\n", nl + base)


def set_member(text: str, path: tuple[str, ...], value: Any) -> str:
    """Text with the member at `path` set to `value`; missing objects on the way are created."""
    indent, item_sep, key_sep = _style(text)
    for depth in range(1, len(path) + 1):
        try:
            obj, found = _locate(text, path[:depth])
        except KeyError:
            raise ValueError(f"{'.'.join(path[: depth - 1])} is not an object") from None
        if found is None:
            nested: Any = value
            for key in reversed(path[depth:]):
                nested = {key: nested}
            return _insert(text, obj, path[depth - 1], nested, indent, item_sep, key_sep)
    _, found = _locate(text, path)
    assert found is not None
    base = _line_indent(text, found.key_start)
    new = _dump(value, indent, item_sep, key_sep, base, _newline(text))
    return text[: found.value_start] + new + text[found.value_end :]


def _insert(text: str, obj: int, key: str, value: Any, indent: str | None, item_sep: str, key_sep: str) -> str:
    """Add `"key": value` as the last member of the object at `obj`, spaced like its other members."""
    ms = members(text, obj)
    nl = _newline(text)
    if ms:
        # Reuse the separator the object already uses between members (or after its opening brace).
        gap = text[obj + 1 : ms[0].key_start]
        sep = (text[ms[-2].value_end : ms[-1].key_start] if len(ms) > 1
               else "," + gap if "\n" in gap else item_sep)
        base = _line_indent(text, ms[-1].key_start)
        item = json.dumps(key, ensure_ascii=False) + key_sep + _dump(value, indent, item_sep, key_sep, base, nl)
        return text[: ms[-1].value_end] + sep + item + text[ms[-1].value_end :]
    close = skip(text, obj + 1)
    if indent is None:
        item = json.dumps(key, ensure_ascii=False) + key_sep + _dump(value, None, item_sep, key_sep, "")
        return text[: obj + 1] + item + text[close:]
    outer = _line_indent(text, obj)
    inner = outer + indent
    item = json.dumps(key, ensure_ascii=False) + key_sep + _dump(value, indent, item_sep, key_sep, inner, nl)
    return text[: obj + 1] + nl + inner + item + nl + outer + text[close:]


def remove_member(text: str, path: tuple[str, ...]) -> str:
    """Text without the member at `path` (unchanged if it is not there)."""
    try:
        obj, found = _locate(text, path)
    except KeyError:
        return text
    if found is None:
        return text
    ms = members(text, obj)
    i = ms.index(found)
    if len(ms) == 1:
        close = skip(text, found.value_end)
        return text[: obj + 1] + text[close:]
    if i > 0:
        return text[: ms[i - 1].value_end] + text[found.value_end :]
    return text[: found.key_start] + text[ms[1].key_start :]
