"""Card figures: the table by exact name (profiles/cards.yaml), a card not in it derived from what NVML reports,
and offloading times from the card's host link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.load import load_catalog
from qms_cli.estimate.predict import Effects, predict
from qms_cli.hardware import probe
from qms_cli.hardware.resources import Gpu
from tests.conftest import PROFILES
from tests.fake_nvml import SCENARIOS, install
from tests.test_probe import fake_qms

# Every card issue 14 names, as NVML reports it (or as the card is sold, where it reports the same name).
REQUIRED = [
    *[f"NVIDIA GeForce RTX {n}" for n in ("2060", "2060 SUPER", "2070", "2070 SUPER", "2080", "2080 SUPER", "2080 Ti",
                                           "3050", "3060", "3060 Ti", "3070", "3070 Ti", "3080", "3080 Ti", "3090",
                                           "3090 Ti", "4060", "4060 Ti", "4070", "4070 SUPER", "4070 Ti",
                                           "4070 Ti SUPER", "4080", "4080 SUPER", "4090", "5050", "5060", "5060 Ti",
                                           "5070", "5070 Ti", "5080", "5090")],
    *[f"NVIDIA GeForce RTX {n} Laptop GPU" for n in ("3050", "3060", "3070", "3080", "4050", "4060", "4070", "4080",
                                                      "4090", "5060", "5070", "5080", "5090")],
    *[f"NVIDIA RTX A{n}" for n in (2000, 4000, 4500, 5000, 5500, 6000)],
    *[f"NVIDIA RTX {n} Ada Generation" for n in (2000, 4000, 4500, 5000, 6000)],
    "NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "NVIDIA RTX PRO 4000 Blackwell",
    "Tesla T4", "Tesla V100-SXM2-32GB", "Tesla V100-PCIE-16GB", "NVIDIA A10", "NVIDIA A10G", "NVIDIA A30",
    "NVIDIA A40", "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB",
    "NVIDIA L4", "NVIDIA L20", "NVIDIA L40", "NVIDIA L40S", "NVIDIA H100 PCIe", "NVIDIA H100 80GB HBM3",
    "NVIDIA H100 NVL", "NVIDIA H200", "NVIDIA H20", "NVIDIA GH200 480GB", "NVIDIA B200",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_every_named_card_is_in_the_table(name: str) -> None:
    speed = load_catalog().throughput.gpu(name)
    assert speed.basis.startswith("reference (listed as "), (name, speed.basis)


# name as NVML reports it -> (datasheet dense 16-bit TFLOPS, memory GB/s, host link GB/s per direction)
DATASHEET = {
    "NVIDIA GeForce RTX 4060": (30.2, 272, 8 * 1.969),  # PCIe 4.0 x8
    "NVIDIA GeForce RTX 4060 Ti": (44.1, 288, 8 * 1.969),
    "NVIDIA GeForce RTX 4060 Laptop GPU": (29.1, 256, 8 * 1.969),
    "GeForce RTX 2080 Ti": (53.8, 616, 16 * 0.985),  # drivers before R470 print no "NVIDIA"
    "NVIDIA H100 80GB HBM3": (989.4, 3350, 16 * 3.938),
    "NVIDIA H100 PCIe": (756, 2000, 16 * 3.938),
    "NVIDIA A100-SXM4-80GB": (312, 2039, 16 * 1.969),
    "NVIDIA RTX 6000 Ada Generation": (364.2, 960, 16 * 1.969),
    "NVIDIA GH200 480GB": (989.4, 4000, 450),  # NVLink-C2C to the Grace CPU
}


@pytest.mark.parametrize("name", sorted(DATASHEET))
def test_exact_names_find_their_own_card(name: str) -> None:
    table = load_catalog().throughput.cards()
    card = table.find(name)
    tflops, bandwidth, host = DATASHEET[name]
    assert card is not None and card.name.endswith(name.removeprefix("GeForce "))
    assert (card.tflops, card.bandwidth) == (tflops, bandwidth)
    assert card.host_gbs == pytest.approx(host)


def test_a_name_does_not_match_a_longer_one() -> None:
    table = load_catalog().throughput.cards()
    assert table.find("NVIDIA GeForce RTX 4060") != table.find("NVIDIA GeForce RTX 4060 Ti")
    assert table.find("RTX 4060") == table.find("NVIDIA GeForce RTX 4060")
    assert table.find("NVIDIA GeForce RTX 4050") is None  # no desktop 4050: not the laptop's figures
    assert table.find("NVIDIA H100") is None  # SXM, PCIe and NVL differ: no guess between them
    assert table.find("NVIDIA A100-SXM4-80GB MIG 3g.40gb") is None  # a slice is not the whole card
    assert table.find("NVIDIA GeForce RTX 3060 8GB") == table.find("NVIDIA GeForce RTX 3060")  # size words dropped


def card(**figures: Any) -> Gpu:
    return Gpu(index=0, name="NVIDIA Next Card", **figures)


def test_an_unlisted_card_is_derived_from_what_it_reports() -> None:
    t = load_catalog().throughput
    # An RTX 4090's own figures under another name: 16384 cores / 128 = 128 SMs x 2520 MHz x 512 -> 165.2.
    geforce = t.card(card(compute_capability=(8, 9), cuda_cores=16384, boost_sm_clock_mhz=2520,
                          max_memory_clock_mhz=10501, memory_bus_bits=384, pcie=(4, 16), brand="geforce"))
    listed = t.gpu("NVIDIA GeForce RTX 4090")
    assert geforce.linear_flops == pytest.approx(listed.linear_flops, rel=0.001)
    assert geforce.host_bandwidth == pytest.approx(listed.host_bandwidth)
    assert geforce.basis.startswith("derived (from the card's own figures: 128 multiprocessors x 2520 MHz")
    assert "= 1008 GB/s" in geforce.basis
    # The same chip sold as a workstation card runs its tensor cores at the full rate, in the "-pro" class.
    pro = t.card(card(compute_capability=(8, 9), cuda_cores=16384, boost_sm_clock_mhz=2520, brand="nvidia_rtx"))
    assert "ada-pro efficiencies" in pro.basis and "2 x 1" not in pro.basis
    # A Hopper part with only its highest clock known: 132 x 1980 x 4096; the basis says which clock it used.
    hopper = t.card(card(compute_capability=(9, 0), cuda_cores=16896, max_sm_clock_mhz=1980))
    assert hopper.linear_flops == pytest.approx(132 * 1980e6 * 4096 * t.efficiency["hopper"][0])
    assert "(highest clock)" in hopper.basis and "PCIe 4.0 x16" in hopper.basis  # no link reported: unknown_link


def test_a_card_with_no_figures_and_no_listed_name_says_it_was_assumed() -> None:
    t = load_catalog().throughput
    speed = t.card(card(compute_capability=(8, 9)))  # no multiprocessors, no clock: nothing to derive from
    assert speed.basis.startswith("assumed (") and "taken as NVIDIA GeForce RTX 4090" in speed.basis
    assert speed.band == t.band  # the stand-in's class was fitted


def test_classes_without_published_runs_show_a_wider_range() -> None:
    t = load_catalog().throughput
    fitted, unfitted = t.gpu("NVIDIA GeForce RTX 4090").band, t.gpu("NVIDIA GeForce RTX 3090").band
    assert unfitted[0] < fitted[0] and unfitted[1] > fitted[1]


def test_offloading_time_follows_the_host_link() -> None:
    """Whole-model offloading moves every weight in and out once a task: twice the time on half the link."""
    c = load_catalog()
    t, models = c.throughput, c.models
    m, fam = models.models["flux-dev-fp16"], models.families["flux"]
    offload = Effects.of(("--medvram",), models.options)
    gen4 = t.card(Gpu(index=0, name="NVIDIA GeForce RTX 4090", pcie=(4, 16)))
    gen3 = t.card(Gpu(index=0, name="NVIDIA GeForce RTX 4090", pcie=(3, 16)))  # the same card in an older slot
    moved = dict(predict(m, fam, 1024, 28, None, offload, gen4).parts)["transfer"]
    slower = dict(predict(m, fam, 1024, 28, None, offload, gen3).parts)["transfer"]
    assert slower / moved == pytest.approx(1.969 / 0.985, rel=0.001)
    assert "PCIe 3.0 x16 (as the card reports)" in gen3.basis
    weights = sum(comp.weights[comp.precision] for comp in m.components.values())
    assert moved == pytest.approx(2 * weights / (16 * 1.969e9 * t.transfer_share))


def test_probe_reads_the_speed_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    install(SCENARIOS["one-idle"](), monkeypatch.setattr)
    (g,) = probe().gpus
    assert (g.compute_capability, g.cuda_cores, g.multiprocessors) == ((8, 9), 16384, None)  # no attributes: not MIG
    assert (g.boost_sm_clock_mhz, g.max_sm_clock_mhz, g.max_memory_clock_mhz) == (None, 3105, 10501)
    assert (g.memory_bus_bits, g.pcie, g.brand, g.status) == (384, (4, 16), "geforce", "ok")


def test_old_drivers_and_mig_instances_report_what_they_can(monkeypatch: pytest.MonkeyPatch) -> None:
    install(SCENARIOS["v1-only"](), monkeypatch.setattr)  # R470: no core count, no bus width
    (g,) = probe().gpus
    assert (g.cuda_cores, g.memory_bus_bits, g.compute_capability, g.status) == (None, None, (8, 6), "ok")
    install(SCENARIOS["mig-a100"](), monkeypatch.setattr)
    first = probe().gpus[0]  # the instance's own multiprocessors; clocks and bus from its card
    assert (first.multiprocessors, first.cuda_cores, first.boost_sm_clock_mhz, first.memory_bus_bits) == \
        (42, None, 1410, 5120)
    t = load_catalog().throughput
    assert t.card(first).linear_flops == pytest.approx(42 * 1410e6 * 2048 * t.efficiency["ampere-dc"][0])


def test_plan_on_an_unlisted_card_says_how_its_speed_was_found() -> None:
    result = fake_qms("unlisted-card", "plan", "--json")
    assert result.code == 0, result.err
    bases = {t["predicted"]["basis"] for t in result.json()["tasks"]}
    assert bases and all(b.startswith("derived (from the card's own figures: 40 multiprocessors x 1695 MHz")
                         for b in bases), bases


def test_card_table_problems_are_one_clear_line(tmp_path: Path) -> None:
    import yaml

    from qms_cli.catalog.cards import CardTable
    from qms_cli.errors import DataError

    data = yaml.safe_load((PROFILES / "cards.yaml").read_text(encoding="utf-8"))
    data["cards"][0]["source"] = "nowhere"
    with pytest.raises(DataError, match=r"cards\.yaml::\$\.cards\[0\]\.source: 'nowhere' is not one of `sources`"):
        CardTable(data, "cards.yaml")


def test_a_card_class_without_efficiencies_is_one_clear_line() -> None:
    import yaml

    from qms_cli.catalog.cards import CardTable
    from qms_cli.catalog.speed import Throughput
    from qms_cli.errors import DataError

    data = yaml.safe_load((PROFILES / "throughput.yaml").read_text(encoding="utf-8"))
    del data["efficiency"]["volta"]
    cards = yaml.safe_load((PROFILES / "cards.yaml").read_text(encoding="utf-8"))
    t = Throughput.from_data(data, lambda: CardTable(cards, "cards.yaml"))
    with pytest.raises(DataError, match=r"^cards\.yaml: card class 'volta' has no efficiency in throughput\.yaml"):
        t.gpu("NVIDIA GeForce RTX 4090")
