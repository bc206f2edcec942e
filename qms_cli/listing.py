"""The tier list behind `qms tiers`: each tier, its configurations, and which one the project uses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from qms_cli.catalog import Catalog
from qms_cli.errors import DataError
from qms_cli.tiers import Tier


@dataclass(frozen=True)
class TierListing:
    catalog: Catalog
    current: Tier | None
    project: str | None
    project_error: str | None

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return self.catalog.tiers.tiers

    def as_json(self) -> dict[str, Any]:
        tiers = self.catalog.tiers
        return {
            "tiers": [{**t.view(), "rank": t.rank, "time_range_seconds": list(t.time_range),
                       "target_vram_bytes": t.target_vram, "default": t.id == tiers.default_id,
                       "current": self.current is not None and t.id == self.current.id,
                       "mappings": {fn: c.as_json() for fn, c in t.mappings.items()}} for t in tiers.tiers],
            "functions": tiers.functions,
            "default": tiers.default_id,
            "current": self.current.id if self.current else None,
            "project": self.project,
            "sources": {k: str(v) for k, v in self.catalog.sources.items()},
        }


def list_tiers(catalog: Catalog, where: str | os.PathLike[str] | None = None) -> TierListing:
    """The tiers, marking the project's quality. An explicit project must be readable; one merely found
    from here up that cannot be read is reported in `project_error` and nothing is marked."""
    from qms_cli.project import find_project, read_project

    tiers = catalog.tiers
    try:
        path = find_project(where)
    except DataError:
        if where is not None:
            raise
        return TierListing(catalog, None, None, None)
    try:
        project = read_project(path, tiers.ids)
    except DataError as e:
        if where is not None:
            raise
        return TierListing(catalog, None, str(path), e.message)
    current = tiers.get(project.quality) if project.quality else tiers.default
    return TierListing(catalog, current, str(path), None)
