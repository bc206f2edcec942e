"""The house refactor's guard rail (issue 16): a fixed set of commands prints what it printed before.

tests/golden/out/ holds what each case of tests/golden/cases.py printed (stdout, stderr, exit code, --json,
the project file left behind) when it was recorded. A change in behaviour made on purpose re-records them
(`python -m tests.golden.cases`) in the same commit, so the diff shows what changed for people and programs.
"""

from __future__ import annotations

import difflib

from tests.golden.cases import OUT, cases, run_all


def test_every_case_has_a_golden_file_and_every_file_a_case() -> None:
    assert sorted(p.stem for p in OUT.glob("*.txt")) == sorted(c.name for c in cases())


def test_fixed_commands_print_what_they_printed_when_recorded() -> None:
    results = run_all()
    changed = []
    for name, text in results.items():
        expected = (OUT / f"{name}.txt").read_text(encoding="utf-8")
        if text != expected:
            diff = difflib.unified_diff(expected.splitlines(), text.splitlines(), f"golden/{name}", "now",
                                        lineterm="", n=1)
            changed.append("\n".join(list(diff)[:40]))
    assert not changed, f"{len(changed)} of {len(results)} cases changed:\n" + "\n\n".join(changed)
