"""Read YAML and JSON documents strictly: syntax errors and duplicate keys are reported with line and column.

PyYAML and the json module both keep the last of two equal keys without a word; a profile or project file
with a duplicated key is ambiguous, so qms refuses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError

BOM = "\ufeff"
MiB = 1024 * 1024
READ_LIMIT = 256 * MiB  # any document (a studio's project.json runs to tens of MB; issue 15 used 60 MB)
PROFILE_LIMIT = 16 * MiB  # a profile: far above any real one (the bundled models.yaml is ~20 KB)
ALIAS_BUDGET = 100_000  # values YAML aliases may add to a document ("billion laughs" adds 387 million)


class ParseError(DataError):
    """A document that does not parse, with where (1-based line and column) and what kind of fault:
    "syntax", "comments", "duplicate" (key in `value`), "not_utf8", "too_deep" or "aliases"."""

    def __init__(self, filename: str, message: str, line: int | None = None, column: int | None = None,
                 kind: str = "syntax", value: str | None = None):
        where = f"{filename}:{line}:{column}" if line is not None else filename
        super().__init__(f"{where}: {message}")
        self.filename, self.problem, self.line, self.column = filename, message, line, column
        self.kind, self.value = kind, value


class ReadError(DataError):
    """A file that cannot be read: kind "missing", "folder", "not_a_file", "too_large" (`limit` bytes) or
    "unreadable" (`reason` from the OS)."""

    def __init__(self, path: Path, message: str, kind: str, limit: int | None = None, reason: str | None = None):
        super().__init__(f"{path}: {message}")
        self.path, self.kind, self.limit, self.reason = path, kind, limit, reason


def read_bytes(path: Path, limit: int = READ_LIMIT) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most `limit` bytes, and its status as read. Devices, pipes and
    sockets are refused without reading (/dev/zero never ends; a pipe blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ReadError(path, "no such file", "missing") from None
    except IsADirectoryError:
        raise ReadError(path, "is a folder, not a file", "folder") from None
    except OSError as e:
        raise ReadError(path, f"cannot be read ({e.strerror or e})", "unreadable", reason=e.strerror) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ReadError(path, "is a folder, not a file", "folder")
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(path, "is not a regular file (a device, pipe or socket); qms reads only regular files",
                            "not_a_file")
        if st.st_size > limit:
            raise ReadError(path, f"is larger than {limit // MiB} MiB, the most qms reads from one file",
                            "too_large", limit=limit)
        chunks, size = [], 0
        while size <= limit:  # read to the end, but never past the limit, even if the file grows meanwhile
            chunk = os.read(fd, min(limit + 1 - size, 8 * MiB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ReadError(path, f"is larger than {limit // MiB} MiB, the most qms reads from one file",
                            "too_large", limit=limit)
        return b"".join(chunks), st
    except OSError as e:
        raise ReadError(path, f"cannot be read ({e.strerror or e})", "unreadable", reason=e.strerror) from None
    finally:
        os.close(fd)


def read_text(path: Path, limit: int = READ_LIMIT) -> str:
    """The file's text (UTF-8, a leading byte-order mark kept), or a DataError naming the file."""
    return decode(read_bytes(path, limit)[0], str(path))


def decode(raw: bytes, filename: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ParseError(filename, f"not UTF-8 text (byte 0x{raw[e.start]:02x})", line,
                         e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1, kind="not_utf8") from None


def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_json(text: str, filename: str) -> Any:
    """Parse JSON, refusing comments and duplicate keys with a line and column."""
    body = text[1:] if text.startswith(BOM) else text
    try:
        return json.loads(body, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        from qms_cli.catalog.jsonspans import find_duplicate

        pos = find_duplicate(body)
        line, col = line_col(body, pos) if pos is not None else (None, None)
        raise ParseError(filename, f"duplicate key {dup.key!r}", line, col, kind="duplicate", value=dup.key) from None
    except json.JSONDecodeError as e:
        at = body[e.pos : e.pos + 2] if e.pos < len(body) else ""
        if at in ("//", "/*"):
            raise ParseError(filename, f"comments are not allowed in JSON, line {e.lineno}",
                             e.lineno, e.colno, kind="comments") from None
        raise ParseError(filename, f"not valid JSON: {e.msg}", e.lineno, e.colno) from None
    except RecursionError:
        raise too_deep(filename) from None


def too_deep(filename: str) -> ParseError:
    return ParseError(filename, "nested too deeply to read (lists and objects inside one another, "
                                "hundreds of levels down)", kind="too_deep")


def parse_yaml(text: str, filename: str) -> Any:
    """Parse YAML (safe subset), refusing duplicate keys with a line and column."""
    import yaml  # deferred: profiles are usually served from the validated cache

    loader = _strict_loader(yaml)(text)
    loader.qms_filename = filename
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = " ".join(p for p in (e.context, e.problem) if p) or "not valid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ParseError(filename, problem, line, col) from None
    except yaml.YAMLError as e:
        raise ParseError(filename, f"not valid YAML: {e}") from None
    except RecursionError:
        raise too_deep(filename) from None
    finally:
        loader.dispose()


def _check_expansion(root: Any, filename: str) -> None:
    """Refuse a composed YAML document whose aliases would expand it past ALIAS_BUDGET values, or that
    refers to itself. Counts the expanded tree over the node graph, each node once (milliseconds even for
    a "billion laughs", whose expansion would take minutes and gigabytes)."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise ParseError(filename, "an alias refers to the value that holds it (a loop)", kind="aliases")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise ParseError(filename, "an alias refers to the value that holds it (a loop)", kind="aliases")
            if id(child) not in size:
                stack.append((child, False))
    if size[id(root)] > len(size) + ALIAS_BUDGET:
        raise ParseError(filename, f"its aliases expand it to {size[id(root)]:,} values; qms refuses documents "
                                   f"whose aliases add more than {ALIAS_BUDGET:,} values", kind="aliases")


def _children(node: Any) -> list[Any]:
    value = node.value
    if isinstance(value, list):
        return [c for item in value for c in (item if isinstance(item, tuple) else (item,))]
    return []


_LOADERS: dict[int, Any] = {}


def _strict_loader(yaml: Any) -> Any:
    """A SafeLoader (libyaml when present) whose mappings refuse a key given twice."""
    if id(yaml) in _LOADERS:
        return _LOADERS[id(yaml)]
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            _check_expansion(node, getattr(self, "qms_filename", "<yaml>"))
            return self.construct_document(node)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` merges; own keys may override merged ones
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:
                    continue  # unhashable key: the base constructor reports it
                if first is not key_node.start_mark:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first given on line {first.line + 1})",
                        key_node.start_mark)
            return super().construct_mapping(node, deep)

    _LOADERS[id(yaml)] = StrictLoader
    return StrictLoader


def positions(text: str) -> dict[tuple[str | int, ...], tuple[int, int]]:
    """Line and column of every value in a YAML document, by path: for pointing schema errors at lines."""
    import yaml

    out: dict[tuple[str | int, ...], tuple[int, int]] = {}

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        out.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    walk(value_node, (*path, key_node.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return out
    if root is not None:
        with contextlib.suppress(RecursionError):  # positions are a courtesy: what was found so far will do
            walk(root, ())
    return out


def json_object_line(line: str, fields: Collection[str], example: str) -> dict[str, Any]:
    """One JSON-lines record: an object with only the allowed keys (ValueError says what is wrong)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg}, column {e.colno})") from None
    if not isinstance(data, dict):
        raise ValueError(example)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"unknown key {', '.join(map(repr, unknown))}; allowed: {', '.join(fields)}")
    return data
