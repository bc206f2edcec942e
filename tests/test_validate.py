"""`qms validate`: schemas, parse errors, semantic checks, output formats, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROFILES, ROOT, run_qms, validate_output
from tests.test_catalog import add_ultra, write_tiers


def tiers_file(edit: Any, name: str = "tiers.yaml") -> Path:
    folder = write_tiers(Path("p"), edit)
    if name != "tiers.yaml":
        (folder / "tiers.yaml").rename(folder / name)
    return folder / name


def test_active_profiles_are_valid(qms: Any) -> None:
    result = qms("validate")
    assert result.code == 0 and result.out == "All 10 files valid.\n"
    report = qms("validate", "--output", "json").json()
    validate_output(report, "validation-report")
    assert report["status"] == "ok" and len(report["checked"]) == 10


def test_every_schema_error_with_its_path_and_line(qms: Any) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["tiers"][0]["icon"] = 5
        d["tiers"][1]["colour"] = "red"
        d["tiers"][2]["target_vram"] = "lots"
        d["tiers"][2]["mappings"]["Create Image"]["resolution"] = "big"

    path = tiers_file(edit)
    result = qms("validate", str(path))
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[-1] == "4 problems in 1 file."
    assert any(f"{path}::$.tiers[0].icon: 5 is not of type 'string' (line " in l for l in lines)
    assert any(f"{path}::$.tiers[1]: unknown key 'colour'; allowed: " in l for l in lines)
    assert any(f"{path}::$.tiers[2].target_vram: 'lots' does not match" in l for l in lines)
    # oneOf (image or video mapping): the closest alternative's error, not "not valid under any".
    assert any(f"{path}::$.tiers[2].mappings['Create Image'].resolution: 'big' is not of type 'integer'" in l
               for l in lines)
    report = qms("validate", "-o", "json", str(path)).json()
    validate_output(report, "validation-report")
    assert report["status"] == "fail" and {e["path"] for e in report["errors"]} == {
        "$.tiers[0].icon", "$.tiers[1]", "$.tiers[2].target_vram", "$.tiers[2].mappings['Create Image'].resolution"}
    colour = next(e for e in report["errors"] if e["path"] == "$.tiers[1]")
    text = path.read_text().splitlines()
    assert "colour" in text[colour["line"] - 1]


@pytest.mark.parametrize(("content", "expected"), [
    ("version: 1\ntiers: [\n", ":3:1: "),
    ("version: 1\nversion: 2\ntiers: []\n", ":2:1: duplicate key 'version' (first given on line 1)"),
])
def test_parse_errors_have_line_and_column(qms: Any, content: str, expected: str) -> None:
    Path("tiers.yaml").write_text(content)
    result = qms("validate", "tiers.yaml")
    assert result.code == 1 and f"tiers.yaml{expected}" in result.out


SEMANTIC = {
    "same functions": (lambda d: d["tiers"][1]["mappings"].pop("Create Video"),
                       "$.tiers[1].mappings: every tier must map the same functions as the first "
                       "(missing Create Video)"),
    "card order": (lambda d: d["tiers"][2].update(target_vram="8GB"),
                   "$.tiers[2].target_vram: 8GB is below tier 'standard' (16GB)"),
    "resolution order": (lambda d: d["tiers"][2]["mappings"]["Create Image"].update(resolution=512),
                         "$.tiers[2].mappings['Create Image'].resolution: 512 is below tier 'standard' (1024)"),
    "frames order": (lambda d: d["tiers"][0]["mappings"]["Create Video"].update(frames=200),
                     "$.tiers[1].mappings['Create Video'].frames: 48 is below tier 'low' (200)"),
    "steps order": (lambda d: d["tiers"][1]["mappings"]["Create Image"].update(steps=2),
                    "$.tiers[1].mappings['Create Image'].steps: 2 is below tier 'low' (4)"),
    "unknown model": (lambda d: d["tiers"][0]["mappings"]["Create Image"].update(model="sdxl"),
                      "$.tiers[0].mappings['Create Image'].model: model 'sdxl' is not in models.yaml"),
    "unsupported option": (lambda d: d["tiers"][1]["mappings"]["Create Video"].update(options=["turbo"]),
                           "$.tiers[1].mappings['Create Video'].options[0]: 'wan2gp-standard' does not support "
                           "memory option 'turbo'"),
    "time label range": (lambda d: d["tiers"][0].update(time_label="10-5 seconds"),
                         "$.tiers[0].time_label: '10-5 seconds': the range's low end is above its high end"),
    "time label unit": (lambda d: d["tiers"][0].update(time_label="5-10 parsecs"),
                        "$.tiers[0].time_label: '5-10 parsecs' is not a time range"),
    "duplicate name": (lambda d: d["tiers"][1].update(name="low"),
                       "$.tiers[1].name: 'low' is already used by tier 1"),
    "default": (lambda d: d.update(default="ultra"), "$.default: 'ultra' is not a tier id here"),
    "model name shown": (lambda d: d["tiers"][2].update(description="Flux at full size"),
                         "$.tiers[2].description: text people see names 'flux'"),
    "model id shown": (lambda d: d["tiers"][2].update(name="wan2gp-pro"), "$.tiers[2].name: text people see names"),
    "flag shown": (lambda d: d["tiers"][0].update(description="Drafts with --lowvram"), "names 'lowvram'"),
    "precision shown": (lambda d: d["tiers"][1].update(description="Balanced (FP8)"), "names 'fp8'"),
    "jargon shown": (lambda d: d["tiers"][1].update(description="Needs 16 GB VRAM"), "names 'vram'"),
    "function shown": (lambda d: [t["mappings"].update({"Create Image (bf16)": t["mappings"].pop("Create Image")})
                                  for t in d["tiers"]],
                       "function name people see names 'bf16'"),
}


@pytest.mark.parametrize("case", sorted(SEMANTIC))
def test_semantic_checks(qms: Any, case: str) -> None:
    edit, message = SEMANTIC[case]
    path = tiers_file(edit)
    result = qms("validate", str(path))
    assert result.code == 1, result.out
    assert message in result.out, result.out


def test_tiers_checked_against_models_given_beside_or_active(qms: Any) -> None:
    path = tiers_file(lambda d: d["tiers"][0]["mappings"]["Create Image"].update(model="sdxl"))
    assert qms("validate", str(path)).code == 1
    models = yaml.safe_load((PROFILES / "models.yaml").read_text())
    models["models"]["sdxl"] = models["models"]["flux-schnell"]
    Path("elsewhere").mkdir()
    (Path("elsewhere") / "models.yaml").write_text(yaml.safe_dump(models))
    assert qms("validate", str(path), "elsewhere/models.yaml").code == 0  # given alongside
    shutil.copy("elsewhere/models.yaml", path.parent / "models.yaml")
    assert qms("validate", str(path)).code == 0  # beside it


def test_models_semantics(qms: Any) -> None:
    models = yaml.safe_load((PROFILES / "models.yaml").read_text())
    models["models"]["flux-schnell"]["memory_options"].append("warp")
    models["models"]["wan2gp-lite"]["components"]["vae"]["role"] = "text_encoder"
    models["models"]["wan2gp-pro"]["components"]["umt5"]["weights"] = {"bf16": "1GB", "fp64": "2GB"}
    models["models"]["wan2gp-pro"]["components"]["umt5"]["precision"] = "int8"
    Path("models.yaml").write_text(yaml.safe_dump(models))
    out = qms("validate", "models.yaml").out
    assert "$.models['flux-schnell'].memory_options[4]: memory option 'warp' is not defined" in out
    assert "$.models['wan2gp-lite'].components: needs exactly one component with role 'vae', has 0" in out
    assert "$.models['wan2gp-pro'].components.umt5.weights.fp64: 'fp64' is not a precision" in out
    assert "$.models['wan2gp-pro'].components.umt5.precision: no weight size given for its precision 'int8'" in out


def test_hardware_and_project_files(qms: Any) -> None:
    Path("hardware").mkdir()
    hw = yaml.safe_load((PROFILES / "hardware" / "laptop-8gb.yaml").read_text())
    hw["gpus"][0]["memory_used"] = "9GB"
    Path("hardware/mine.yaml").write_text(yaml.safe_dump(hw))
    Path("project.json").write_text('{"quality": "ultra", "quality_overrides": {"n1": "low"}}')
    result = qms("validate", "hardware/mine.yaml", "project.json")
    assert "hardware/mine.yaml::$.gpus[0].memory_used: 9GB is more than the card's 8GB" in result.out
    assert "project.json::$.quality: 'ultra' is not a tier here; tiers: low, standard, high" in result.out
    assert result.code == 1
    write_tiers(Path("custom"), add_ultra)  # checked against the tiers given with it
    assert qms("validate", "project.json", "custom/tiers.yaml").code == 0


def test_kind_from_content_or_option(qms: Any) -> None:
    Path("my-tiers.yml").write_text((PROFILES / "tiers.yaml").read_text())
    Path("box.yaml").write_text((PROFILES / "hardware" / "cpu-only.yaml").read_text())
    assert qms("validate", "my-tiers.yml", "box.yaml").code == 0
    Path("odd.yaml").write_text("colour: blue\n")
    result = qms("validate", "odd.yaml")
    assert result.code == 1 and "cannot tell what kind of file this is; pass --kind" in result.out
    forced = qms("validate", "--kind", "hardware", "odd.yaml")
    assert forced.code == 1 and "odd.yaml::$: 'version' is required" in forced.out
    bad = qms("validate", "--kind", "stuff", "odd.yaml")
    assert bad.code == 2 and "--kind 'stuff' is not a kind" in bad.err


def test_folders_and_missing_files(qms: Any) -> None:
    assert qms("validate", str(PROFILES)).code == 0
    result = qms("validate", "missing.yaml")
    assert result.code == 1 and "missing.yaml::$: no such file" in result.out
    Path("empty").mkdir()
    assert qms("validate", "empty").code == 2
    assert qms("validate", "--output", "xml").code == 2


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "qms-validate")
    assert hook["entry"] == "qms validate" and hook["language"] == "python"
    import re

    for name in ("tiers.yaml", "x/models.yml", ".qms/profiles/hardware/box.yaml", "a/project.json"):
        assert re.search(hook["files"], name)
    assert not re.search(hook["files"], "config.yaml")


def test_validate_in_a_subprocess_for_ci() -> None:
    result = run_qms("validate", str(PROFILES), "-o", "json")
    assert result.code == 0 and result.json()["status"] == "ok"
