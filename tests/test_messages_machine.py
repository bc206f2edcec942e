"""What qms found out about the machine, worded at the edge (issue 16): every kind of notice, card fault and
exporter refresh, built by hand from facts, rendered by render/messages/machine.py. The expected sentences are
the ones qms printed before the facts moved out of the core (written out here, not taken from the catalogue),
and none of them holds jargon."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import load_catalog
from qms_cli.exporter.metrics import Latest, Refresh
from qms_cli.hardware import Fault, Notice, probe
from qms_cli.plan.manager import QualityManager
from qms_cli.render.messages import machine
from qms_cli.render.probe import probe_json
from tests.fake_nvml import SCENARIOS, install

NO_GPU = "No NVIDIA graphics card found: tasks will run on the processor, which is much slower."
UNCALIBRATED = "estimates are uncalibrated until qms bench runs again"

# (facts, the sentence people read, the technical detail for --json)
NOTICES: list[tuple[Notice, str, str | None]] = [
    (Notice("no_gpu", cause="no_driver"), NO_GPU, "no NVIDIA driver files (/proc/driver/nvidia, /dev)"),
    (Notice("no_gpu", cause="no_package"),
     NO_GPU + " (a part of qms that talks to the graphics driver is missing: reinstall qms)",
     "nvidia-ml-py is not installed"),
    (Notice("no_gpu", cause="not_loaded", error="Driver Not Loaded"), NO_GPU, "nvmlInit: Driver Not Loaded"),
    (Notice("no_gpu", cause="driver_error", error="Unknown Error"),
     NO_GPU + " (the graphics driver said: Unknown Error)", "nvmlInit: Unknown Error"),
    (Notice("driver_mismatch", error="RM has detected an NVML/RM version mismatch."),
     "The graphics driver was updated but the old one is still loaded: restart the computer (or reload the "
     "driver) before using the graphics card.", "nvmlInit: RM has detected an NVML/RM version mismatch."),
    (Notice("driver_hung", cause="timeout", seconds=10.0),
     "The graphics driver did not answer (qms waited 10 s), so no card is used and tasks run on the processor; "
     "restarting the computer usually clears this.", "NVML did not return within 10 s"),
    (Notice("driver_hung", cause="timeout", seconds=0.5),
     "The graphics driver did not answer (qms waited under 1 s), so no card is used and tasks run on the "
     "processor; restarting the computer usually clears this.", "NVML did not return within 0.5 s"),
    (Notice("driver_hung", cause="earlier", seconds=120.0),
     "The graphics driver did not answer (qms waited 2 min), so no card is used and tasks run on the processor; "
     "restarting the computer usually clears this.", "an earlier NVML call has not returned"),
    (Notice("visibility", cause="no_match", setting="0,GPU-ffff,1", entry="GPU-ffff", visible=1),
     "Some graphics cards are hidden from tasks by a setting on this machine; 1 is visible.",
     "CUDA_VISIBLE_DEVICES='0,GPU-ffff,1': 'GPU-ffff' names no device; it and later entries are ignored"),
    (Notice("visibility", cause="no_match", setting="7", entry="7", visible=0),
     "Some graphics cards are hidden from tasks by a setting on this machine; 0 are visible.",
     "CUDA_VISIBLE_DEVICES='7': '7' names no device; it and later entries are ignored"),
    (Notice("visibility", cause="empty"), "All graphics cards are hidden from tasks by a setting on this machine.",
     "CUDA_VISIBLE_DEVICES is empty"),
    (Notice("stale", host="render-07", seconds=60.0),
     "Machine render-07 has not reported its graphics cards recently, so it is left out.",
     "no sample newer than 60 s"),
    (Notice("host_down", host="10.0.0.7:9835"),
     "A machine Prometheus watches is not answering (10.0.0.7:9835), so it is left out.", "up == 0 for 10.0.0.7:9835"),
    (Notice("calibration_unreadable", error="/home/ana/.local/share/qms/calibration/cpu-x.json: not JSON"),
     "Note: a calibration could not be read, so estimates are uncalibrated until qms bench runs again: "
     "/home/ana/.local/share/qms/calibration/cpu-x.json: not JSON", None),
    (Notice("calibration_outdated", device="NVIDIA GeForce RTX 4090", date="2026-10-02"),
     "Note: the speeds qms bench measured on NVIDIA GeForce RTX 4090 on 2026-10-02 were made by an older qms, "
     "which counted the work of a step differently, so they are set aside: " + UNCALIBRATED, None),
    (Notice("history_unreadable", error="/home/ana/.local/share/qms/history.db: not a qms history"),
     "Note: the history of runs could not be read, so estimates do not learn from it this time: "
     "/home/ana/.local/share/qms/history.db: not a qms history", None),
    (Notice("local_fallback", error="cannot reach Prometheus at http://prom:9090 (Connection refused)"),
     "Planning for this machine only: cannot reach Prometheus at http://prom:9090 (Connection refused).", None),
]
FAULTS: list[tuple[Fault, str]] = [
    (Fault("lost"), "the card stopped responding"),
    (Fault("driver_error", error="Unknown Error"), "the driver reported: Unknown Error"),
    (Fault("unreadable", field="name", error="Unknown Error"), "could not read its name (Unknown Error)"),
    (Fault("unreadable", field="uuid", error="Insufficient Permissions"),
     "could not read its id (Insufficient Permissions)"),
    (Fault("unreadable", field="memory", error="Unknown Error"), "could not read its memory (Unknown Error)"),
    (Fault("unreadable", field="utilization", error="Timeout"), "could not read its utilisation (Timeout)"),
]
REFRESHES: list[tuple[Refresh, str]] = [
    (Refresh("failed", "box.yaml: no such file"),
     "Could not read the numbers again, so the last ones are served: box.yaml: no such file"),
    (Refresh("recovered"), "The numbers are being read again."),
]


@pytest.mark.parametrize(("facts", "words", "detail"), NOTICES, ids=[f"{n.kind}-{n.cause}" for n, _, _ in NOTICES])
def test_every_notice_is_worded_from_its_facts(facts: Notice, words: str, detail: str | None) -> None:
    assert machine.notice(facts) == words
    assert machine.notice_detail(facts) == detail
    assert machine.notice_json(facts) == {"type": facts.kind, "message": words, "detail": detail}


@pytest.mark.parametrize(("facts", "words"), FAULTS, ids=[f"{f.kind}-{f.field}" for f, _ in FAULTS])
def test_every_card_fault_is_worded_from_its_facts(facts: Fault, words: str) -> None:
    assert machine.fault(facts) == words


def test_a_cards_faults_share_one_line() -> None:
    assert machine.faults((Fault("unreadable", field="name", error="Unknown Error"),
                           Fault("unreadable", field="memory", error="Timeout"))) == \
        "could not read its name (Unknown Error); could not read its memory (Timeout)"


@pytest.mark.parametrize(("event", "words"), REFRESHES, ids=[e.kind for e, _ in REFRESHES])
def test_every_exporter_refresh_is_worded(event: Refresh, words: str) -> None:
    assert machine.refresh(event) == words


def test_every_kind_is_covered_here_and_free_of_jargon() -> None:
    kinds = {n.kind for n, _, _ in NOTICES}
    assert kinds == {"no_gpu", "driver_mismatch", "driver_hung", "visibility", "stale", "host_down",
                     "calibration_unreadable", "calibration_outdated", "history_unreadable", "local_fallback"}
    assert {f.kind for f, _ in FAULTS} == {"lost", "driver_error", "unreadable"}
    terms = load_catalog().models.jargon()
    said = [w for _, w, _ in NOTICES] + [w for _, w in FAULTS] + [w for _, w in REFRESHES]
    for text in said:
        assert not find_jargon(text, terms), text


def test_a_kind_without_words_is_an_error_not_a_silence() -> None:
    with pytest.raises(ValueError, match="no words"):
        machine.notice(Notice("brand_new_kind"))
    with pytest.raises(ValueError, match="no words"):
        machine.fault(Fault("melted"))


@pytest.mark.parametrize(("scenario", "facts"), [
    ("no-driver", Notice("no_gpu", cause="no_driver")),
    ("no-library", Notice("no_gpu", cause="not_loaded", error="NVML Shared Library Not Found")),
])
def test_the_probe_hands_over_facts(monkeypatch: pytest.MonkeyPatch, scenario: str, facts: Notice) -> None:
    install(SCENARIOS[scenario](), monkeypatch.setattr)
    assert probe().notices == (facts,)


def test_hidden_cards_are_facts_until_the_json_words_them(monkeypatch: pytest.MonkeyPatch) -> None:
    install(SCENARIOS["two-one-busy"](), monkeypatch.setattr)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,GPU-ffff,1")
    res = probe()
    assert res.notices == (Notice("visibility", cause="no_match", setting="0,GPU-ffff,1", entry="GPU-ffff",
                                  visible=1),)
    assert res.as_json()["notices"] == [{"type": "visibility", "cause": "no_match", "visible": 1,
                                         "setting": "0,GPU-ffff,1", "entry": "GPU-ffff"}]
    assert probe_json(res)["notices"] == [{
        "type": "visibility",
        "message": "Some graphics cards are hidden from tasks by a setting on this machine; 1 is visible.",
        "detail": "CUDA_VISIBLE_DEVICES='0,GPU-ffff,1': 'GPU-ffff' names no device; it and later entries are ignored"}]


def test_lost_cards_are_faults_until_the_json_words_them(monkeypatch: pytest.MonkeyPatch) -> None:
    install(SCENARIOS["lost"](), monkeypatch.setattr)
    res = probe()
    assert [g.problems for g in res.gpus] == [(), (Fault("lost"),), (Fault("lost"),)]
    assert [g["problems"] for g in probe_json(res)["gpus"]] == [
        [], ["the card stopped responding"], ["the card stopped responding"]]


def test_a_refresh_says_facts_once_per_failure_and_once_on_recovery() -> None:
    said: list[Refresh] = []
    latest = Latest(object())  # type: ignore[arg-type]  # the snapshot is only kept, never read here

    def fail() -> object:
        raise OSError("box.yaml: no such file")

    for take in (fail, fail, lambda: object(), lambda: object()):
        latest.refresh(take, said.append)  # type: ignore[arg-type]
    assert said == [Refresh("failed", "OSError: box.yaml: no such file"), Refresh("recovered")]
    assert latest.errors == 2


def test_an_unreadable_history_is_a_fact_in_the_manager_and_a_sentence_at_the_edge(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qms: Any) -> None:
    db = tmp_path / "runs.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")  # not a qms history
    conn.commit()
    conn.close()
    monkeypatch.setenv("QMS_DB", str(db))
    (warning,) = QualityManager.from_project(db=db).warnings
    assert warning.kind == "history_unreadable" and warning.error is not None and str(db) in warning.error
    said = "Note: the history of runs could not be read, so estimates do not learn from it this time: " + \
        warning.error
    for args in (("plan", "Create Image", "--yes"), ("tiers",)):
        result = qms(*args)
        assert result.code == 0 and said in result.err.splitlines(), (args, result.err)
