"""The queue's words (issue 16): every reason kind and everything a worker says, rendered from the facts the core
gives, in plain words (no jargon), with the same sentences qms has always said."""

from __future__ import annotations

import pytest

from qms_cli.catalog.jargon import find_jargon
from qms_cli.catalog.load import load_catalog
from qms_cli.queue import reasons
from qms_cli.queue.events import Said
from qms_cli.queue.reasons import Reason
from qms_cli.render import messages as m
from qms_cli.render.queue import worker_line

# kind, facts, the sentence (as qms words it, and as older qms stored it)
REASONS = [
    ("cancelled_waiting", {}, "cancelled before it started"),
    ("cancelled_running", {}, "cancelled while running"),
    ("out_of_memory", {}, "ran out of graphics memory"),
    ("runner_exit", {"code": 2}, "the runner exited with code 2"),
    ("runner_exit", {"code": -9}, "the runner exited with code -9"),
    ("worker_lost", {"times": 1}, "its worker stopped 1 time"),
    ("worker_lost", {"times": 3}, "its worker stopped 3 times"),
]


def jargon(text: str) -> list[str]:
    return find_jargon(text, load_catalog().models.jargon())


def test_every_reason_kind_is_worded_from_its_facts() -> None:
    assert {kind for kind, _, _ in REASONS} | {"prepare_failed"} == set(reasons.KINDS)
    for kind, facts, sentence in REASONS:
        assert m.reason(kind, facts) == sentence
    failed = m.reason("prepare_failed", {"error": "KeyError"})
    assert failed is not None and "could not prepare" in failed and "KeyError" in failed
    assert m.reason("from_a_newer_qms", {}) == "it ended (from_a_newer_qms)"  # a kind this qms does not know
    for kind in reasons.KINDS:
        text = m.reason(kind, {"code": 1, "times": 2, "error": "ValueError"})
        assert text and not jargon(text), text


def test_a_stored_sentence_reads_back_as_its_kind_and_facts() -> None:
    for kind, facts, sentence in REASONS:
        assert reasons.legacy(sentence, None, None, 0, False) == Reason(kind, facts)
    # a sentence this qms never wrote: known by the task's outcome instead
    assert reasons.legacy("something else", "lost", None, 2, True) == Reason("worker_lost", {"times": 2})
    assert reasons.legacy("?", "cancelled", 130, 0, False) == Reason("cancelled_waiting", {})
    assert reasons.legacy("?", "cancelled", 130, 0, True) == Reason("cancelled_running", {})
    assert reasons.legacy("?", "oom", 1, 0, True) == Reason("out_of_memory", {})
    assert reasons.legacy("?", "failed", 4, 0, True) == Reason("runner_exit", {"code": 4})


def test_the_runners_outcome_gives_the_reason() -> None:
    assert reasons.of_outcome("ok", 0) is None
    assert reasons.of_outcome("cancelled", 130) == Reason("cancelled_running", {})
    assert reasons.of_outcome("oom", 1) == Reason("out_of_memory", {})
    assert reasons.of_outcome("failed", 3) == Reason("runner_exit", {"code": 3})


EVENTS = [
    (Said("running", 7, {"owner": "ana", "function": "Create Image", "tier": "✨ High", "low": 120.0, "high": 300.0}),
     "Task 7 (ana): Create Image at ✨ High, estimated 2–5 min."),
    (Said("lower", 7, {"tier": "⚡ Low"}),
     "Task 7 runs at ⚡ Low: its quality does not fit the memory free on this card now (allowed)."),
    (Said("lost", 7), "Task 7 was given to another worker (this one stopped answering for too long); its run here "
                      "was stopped."),
    (Said("returned", 7), "Task 7 went back to the queue."),
    (Said("ended", 7, {"state": "done", "seconds": 75.0, "reason": None}), "Task 7 is done after 75 s."),
    (Said("ended", 7, {"state": "failed", "seconds": 3.0, "reason": Reason("runner_exit", {"code": 2})}),
     "Task 7 failed after 3 s: the runner exited with code 2."),
    (Said("ended", 7, {"state": "cancelled", "seconds": 0.5, "reason": Reason("cancelled_running", {})}),
     "Task 7 was cancelled in under 1 s."),
    (Said("delivered", 7), "Task 7's outcome, kept on this machine, was recorded in the queue."),
    (Said("unreachable", None, {"problem": "connection refused"}),
     "The queue's database cannot be reached (connection refused); trying again. Outcomes are kept on this "
     "machine."),
    (Said("back"), "The queue's database is back."),
    (Said("not_recorded", None, {"problem": "the disk is full"}),
     "Note: this run was not recorded in the history: the disk is full"),
]


@pytest.mark.parametrize(("said", "line"), EVENTS, ids=[f"{s.kind}-{i}" for i, (s, _) in enumerate(EVENTS)])
def test_what_a_worker_says_is_worded_from_facts(said: Said, line: str) -> None:
    assert worker_line(said) == line
    assert not jargon(line), line


def test_a_task_that_could_not_be_prepared_says_so_with_the_details() -> None:
    detail = 'Traceback (most recent call last):\n  File "x.py", line 1\nKeyError: \'x\''
    text = worker_line(Said("prepare_failed", 9, {"error": "KeyError", "detail": detail, "marked": True}))
    first, rest = text.split("\n", 1)
    assert first == "Task 9 could not be prepared on this worker (KeyError); it was marked failed. Details:"
    assert rest == detail and not jargon(first)
    ended = worker_line(Said("prepare_failed", 9, {"error": "KeyError", "detail": "", "marked": False}))
    assert "it had already ended" in ended


def test_every_worker_kind_is_covered() -> None:
    from qms_cli.queue import events

    documented = {line.split()[0] for line in (events.__doc__ or "").split("\n")[3:] if line.startswith("  ")}
    assert documented == {s.kind for s, _ in EVENTS} | {"prepare_failed"}
