"""The fallback ladder (plan/ladder.py): option sets weakest first, what each set keeps, the rungs from the
requested tier down to the processor, the mapping as the router sees it, and what --technical calls relaxed.

The models and tiers here are written out by hand (options named for what they do, not for a real model), so
every expected list below follows from the ladder's rules alone (docs/DESIGN.md, "The ladder"), not from the
profiles; one test runs the same rules over the bundled catalogue.
"""

from __future__ import annotations

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.catalog.models import MemoryOption, ModelProfile, ModelSet
from qms_cli.catalog.tiers import Configuration, Tier, TierSet
from qms_cli.estimate.candidate import Candidate
from qms_cli.plan.ladder import as_mapped, candidates, option_sets, relaxed

OPTIONS = {o.name: o for o in (
    MemoryOption("whole", offload="model", time_factor=1.05),  # one component on the card at a time
    MemoryOption("part", offload="partial", resident_fraction=0.5, decode="tiled", time_factor=1.1),
    MemoryOption("layers", offload="sequential", decode="tiled", time_factor=1.2),  # one block at a time
    MemoryOption("tiles", decode="tiled"),  # tiled decoding only
    MemoryOption("cast8", storage_factor=0.65, time_factor=1.08),  # weights stored in 8 bits: not about placement
)}
EVERY = ("whole", "part", "layers", "tiles", "cast8")


def model(model_id: str, supported: tuple[str, ...] = EVERY, steps: int = 28) -> ModelProfile:
    return ModelProfile(model_id, "f", "image", steps, {}, {}, {}, supported)


MODELS = ModelSet({}, OPTIONS, {}, {m.id: m for m in (model("small", steps=4), model("big"),
                                                      model("clip", ("whole", "layers", "tiles"), steps=30))})


def tier(tier_id: str, rank: int, image: Configuration, video: Configuration) -> Tier:
    return Tier(tier_id, tier_id.title(), "*", "", "5-10 seconds", 12 * 2**30,
                {"Create Image": image, "Create Video": video}, rank)


TIERS = TierSet((tier("low", 0, Configuration("small", 768, 4, None, ("part",)),
                      Configuration("clip", 512, None, 24, ("layers",))),
                 tier("high", 1, Configuration("big", 2048, None, None, ()),
                      Configuration("clip", 1920, None, 96, ()))), "low")


def test_option_sets_run_from_weakest_to_strongest() -> None:
    # Nothing moved off the card first, then tiled decoding, then each offload mode from whole components to
    # layer by layer; an offload mode that already tiles is not listed again with tiling added.
    assert option_sets((), EVERY, MODELS) == [(), ("tiles",), ("whole",), ("tiles", "whole"), ("part",), ("layers",)]


def test_options_not_about_placement_are_kept_in_every_set() -> None:
    # 8-bit storage changes what runs, not where it is held: every rung of a tier mapped with it keeps it, and a
    # tier mapped without it never gains it.
    sets = option_sets(("cast8",), EVERY, MODELS)
    assert sets == [("cast8",), ("cast8", "tiles"), ("cast8", "whole"), ("cast8", "tiles", "whole"),
                    ("cast8", "part"), ("cast8", "layers")]
    assert not any("cast8" in s for s in option_sets(("whole",), EVERY, MODELS))


def test_the_mapped_set_is_one_of_the_rungs_as_the_profile_spells_it() -> None:
    # "part" already tiles: the mapping's spelling stands for that rung, not "tiles" + "part".
    sets = option_sets(("part",), EVERY, MODELS)
    assert ("part",) in sets and ("tiles", "part") not in sets and len(sets) == 6
    assert option_sets(("tiles", "whole"), EVERY, MODELS)[3] == ("tiles", "whole")


