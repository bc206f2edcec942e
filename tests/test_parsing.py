from __future__ import annotations

from pathlib import Path

import pytest

from qms_cli.catalog.parsing import ParseError, parse_json, parse_yaml, positions, read_text


def test_yaml_duplicate_key_is_refused_with_line_and_column() -> None:
    with pytest.raises(ParseError) as e:
        parse_yaml("a: 1\nb:\n  c: 2\n  c: 3\n", "x.yaml")
    assert (e.value.line, e.value.column) == (4, 3)
    assert "duplicate key 'c'" in e.value.problem and "line 3" in e.value.problem
    assert e.value.exit_code == 1


def test_yaml_merge_keys_may_override_merged_values() -> None:
    data = parse_yaml("base: &b {x: 1, y: 2}\nderived: {<<: *b, y: 3}\n", "x.yaml")
    assert data["derived"] == {"x": 1, "y": 3}


def test_yaml_syntax_error_has_position() -> None:
    with pytest.raises(ParseError) as e:
        parse_yaml("a: [1, 2\nb: 3\n", "x.yaml")
    assert e.value.line is not None and e.value.column is not None
    assert str(e.value).startswith(f"x.yaml:{e.value.line}:{e.value.column}: ")


def test_json_comments_are_named() -> None:
    with pytest.raises(ParseError) as e:
        parse_json('{\n  "a": 1, // why\n  "b": 2\n}', "p.json")
    assert e.value.problem == "comments are not allowed in JSON, line 2"
    assert e.value.line == 2
    with pytest.raises(ParseError) as e:
        parse_json('{\n  /* block */ "a": 1}', "p.json")
    assert "comments are not allowed in JSON, line 2" in e.value.problem


def test_json_duplicate_key_position_at_any_depth() -> None:
    text = '{"a": {"b": [1, {"x": 1,\n "x": 2}]}}'
    with pytest.raises(ParseError) as e:
        parse_json(text, "p.json")
    assert (e.value.line, e.value.column) == (2, 2)
    assert "duplicate key 'x'" in e.value.problem


def test_json_syntax_error_has_position() -> None:
    with pytest.raises(ParseError) as e:
        parse_json('{"a": 1,}', "p.json")
    assert (e.value.line, e.value.column) == (1, 9)


def test_json_with_byte_order_mark() -> None:
    assert parse_json('\ufeff{"a": 1}', "p.json") == {"a": 1}


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ParseError) as e:
        read_text(f)
    assert "not UTF-8" in e.value.problem and e.value.line == 1


def test_unreadable_files_say_why(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        read_text(tmp_path / "missing.json")
    with pytest.raises(Exception, match="is a folder"):
        read_text(tmp_path)


def test_positions_map_paths_to_lines() -> None:
    lines = positions("a:\n  - x: 1\n    y: 2\n")
    assert lines[("a", 0, "y")] == (3, 8)
