"""`qms init`, `set-quality`, `show` through the real CLI: behaviour, every error path, nothing lost."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qms_cli.catalog.load import load_catalog
from qms_cli.project.quality import set_quality
from tests.conftest import run_qms, validate_output

APP_FILE = """{
    "version": 3,
    "name": "Poster",
    "quality": "standard",
    "canvas": {"nodes": [{"id": "n1", "type": "Create Image"}], "zoom": 1.5},
    "ui": {"theme": "dark", "recent": ["a", "b"]}
}"""  # another app's indentation, no final newline, keys qms does not know


def make(path: Path, text: str = APP_FILE) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_init_creates_a_project(qms: Any) -> None:
    result = qms("init", "posters", "--name", "Spring posters", "--json")
    assert result.code == 0
    data = json.loads(Path("posters/project.json").read_text(encoding="utf-8"))
    assert list(data) == ["version", "name", "quality", "created", "canvas"]
    assert data["name"] == "Spring posters" and data["quality"] == "standard" and data["canvas"] == {}
    assert data["created"].endswith("Z") and "T" in data["created"]
    validate_output(result.json(), "project-view")
    assert qms("init", "other", "--quality", "HIGH").code == 0
    assert json.loads(Path("other/project.json").read_text())["quality"] == "high"
    assert json.loads(Path("other/project.json").read_text())["name"] == "other"


def test_init_refuses_to_overwrite_unless_forced(qms: Any) -> None:
    make(Path("project.json"))
    before = Path("project.json").read_bytes()
    result = qms("init")
    assert result.code == 1 and "already exists; pass --force" in result.err
    assert Path("project.json").read_bytes() == before
    assert qms("init", "--force", "--quality", "low").code == 0
    assert json.loads(Path("project.json").read_text())["quality"] == "low"


def test_init_with_unknown_quality_is_a_usage_error(qms: Any) -> None:
    result = qms("init", "--quality", "best")
    assert result.code == 2 and "choose one of: low, standard, high" in result.err
    assert not Path("project.json").exists()


def test_set_quality_changes_only_the_value(qms: Any) -> None:
    make(Path("project.json"))
    result = qms("set-quality", "High")
    assert result.code == 0 and "Quality set to ✨ High — Maximum fidelity" in result.out
    assert Path("project.json").read_text(encoding="utf-8") == APP_FILE.replace('"standard"', '"high"')
    again = qms("set-quality", "high")
    assert again.code == 0 and "already" in again.out


@pytest.mark.parametrize("name", ["low", "LOW", "Low", " low "])
def test_tier_by_id_or_name_any_case(qms: Any, name: str) -> None:
    make(Path("project.json"))
    assert qms("set-quality", name).code == 0
    assert json.loads(Path("project.json").read_text())["quality"] == "low"


def test_unknown_tier_lists_the_tiers_and_exits_2(qms: Any) -> None:
    make(Path("project.json"))
    result = qms("set-quality", "ultra")
    assert result.code == 2
    assert result.err.strip() == "Error: unknown quality 'ultra'; choose one of: low, standard, high"
    assert Path("project.json").read_text(encoding="utf-8") == APP_FILE


def test_node_overrides(qms: Any) -> None:
    make(Path("project.json"))
    result = qms("set-quality", "low", "--node", "hero-shot", "--json")
    assert result.code == 0
    validate_output(result.json(), "project-view")
    assert result.json()["overrides"] == [{"node": "hero-shot", "quality": {
        "id": "low", "name": "Low", "icon": "⚡", "description": "Fast iterations", "time_label": "5-10 seconds"}}]
    data = json.loads(Path("project.json").read_text())
    assert data["quality_overrides"] == {"hero-shot": "low"} and data["quality"] == "standard"
    shown = qms("show")
    assert "hero-shot: ⚡ Low" in shown.out and "Quality: ⚖️ Standard" in shown.out
    cleared = qms("set-quality", "--clear", "--node", "hero-shot")
    assert cleared.code == 0 and "follows the project's quality" in cleared.out
    assert Path("project.json").read_text(encoding="utf-8") == APP_FILE  # back byte for byte
    assert "had no quality of its own" in qms("set-quality", "--clear", "--node", "hero-shot").out


@pytest.mark.parametrize("args", [["--clear"], ["low", "--clear", "--node", "x"], []])
def test_clear_and_missing_tier_are_usage_errors(qms: Any, args: list[str]) -> None:
    make(Path("project.json"))
    result = qms("set-quality", *args)
    assert result.code == 2 and result.err.startswith("Error: ")
    assert Path("project.json").read_text(encoding="utf-8") == APP_FILE


def test_show_json_and_default_quality(qms: Any) -> None:
    make(Path("project.json"), '{"name": "Bare"}\n')
    result = qms("show", "--json")
    assert result.code == 0
    validate_output(result.json(), "project-view")
    assert result.json()["quality"]["id"] == "standard" and result.json()["quality"]["default"] is True
    assert "not set yet" in qms("show").out
    assert qms("set-quality", "low").code == 0
    assert Path("project.json").read_text() == '{"name": "Bare", "quality": "low"}\n'


def test_project_found_from_a_subfolder_or_given(qms: Any, tmp_path: Path) -> None:
    make(Path("project.json"))
    Path("deep/er").mkdir(parents=True)
    os.chdir("deep/er")
    assert qms("set-quality", "low").code == 0
    os.chdir(tmp_path)
    assert qms("show", "--project", "work", "--json").json()["quality"]["id"] == "low"
    assert qms("show", "--project", "work/project.json", "--json").json()["quality"]["id"] == "low"
    missing = qms("show")
    assert missing.code == 1 and "no project.json in" in missing.err and "qms init" in missing.err
    gone = qms("show", "--project", "nowhere/project.json")
    assert gone.code == 1 and "nowhere/project.json: no such file" in gone.err


BAD_FILES = {  # plain words for people; `qms validate` and --json keep the `file::$.path` form
    "not json": ("{'quality': 'low'}", "can't be used: it is not valid JSON (line 1, column 2)"),
    "comments": ('{\n  // the quality\n  "quality": "low"\n}',
                 "can't be used: it has a comment (line 2, column 3), and JSON files cannot have comments"),
    "trailing comma": ('{"quality": "low",}', "can't be used: it is not valid JSON (line 1, column 19)"),
    "duplicate key": ('{"quality": "low",\n "quality": "high"}',
                      "can't be used: it gives the key 'quality' twice (line 2, column 2)"),
    "not an object": ('["low"]', "can't be used: it must hold one object, {…}, not a list"),
    "wrong type": ('{"quality": 5}', "can't be used: its `quality` must be the id of a quality (lowercase letters, "
                                     "digits, '-', '_' or '.'), not 5"),
    "bad override": ('{"quality_overrides": {"n1": ["low"]}}',
                     "can't be used: its `quality_overrides` must give node 'n1' the id of a quality"),
    "empty": ("", "can't be used: it is not valid JSON (line 1, column 1)"),
    "not utf-8": (b'{"name": "caf\xe9"}', "can't be used: it is not UTF-8 text (line 1, column 14)"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("command", [["set-quality", "high"], ["show"], ["set-quality", "low", "--node", "n"]])
def test_bad_project_files_exit_1_and_stay_untouched(qms: Any, case: str, command: list[str]) -> None:
    content, message = BAD_FILES[case]
    raw = content if isinstance(content, bytes) else content.encode()
    Path("project.json").write_bytes(raw)
    result = qms(*command)
    assert result.code == 1, result
    assert message in result.err and result.err.count("\n") == 1 and "Traceback" not in result.err
    assert Path("project.json").read_bytes() == raw
    assert os.listdir(".") == ["project.json"]


def test_a_folder_named_project_json_is_unreadable_data(qms: Any) -> None:
    Path("project.json").mkdir()
    result = qms("show", "--project", "project.json/")
    assert result.code == 1


def test_mode_symlink_and_bom_are_kept(qms: Any) -> None:
    real = Path("real")
    real.mkdir()
    target = make(real / "project.json", "\ufeff" + APP_FILE + "\r\n")
    target.chmod(0o640)
    Path("project.json").symlink_to(target)
    assert qms("set-quality", "low").code == 0
    assert Path("project.json").is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes().decode() == "\ufeff" + APP_FILE.replace('"standard"', '"low"') + "\r\n"
    assert sorted(os.listdir(real)) == ["project.json"]


def test_unwritable_folder_leaves_the_file(qms: Any, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    make(Path("project.json"))
    Path(".").chmod(0o555)
    try:
        result = qms("set-quality", "low")
    finally:
        Path(".").chmod(0o755)
    assert result.code == 1 and "the file is unchanged" in result.err
    assert Path("project.json").read_text(encoding="utf-8") == APP_FILE


def test_failed_rename_leaves_the_file_and_no_temporary(qms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS refusing the final rename (full disk, read-only mount) at the boundary: nothing changes."""
    import errno

    make(Path("project.json"))

    def refuse(src: str, dst: str) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    def refuse_exchange(a: str, b: str) -> bool:  # renameat2(RENAME_EXCHANGE), where Linux has it
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr("qms_cli.project.atomic._exchange", refuse_exchange)
    result = qms("set-quality", "low")
    assert result.code == 1
    assert result.err.endswith("cannot be written (Read-only file system); the file is unchanged\n")
    assert Path("project.json").read_text(encoding="utf-8") == APP_FILE
    assert os.listdir(".") == ["project.json"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=12)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(st.text().filter(lambda k: k not in ("quality", "quality_overrides", "version",
                                                                  "name", "created", "canvas")),
                             json_values, max_size=6),
       indent=st.sampled_from([None, 1, 2, 4, "\t"]), tier=st.sampled_from(["low", "Standard", "HIGH"]),
       node=st.none() | st.text(min_size=1).filter(str.strip))
def test_random_projects_survive_set_quality(extra: dict[str, Any], indent: Any, tier: str,
                                             node: str | None) -> None:
    tiers = load_catalog().tiers
    path = Path("project.json")
    original = {**extra, "quality": "standard"}
    text = json.dumps(original, indent=indent, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    set_quality(tiers, tier, path, node)
    after = json.loads(path.read_text(encoding="utf-8"))
    if node is None:
        assert after == {**original, "quality": tiers.get(tier).id}
        assert path.read_text(encoding="utf-8") == text.replace('"quality": "standard"',
                                                                f'"quality": "{tiers.get(tier).id}"')
    else:
        assert after == {**original, "quality_overrides": {node: tiers.get(tier).id}}
    assert list(after)[: len(original)] == list(original)


def test_subprocess_round_trip(tmp_path: Path) -> None:
    """The real program, end to end, from another folder."""
    folder = tmp_path / "proj"
    assert run_qms("init", str(folder), "--quality", "low").code == 0
    result = run_qms("set-quality", "standard", "--project", str(folder))
    assert result.code == 0 and "⚖️ Standard" in result.out
    shown = run_qms("show", "--json", cwd=folder)
    assert shown.code == 0 and shown.json()["quality"]["id"] == "standard"
