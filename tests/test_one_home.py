"""One home per fact (issue 16, step 4): what the bench and the estimator take from the profiles instead of
their own constants -- the width of an attention head, a text encoder's layers, and which memory options are
measured, chosen by what they do rather than by their names."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from qms_cli.bench.session import samples_of
from qms_cli.bench.suite import QUICK, jobs
from qms_cli.catalog.load import Catalog, load_catalog
from qms_cli.estimate.predict import Effects, predict
from tests.conftest import PROFILES

RENAMED = {"fp8-storage": "eight-bit-weights", "sequential": "one-block-at-a-time", "tiled": "in-tiles"}


def profiles_copy(folder: Path, change: Any = None, rename: dict[str, str] | None = None) -> Catalog:
    """The shipped profiles in `folder`, with memory options renamed (in both files) and models.yaml changed."""
    shutil.copytree(PROFILES, folder)
    for name in ("models.yaml", "tiers.yaml"):
        text = (folder / name).read_text(encoding="utf-8")
        for old, new in (rename or {}).items():
            text = text.replace(f" {old}:", f" {new}:").replace(f"[{old}", f"[{new}").replace(f" {old},", f" {new},") \
                .replace(f" {old}]", f" {new}]")
        (folder / name).write_text(text, encoding="utf-8")
    if change is not None:
        models = yaml.safe_load((folder / "models.yaml").read_text(encoding="utf-8"))
        change(models)
        (folder / "models.yaml").write_text(yaml.safe_dump(models, sort_keys=False), encoding="utf-8")
    return load_catalog(str(folder))


def option_jobs(catalog: Catalog, card: bool) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(j["family"], j["kind"], j["option"], tuple(j["options"]))
            for j in jobs(catalog, QUICK, evaluate=True, card=card) if j.get("option")]


def test_memory_options_are_measured_by_what_they_do_not_by_their_names(tmp_path: Path) -> None:
    shipped = load_catalog()
    renamed = profiles_copy(tmp_path / "p", rename=RENAMED)
    assert set(RENAMED.values()) <= set(renamed.models.options) and not set(RENAMED) & set(renamed.models.options)
    back = {new: old for old, new in RENAMED.items()}
    for card in (True, False):
        ours = option_jobs(renamed, card)
        assert [(f, k, back[o], t) for f, k, o, t in ours] == option_jobs(shipped, card)
        # What the family's models list, measured as the workloads apply it: 8-bit storage and layer-by-layer
        # offloading (a card only) on a pass, tiling on a decode.
        listed = {f: {o for m in renamed.models.models.values() if m.family == f for o in m.memory_options}
                  for f in renamed.models.families}
        want = {(f, "step", "eight-bit-weights", ("fp8-storage",)) for f in listed if "eight-bit-weights" in listed[f]}
        want |= {(f, "step", "one-block-at-a-time", ("sequential",)) for f in listed
                 if card and "one-block-at-a-time" in listed[f]}
        want |= {(f, "decode", "in-tiles", ("tiled",)) for f in listed if "in-tiles" in listed[f]}
        assert set(ours) == want and len(ours) == len(want)


def test_a_measured_option_is_recorded_under_its_catalogue_name(tmp_path: Path) -> None:
    catalog = profiles_copy(tmp_path / "p", rename=RENAMED)
    job_list = jobs(catalog, QUICK, evaluate=True, card=False)
    measured = next(j for j in job_list if j.get("option") == "eight-bit-weights")
    result = {"id": measured["id"], "status": "ok", "seconds": 0.5, "tokens": measured["tokens"], "repeats": 3}
    (sample,) = samples_of(catalog, job_list, [result])
    assert sample.detail is not None and sample.detail["options"] == ["eight-bit-weights"]


def test_the_bench_makes_heads_as_wide_as_the_profiles_say(tmp_path: Path) -> None:
    def narrow(models: dict[str, Any]) -> None:
        for m in models["models"].values():
            if m["family"] == "flux":
                m["architecture"]["head_dim"] = 64

    catalog = profiles_copy(tmp_path / "p", change=narrow)
    job_list = jobs(catalog, QUICK, evaluate=False)
    steps = [j for j in job_list if j["kind"] == "step"]
    assert {j["head_dim"] for j in steps if j["family"] == "flux"} == {64}
    assert {j["head_dim"] for j in steps if j["family"] == "wan"} == {128}  # as models.yaml has it
    flux = next(j for j in steps if j["family"] == "flux")
    result = {"id": flux["id"], "status": "ok", "seconds": 0.5, "tokens": flux["tokens"], "repeats": 3}
    (sample,) = samples_of(catalog, job_list, [result])
    assert sample.hidden == flux["heads"] * 64


def test_a_text_encoder_streamed_layer_by_layer_holds_one_of_its_blocks() -> None:
    catalog = load_catalog()
    model = catalog.models.models["wan2gp-lite"]
    family = catalog.models.families[model.family]
    (encoder,) = [c for c in model.components.values() if c.role == "text_encoder"]
    weights = encoder.weights[encoder.precision]
    streamed = Effects.of(("sequential",), catalog.models.options)
    speed = catalog.throughput.cpu(8)

    def encode_phase(blocks: int) -> int:
        comps = {n: c._replace(blocks=blocks) if c is encoder else c for n, c in model.components.items()}
        p = predict(replace(model, components=comps), family, 512, 4, 17, streamed, speed)
        return dict(p.phases)["encode"]

    assert encoder.blocks == 24  # [F] umT5-XXL: 24 layers (profiles/models.yaml)
    assert abs(encode_phase(8) - encode_phase(24) - (weights / 8 - weights / 24)) <= 1
    assert abs(encode_phase(1) - encode_phase(24) - (weights - weights / 24)) <= 1


def test_a_text_encoder_without_its_layers_is_a_profile_error(qms: Any) -> None:
    models = yaml.safe_load((PROFILES / "models.yaml").read_text(encoding="utf-8"))
    del models["models"]["wan2gp-lite"]["components"]["umt5"]["blocks"]
    Path("models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    result = qms("validate", "models.yaml")
    assert result.code == 1
    assert "$.models['wan2gp-lite'].components.umt5: a text encoder needs 'blocks' (its layers)" in result.out
