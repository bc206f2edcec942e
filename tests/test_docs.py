"""The README and docs/ stay inside the repository, and docs/ARCHITECTURE.md stays true to the tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|href=\"([^\"]+)\"")
RELATIVE = re.compile(r"(?<![\w/.])((?:\.\./)+[\w./-]*)")  # ../x, ../../x


def outside(doc: Path, target: str) -> bool:
    return not (doc.parent / target).resolve().is_relative_to(ROOT.resolve())


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for match in LINK.finditer(text):
        target = (match.group(1) or match.group(2)).split("#", 1)[0]
        assert "://" not in target and not target.startswith(("/", "mailto:")), f"{doc.name}: link to {target}"
        if not target:
            continue
        assert not outside(doc, target), f"{doc.name}: {target} leaves the repository"
        path = (doc.parent / target).resolve()
        assert path.exists(), f"{doc.name}: {target} is missing"
    for match in RELATIVE.finditer(text):
        assert not outside(doc, match.group(1)), f"{doc.name}: {match.group(1)} leaves the repository"
    assert "shared folder" not in text and "/shared/" not in text, f"{doc.name} points at the shared folder"


def test_the_check_catches_what_it_should(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "ARCHITECTURE.md"
    assert outside(doc, "../../shared/reference/figures.md") and outside(ROOT / "README.md", "../shared/DESIGN.md")
    assert not outside(doc, "../README.md") and not outside(ROOT / "README.md", "docs/ARCHITECTURE.md")
    assert RELATIVE.findall("see `../shared/reference/figures.md`.") == ["../shared/reference/figures.md"]


def test_the_readme_links_the_architecture_map() -> None:
    assert "(docs/ARCHITECTURE.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_path_the_architecture_map_names_exists() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:qms_cli|profiles|schemas|tests|benchmarks)/[\w./-]*)`", text))
    assert len(named) > 30
    missing = sorted(p for p in named if "NAME" not in p and not (ROOT / p).exists())  # NAME: a placeholder
    assert not missing, f"docs/ARCHITECTURE.md names paths that are not in the tree: {missing}"
    # Every module of the package is placed in one part (a new module gets its row).
    listed = " ".join(named)
    for module in sorted((ROOT / "qms_cli").glob("*.py")):
        if module.name not in ("__init__.py", "__main__.py"):
            assert f"qms_cli/{module.name}" in listed, f"{module.name} is in no part of docs/ARCHITECTURE.md"
    for package in sorted(p for p in (ROOT / "qms_cli").iterdir() if (p / "__init__.py").exists()):
        assert f"qms_cli/{package.name}/" in listed, f"{package.name}/ is in no part of docs/ARCHITECTURE.md"
