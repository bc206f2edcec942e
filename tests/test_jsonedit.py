from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qms_cli.catalog.jsonspans import find_duplicate
from qms_cli.project import jsonedit

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)
objects = st.dictionaries(st.text(), values, max_size=6)
styles = st.sampled_from([
    {"indent": 2}, {"indent": 4}, {"indent": "\t"}, {"indent": None},
    {"indent": None, "separators": (",", ":")}, {"indent": 2, "ensure_ascii": False},
])


def dump(obj: Any, style: dict[str, Any]) -> str:
    return json.dumps(obj, **style)


MARK = "\u2063qms-3f1c9e\u2063"  # a placeholder random text will not produce


@settings(max_examples=300)
@given(objects, styles, st.text(min_size=1), st.booleans(), st.none() | st.text(), st.integers(0, 6))
def test_set_member_changes_only_that_value(obj: dict[str, Any], style: dict[str, Any], value: str,
                                            newline: bool, existing: str | None, at: int) -> None:
    end = "\n" if newline else ""
    items = [(k, v) for k, v in obj.items() if k != "quality"]
    if existing is None:
        obj = dict(items)
        text = dump(obj, style) + end
    else:  # a "quality" somewhere among the other keys: the result must differ in its value alone
        obj = dict([*items[:at], ("quality", MARK), *items[at:]])
        template = dump(obj, style) + end
        mark = json.dumps(MARK, ensure_ascii=style.get("ensure_ascii", True))
        text = template.replace(mark, json.dumps(existing, ensure_ascii=style.get("ensure_ascii", True)))
        expected_text = template.replace(mark, json.dumps(value, ensure_ascii=False))
    out = jsonedit.set_member(text, ("quality",), value)
    expected = {**obj, "quality": value}
    assert json.loads(out) == expected
    assert list(json.loads(out)) == list(expected)  # order kept (a new key goes last)
    assert out.endswith("\n") == newline
    if existing is not None:
        assert out == expected_text


@settings(max_examples=200)
@given(objects, styles, st.text(min_size=1), st.text())
def test_nested_set_and_remove(obj: dict[str, Any], style: dict[str, Any], node: str, value: str) -> None:
    obj.pop("quality_overrides", None)
    text = dump(obj, style)
    out = jsonedit.set_member(text, ("quality_overrides", node), value)
    assert json.loads(out) == {**obj, "quality_overrides": {node: value}}
    again = jsonedit.set_member(out, ("quality_overrides", node + "x"), value)
    assert json.loads(again)["quality_overrides"] == {node: value, node + "x": value}
    removed = jsonedit.remove_member(jsonedit.remove_member(again, ("quality_overrides", node)),
                                     ("quality_overrides", node + "x"))
    assert json.loads(removed) == {**obj, "quality_overrides": {}}
    assert json.loads(jsonedit.remove_member(removed, ("quality_overrides",))) == obj


def test_inserted_members_follow_the_file_style() -> None:
    text = '{\n    "name": "x",\n    "canvas": {}\n}\n'
    assert jsonedit.set_member(text, ("quality",), "low") == (
        '{\n    "name": "x",\n    "canvas": {},\n    "quality": "low"\n}\n')
    assert jsonedit.set_member('{"a":1}', ("q", "n"), "low") == '{"a":1,"q":{"n":"low"}}'
    assert jsonedit.set_member("{}", ("q",), "low") == '{\n  "q": "low"\n}'


def test_remove_first_middle_last_and_only() -> None:
    text = '{"a": 1, "b": 2, "c": 3}'
    assert jsonedit.remove_member(text, ("a",)) == '{"b": 2, "c": 3}'
    assert jsonedit.remove_member(text, ("b",)) == '{"a": 1, "c": 3}'
    assert jsonedit.remove_member(text, ("c",)) == '{"a": 1, "b": 2}'
    assert jsonedit.remove_member('{ "a": 1 }', ("a",)) == "{}"
    assert jsonedit.remove_member(text, ("zzz",)) == text


def test_find_duplicate() -> None:
    assert find_duplicate('{"a": 1, "b": [{"a": 1}], "a": 2}') == 26
    assert find_duplicate('[{"x": {"y": 1, "y": 2}}]') == 16
    assert find_duplicate('{"a": {"a": 1}}') is None


def test_a_key_inserted_into_a_crlf_file_uses_crlf() -> None:
    set_member = jsonedit.set_member
    """Issue 15: a Windows-saved project keeps one line ending throughout."""
    text = '{\r\n  "name": "Film",\r\n  "quality": "low"\r\n}\r\n'
    nested = set_member(text, ("quality_overrides", "hero-shot"), "high")
    assert nested == ('{\r\n  "name": "Film",\r\n  "quality": "low",\r\n  "quality_overrides": {\r\n'
                      '    "hero-shot": "high"\r\n  }\r\n}\r\n')
    assert "\n" not in nested.replace("\r\n", "")
    into_empty = set_member('{\r\n  "quality_overrides": {}\r\n}', ("quality_overrides", "n1"), "low")
    assert into_empty == '{\r\n  "quality_overrides": {\r\n    "n1": "low"\r\n  }\r\n}'
    lf = set_member('{\n  "a": 1\n}', ("b", "c"), 2)
    assert "\r" not in lf
