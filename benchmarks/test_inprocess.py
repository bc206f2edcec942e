"""In-process costs of the hot paths (after the interpreter has started)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qms_cli.catalog.load import load_catalog
from qms_cli.project.quality import set_quality, show


def test_load_catalog_from_cache(benchmark: Any, tmp_path: Path) -> None:
    os.environ["QMS_CACHE_DIR"] = str(tmp_path / "cache")
    load_catalog()
    benchmark(load_catalog)


def test_load_catalog_validating(benchmark: Any, tmp_path: Path) -> None:
    os.environ["QMS_NO_CACHE"] = "1"
    try:
        benchmark(load_catalog)
    finally:
        del os.environ["QMS_NO_CACHE"]


def test_set_quality_round_trip(benchmark: Any, tmp_path: Path) -> None:
    os.environ["QMS_CACHE_DIR"] = str(tmp_path / "cache")
    tiers = load_catalog().tiers
    path = tmp_path / "project.json"
    path.write_text('{\n  "name": "b",\n  "quality": "low",\n  "canvas": {}\n}\n')
    names = iter(["low", "high"] * 100000)
    benchmark(lambda: set_quality(tiers, next(names), path))
    assert show(tiers, path).quality.id in ("low", "high")
