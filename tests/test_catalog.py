from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from qms_cli.catalog.load import load_catalog, profile_dirs
from qms_cli.errors import DataError, UsageError
from qms_cli.units import GIB
from tests.conftest import PROFILES

PRODUCT = [
    ("low", "Low", "⚡", "Fast iterations", "5-10 seconds", 12,
     {"Create Image": ("flux-schnell", 768, 4, None, ("--lowvram",)),
      "Create Video": ("wan2gp-lite", 512, None, 24, ("sequential",))}),
    ("standard", "Standard", "⚖️", "Balanced quality", "30-60 seconds", 16,
     {"Create Image": ("flux-dev-fp8", 1024, 20, None, ("--medvram",)),
      "Create Video": ("wan2gp-standard", 768, None, 48, ("tiled",))}),
    ("high", "High", "✨", "Maximum fidelity", "2-5 minutes", 24,
     {"Create Image": ("flux-dev-fp16", 2048, 50, None, ()),
      "Create Video": ("wan2gp-pro", 1920, None, 96, ())}),
]


def test_bundled_tiers_are_the_product_definition() -> None:
    tiers = load_catalog().tiers
    assert len(tiers.tiers) == len(PRODUCT)
    for tier, (tid, name, icon, desc, label, gb, maps) in zip(tiers.tiers, PRODUCT):
        assert (tier.id, tier.name, tier.icon, tier.description, tier.time_label) == (tid, name, icon, desc, label)
        assert tier.target_vram == gb * GIB
        got = {fn: (c.model, c.resolution, c.steps, c.frames, c.options) for fn, c in tier.mappings.items()}
        assert got == maps
    assert tiers.default_id == "standard"
    assert tiers.functions == ["Create Image", "Create Video"]


def test_models_cover_every_mapping_with_sizes_geometry_and_options() -> None:
    catalog = load_catalog()
    for tier in catalog.tiers.tiers:
        for config in tier.mappings.values():
            model = catalog.models.models[config.model]
            assert {c.role for c in model.components.values()} >= {"denoiser", "text_encoder", "vae"}
            assert all(c.weights[c.precision] > 0 for c in model.components.values())
            assert set(config.options) <= set(model.memory_options)
            assert model.latent["vae_downscale"] == 8 and model.architecture["hidden"] > 0
    flux = catalog.models.models["flux-dev-fp16"].components["transformer"]
    assert flux.precision == "bf16" and round(flux.weights["bf16"] / 1e9, 1) == 23.8  # figures.md: 23.8 GB


def test_tier_lookup_by_id_or_name_in_any_case() -> None:
    tiers = load_catalog().tiers
    assert tiers.get("HIGH").id == "high" and tiers.get(" standard ").id == "standard"
    with pytest.raises(UsageError, match="choose one of: low, standard, high"):
        tiers.get("ultra")
    assert tiers.function("create   IMAGE") == "Create Image"


def write_tiers(folder: Path, edit: Any) -> Path:
    data = yaml.safe_load((PROFILES / "tiers.yaml").read_text(encoding="utf-8"))
    edit(data)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiers.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def add_ultra(data: dict[str, Any]) -> None:
    ultra = {**data["tiers"][-1], "id": "ultra", "name": "Ultra", "icon": "🚀", "description": "Print quality",
             "time_label": "5-10 minutes", "target_vram": "48GB"}
    data["tiers"].append(ultra)


def test_search_path_order_and_per_file_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write_tiers(tmp_path / "explicit", lambda d: d["tiers"][0].update(name="Draft"))
    env = write_tiers(tmp_path / "env", lambda d: d["tiers"][0].update(name="Sketch"))
    local = write_tiers(Path(".qms/profiles"), lambda d: d["tiers"][0].update(name="Quick"))
    assert load_catalog().tiers.tiers[0].name == "Quick"
    monkeypatch.setenv("QMS_PROFILES", str(env))
    assert load_catalog().tiers.tiers[0].name == "Sketch"
    catalog = load_catalog(str(explicit))
    assert catalog.tiers.tiers[0].name == "Draft"
    assert catalog.sources["tiers"] == explicit / "tiers.yaml"
    assert catalog.sources["models"] == PROFILES / "models.yaml"  # not in those folders: bundled
    assert profile_dirs(str(explicit))[:3] == [explicit, env, local]


