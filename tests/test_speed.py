"""Reference speeds before calibration (catalog/speed.py): a listed card by its exact name, a card derived from
what NVML reports, the processor per core, and the card classes' efficiencies.

Expected values are worked out here from the two profiles as written (profiles/throughput.yaml and
profiles/cards.yaml, read with yaml in the test): dense 16-bit tensor peak x the class's share for each kind of
work, the host link's lanes x GB/s per lane x the share of it offloading reaches.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from qms_cli.catalog.load import load_catalog
from qms_cli.catalog.speed import Throughput
from qms_cli.errors import DataError
from qms_cli.hardware.resources import Gpu
from tests.conftest import PROFILES

THROUGHPUT: dict[str, Any] = yaml.safe_load((PROFILES / "throughput.yaml").read_text(encoding="utf-8"))
CARDS: dict[str, Any] = yaml.safe_load((PROFILES / "cards.yaml").read_text(encoding="utf-8"))
SHARE = THROUGHPUT["transfer"]["share_of_link"]
LANE = {int(k): v for k, v in CARDS["pcie_lane_gbs"].items()}


def row(name: str) -> dict[str, Any]:
    """The cards.yaml row that lists `name`."""
    return next(r for r in CARDS["cards"] if name in r["names"])


def efficiency(cls: str) -> tuple[float, float]:
    """(matrix products, attention) of a class, following `like` by hand."""
    entry = THROUGHPUT["efficiency"][cls]
    while "like" in entry:
        entry = THROUGHPUT["efficiency"][entry["like"]]
    return entry["linear"], entry["attention"]


def reference() -> Throughput:
    return load_catalog().throughput


@pytest.mark.parametrize("name", ["NVIDIA GeForce RTX 4090", "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB",
                                  "NVIDIA RTX 6000 Ada Generation"])
def test_a_listed_card_runs_at_its_peak_times_its_classs_shares(name: str) -> None:
    card = row(name)
    linear, attention = efficiency(card["class"])
    gen, lanes = card["pcie"]
    speed = reference().gpu(name)
    assert speed.linear_flops == pytest.approx(card["tflops"] * 1e12 * linear)
    assert speed.attention_flops == pytest.approx(card["tflops"] * 1e12 * attention)
    assert speed.decode_flops == pytest.approx(card["tflops"] * 1e12 * linear)  # the decoder's convolutions
    assert speed.step_overhead == THROUGHPUT["step_overhead_s"] and speed.linear_width == 0.0
    assert speed.host_bandwidth == pytest.approx(LANE[gen] * lanes * 1e9 * SHARE)
    assert speed.band == tuple(THROUGHPUT["range"]["uncalibrated"])  # each of these classes was fitted
    assert not speed.calibrated and speed.memory_margin == 1.0
    assert speed.basis.startswith(f"reference (listed as {name}, source {card['source']})")


def test_a_class_without_published_runs_takes_its_neighbours_shares_and_a_wider_range() -> None:
    card = row("NVIDIA GeForce RTX 3090")
    like = THROUGHPUT["efficiency"][card["class"]]["like"]
    assert "like" not in THROUGHPUT["efficiency"][like]  # the test's premise: one step to a fitted class
    speed = reference().gpu("NVIDIA GeForce RTX 3090")
    assert speed.linear_flops == pytest.approx(card["tflops"] * 1e12 * THROUGHPUT["efficiency"][like]["linear"])
    assert speed.attention_flops == pytest.approx(card["tflops"] * 1e12 * THROUGHPUT["efficiency"][like]["attention"])
    assert speed.band == tuple(THROUGHPUT["range"]["unfitted_class"])


def test_every_class_resolves_to_shares_below_one() -> None:
    resolved = reference().efficiency
    assert set(resolved) == set(THROUGHPUT["efficiency"])
    for cls in THROUGHPUT["efficiency"]:
        assert resolved[cls] == efficiency(cls) and all(0 < share < 1 for share in resolved[cls])


def test_a_card_not_listed_is_derived_from_what_nvml_reports() -> None:
    rules = CARDS["derive"]
    # A Hopper card NVML reports as 132 multiprocessors at 1830 MHz: 132 x 1830e6 x 4096 flops a clock.
    hopper = Gpu(0, "NVIDIA Next Card", compute_capability=(9, 0), multiprocessors=132, boost_sm_clock_mhz=1830,
                 pcie=(5, 16))
    tflops = 132 * 1830e6 * rules["9.0"]["flops_per_clock"] / 1e12
    assert tflops == pytest.approx(989.4, abs=0.1)  # the H100 SXM's datasheet figure, as cards.yaml notes
    speed = reference().card(hopper)
    assert speed.linear_flops == pytest.approx(tflops * 1e12 * efficiency(rules["9.0"]["class"])[0])
    assert speed.host_bandwidth == pytest.approx(LANE[5] * 16 * 1e9 * SHARE)
    assert speed.basis.startswith("derived (from the card's own figures: 132 multiprocessors x 1830 MHz")
    # A GeForce card of compute capability 8.9 counts its cores (16384 / 128 a multiprocessor) at the GeForce
    # rate and takes the GeForce class; the same chip under another brand, the full rate and the -pro class.
    rule = rules["8.9"]
    geforce = Gpu(0, "NVIDIA GeForce Next", compute_capability=(8, 9), cuda_cores=16384, boost_sm_clock_mhz=2520,
                  brand="geforce")
    sms = 16384 // rule["cores_per_sm"]
    assert reference().card(geforce).linear_flops == pytest.approx(
        sms * 2520e6 * rule["geforce"] * efficiency(rule["geforce_class"])[0])
    pro = Gpu(0, "NVIDIA RTX Next", compute_capability=(8, 9), cuda_cores=16384, boost_sm_clock_mhz=2520,
              brand="nvidia_rtx")
    assert reference().card(pro).attention_flops == pytest.approx(
        sms * 2520e6 * rule["flops_per_clock"] * efficiency(rule["class"])[1])
    # No link reported: the stated one.
    gen, lanes = CARDS["unknown_link"]
    assert reference().card(geforce).host_bandwidth == pytest.approx(LANE[gen] * lanes * 1e9 * SHARE)


def test_a_card_with_no_figures_is_taken_as_the_stated_stand_in() -> None:
    stand_in = row(CARDS["unknown_card"])
    speed = reference().card(Gpu(0, "Simulated Card"))
    assert speed.linear_flops == pytest.approx(stand_in["tflops"] * 1e12 * efficiency(stand_in["class"])[0])
    assert speed.basis.startswith("assumed ('Simulated Card' is not a listed card")
    assert reference().gpu("Simulated Card").linear_flops == speed.linear_flops


def test_a_listed_card_copies_over_the_link_it_reports() -> None:
    # An RTX 4090 (listed on PCIe 4.0 x16) in a PCIe 3.0 slot: offloading runs at the slot's speed.
    speed = reference().card(Gpu(0, "NVIDIA GeForce RTX 4090", pcie=(3, 16)))
    assert speed.host_bandwidth == pytest.approx(LANE[3] * 16 * 1e9 * SHARE)
    assert "PCIe 3.0 x16 (as the card reports)" in speed.basis
    # NVLink to the processor is not replaced by a PCIe figure the driver also reports.
    gh200 = reference().card(Gpu(0, "NVIDIA GH200 480GB", pcie=(5, 16)))
    assert gh200.host_bandwidth == pytest.approx(row("NVIDIA GH200 480GB")["host_gbs"] * 1e9 * SHARE)


@pytest.mark.parametrize("cores", [1, 8, 32])
def test_the_processor_runs_at_its_per_core_rate(cores: int) -> None:
    flops = THROUGHPUT["cpu"]["gflops_per_core"] * 1e9 * cores
    speed = reference().cpu(cores)
    assert (speed.linear_flops, speed.attention_flops, speed.decode_flops) == (flops, flops, flops)
    assert speed.host_bandwidth == float("inf")  # nothing to copy: main memory is where it runs
    assert speed.band == tuple(THROUGHPUT["range"]["unfitted_class"])
    assert reference().cpu(0).linear_flops == THROUGHPUT["cpu"]["gflops_per_core"] * 1e9  # at least one core


def test_a_class_with_no_efficiency_or_a_circle_of_likes_is_refused() -> None:
    circle = {**THROUGHPUT, "efficiency": {"a": {"like": "b"}, "b": {"like": "a"}}}
    with pytest.raises(DataError, match="is not a class with its own efficiencies"):
        Throughput(circle)
    lonely = {**THROUGHPUT, "efficiency": {"hopper": THROUGHPUT["efficiency"]["hopper"]}}
    with pytest.raises(DataError, match=r"has no efficiency in throughput\.yaml"):
        Throughput(lonely, lambda: load_catalog().throughput.cards()).gpu("NVIDIA H100 PCIe")