def test_only_what_the_model_supports_is_tried() -> None:
    assert option_sets((), ("whole", "layers", "tiles"), MODELS) == [(), ("tiles",), ("whole",), ("tiles", "whole"),
                                                                     ("layers",)]
    assert option_sets((), (), MODELS) == [()]  # nothing to relax or strengthen: the tier as it is


def test_candidates_run_from_the_requested_tier_down_and_end_on_the_processor() -> None:
    rungs = candidates(TIERS, MODELS, "Create Image", TIERS.get("high"), None)
    assert [(c.tier.id, c.config.model, c.config.options, c.cpu) for c in rungs] == [
        *[("high", "big", s, False) for s in [(), ("tiles",), ("whole",), ("tiles", "whole"), ("part",), ("layers",)]],
        *[("low", "small", s, False) for s in [(), ("tiles",), ("whole",), ("tiles", "whole"), ("part",), ("layers",)]],
        ("low", "small", ("part",), True),  # the lowest tier as mapped, on the processor
    ]
    # The output stays the tier's own on every rung: resolution and steps (the model's default where the tier
    # gives none: 28 for "big").
    assert {(c.config.resolution, c.config.steps) for c in rungs if c.tier.id == "high"} == {(2048, 28)}
    assert {(c.config.resolution, c.config.steps) for c in rungs if c.tier.id == "low"} == {(768, 4)}


def test_the_lowest_tier_asked_for_has_no_tier_below() -> None:
    rungs = candidates(TIERS, MODELS, "Create Image", TIERS.get("low"), None)
    assert {c.tier.id for c in rungs} == {"low"} and len(rungs) == 7 and rungs[-1].cpu


def test_a_task_length_replaces_the_video_tiers_frames_and_leaves_images_alone() -> None:
    video = candidates(TIERS, MODELS, "Create Video", TIERS.get("high"), 48)
    assert {c.config.frames for c in video} == {48}
    assert {(c.tier.id, c.config.steps) for c in video} == {("high", 30), ("low", 30)}  # "clip" defaults to 30
    assert {c.config.frames for c in candidates(TIERS, MODELS, "Create Image", TIERS.get("high"), 48)} == {None}
    assert {c.config.frames for c in candidates(TIERS, MODELS, "Create Video", TIERS.get("high"), None)} == {96, 24}


def test_as_mapped_is_the_tiers_configuration_with_default_steps() -> None:
    assert as_mapped(TIERS.get("high"), "Create Image", MODELS) == Configuration("big", 2048, 28, None, ())
    assert as_mapped(TIERS.get("low"), "Create Video", MODELS) == Configuration("clip", 512, 30, 24, ("layers",))
    assert as_mapped(TIERS.get("low"), "Create Image", MODELS) == Configuration("small", 768, 4, None, ("part",))


def test_relaxed_names_what_a_rung_left_out_and_added() -> None:
    mapped = Configuration("small", 768, 4, None, ("part", "cast8"))
    assert relaxed(Configuration("small", 768, 4, None, ("cast8",)), mapped) == (("part",), ())
    assert relaxed(Configuration("small", 768, 4, None, ("cast8", "layers")), mapped) == (("part",), ("layers",))
    assert relaxed(mapped, mapped) == ((), ())


@pytest.mark.parametrize("function", ["Create Image", "Create Video"])
def test_every_bundled_tier_keeps_its_mapping_among_its_rungs(function: str) -> None:
    catalog = load_catalog()
    tiers, models = catalog.tiers, catalog.models
    top = tiers.tiers[-1]
    rungs = candidates(tiers, models, function, top, None)
    for t in tiers.tiers:
        mine = [c for c in rungs if c.tier.id == t.id and not c.cpu]
        assert Candidate(t, function, as_mapped(t, function, models)) in mine
        assert mine[0].config.options == tuple(o for o in t.mappings[function].options
                                               if models.options[o].offload == "none"
                                               and models.options[o].decode != "tiled")  # the weakest first
    assert rungs[-1].cpu and rungs[-1].tier.id == tiers.tiers[0].id
