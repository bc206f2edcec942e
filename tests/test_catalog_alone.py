"""The catalogue stands alone (issue 16): reading and checking profiles needs nothing from project/, which sits on
the same floor (so tests/test_layers.py lets it through): the project part reads project.json with the
catalogue's parsing and schemas, never the other way round."""

from __future__ import annotations

from tests.test_layers import GRAPH


def test_the_catalogue_imports_nothing_from_the_project_part() -> None:
    found = sorted(f"{m} imports {i}" for m, targets in GRAPH.items() if m.startswith("qms_cli.catalog")
                   for i in targets if i == "qms_cli.project" or i.startswith("qms_cli.project."))
    assert not found, "\n".join(found)