def test_missing_profiles_folder_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="--profiles: 'nowhere' is not a folder"):
        load_catalog("nowhere")
    monkeypatch.setenv("QMS_PROFILES", "elsewhere")
    with pytest.raises(UsageError, match="QMS_PROFILES: 'elsewhere'"):
        load_catalog()


def test_broken_profile_stops_with_the_first_problem(tmp_path: Path) -> None:
    folder = write_tiers(tmp_path / "p", lambda d: d["tiers"][1].update(icon=7, target_vram="lots"))
    with pytest.raises(DataError) as e:
        load_catalog(str(folder))
    assert "tiers.yaml::$.tiers[1]." in e.value.message and "(and 1 more; `qms validate`" in e.value.message


def test_inconsistent_profile_is_refused(tmp_path: Path) -> None:
    folder = write_tiers(tmp_path / "p", lambda d: d["tiers"][0]["mappings"]["Create Image"].update(model="sdxl"))
    with pytest.raises(DataError, match=r"model 'sdxl' is not in models\.yaml"):
        load_catalog(str(folder))


def test_validated_profiles_are_cached_by_content(tmp_path: Path) -> None:
    folder = write_tiers(tmp_path / "p", lambda d: None)
    load_catalog(str(folder))
    entries = list((tmp_path / "cache" / "validated").glob("catalog-*.json"))
    assert len(entries) == 1
    assert load_catalog(str(folder)).tiers.tiers[0].name == "Low"  # a hit
    # Same bytes, another answer in the cache is impossible: an edit is a new key, re-validated.
    text = (folder / "tiers.yaml").read_text(encoding="utf-8")
    (folder / "tiers.yaml").write_text(text.replace("name: Low", "name: Draft"), encoding="utf-8")
    assert load_catalog(str(folder)).tiers.tiers[0].name == "Draft"
    (folder / "tiers.yaml").write_text(text.replace("name: Low", "name: 7"), encoding="utf-8")
    with pytest.raises(DataError):
        load_catalog(str(folder))
    with pytest.raises(DataError):  # errors are never cached
        load_catalog(str(folder))


def test_a_tampered_cache_entry_is_a_miss(tmp_path: Path) -> None:
    load_catalog()
    (entry,) = (tmp_path / "cache" / "validated").glob("catalog-*.json")
    entry.write_bytes(b"garbage")
    assert load_catalog().tiers.ids == ["low", "standard", "high"]


def test_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("QMS_CACHE_DIR", str(blocker / "cache"))
    assert load_catalog().tiers.ids == ["low", "standard", "high"]


def test_fourth_tier_and_renamed_tiers_work_everywhere(tmp_path: Path, qms: Any) -> None:
    folder = write_tiers(tmp_path / "p", add_ultra)
    listing = qms("--profiles", str(folder), "tiers", "--json").json()
    assert [t["id"] for t in listing["tiers"]] == ["low", "standard", "high", "ultra"]
    assert qms("--profiles", str(folder), "init").code == 0
    assert qms("--profiles", str(folder), "set-quality", "Ultra").code == 0
    assert qms("--profiles", str(folder), "show", "--json").json()["quality"]["icon"] == "🚀"
    assert qms("--profiles", str(folder), "validate").code == 0
    # Without the custom tiers the project names a tier that does not exist: said clearly, exit 1.
    result = qms("show")
    assert result.code == 1 and "names a quality that does not exist, 'ultra'" in result.err
    renamed = write_tiers(tmp_path / "r", lambda d: [t.update(name=t["name"] + " quality") for t in d["tiers"]])
    assert qms("--profiles", str(renamed), "set-quality", "low QUALITY").code == 0


def test_hardware_profiles_are_listed(tmp_path: Path) -> None:
    names = load_catalog().hardware_files()
    assert {"cpu-only", "laptop-8gb", "rtx-3060-12gb", "rtx-4080-16gb", "rtx-4090-24gb", "a100-80gb"} <= set(names)
    local = Path(".qms/profiles/hardware")
    local.mkdir(parents=True)
    shutil.copy(PROFILES / "hardware" / "cpu-only.yaml", local / "cpu-only.yaml")
    assert load_catalog().hardware_files()["cpu-only"] == Path(".qms/profiles/hardware/cpu-only.yaml")
