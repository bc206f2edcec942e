"""The tier list behind `qms tiers`: each tier, its configurations, and which one the project uses."""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from qms_cli.catalog.load import Catalog
from qms_cli.catalog.tiers import Tier
from qms_cli.errors import DataError
from qms_cli.values import Value

if TYPE_CHECKING:
    from qms_cli.estimate.calibration import Calibration
    from qms_cli.hardware import Notice, Resources
    from qms_cli.project.file import ProjectProblem


class Here(NamedTuple):
    """How one tier's function fares on this machine."""

    status: str  # the route's status (plan/notices.py Status.kind): runs, slower, falls_back, processor, cannot_run
    runs_as: str  # the tier that actually runs
    seconds: float
    needs_card: int | None  # card size (bytes): as designed when slower, at all when falling back (Status.card)
    needs_ram: int | None = None  # main memory (bytes) the lightest rung needs, when nothing runs here
    low: float = 0.0  # the predicted range, as `qms plan` shows it for one task of this tier and function
    high: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "runs_as": self.runs_as, "seconds": round(self.seconds, 2),
                "needs_card_bytes": self.needs_card, "needs_main_memory_bytes": self.needs_ram,
                "predicted_seconds": {"low": round(self.low, 2), "expected": round(self.seconds, 2),
                                      "high": round(self.high, 2)}}


@dataclass(frozen=True, eq=False, repr=False)
class TierListing(Value):
    catalog: Catalog
    current: Tier | None
    project: str | None
    project_error: str | None
    here: dict[str, dict[str, Here]] | None = None  # tier id -> function -> how it runs on this machine
    calibration: "Calibration | None" = None  # of the device the tiers were routed on
    warnings: "tuple[Notice, ...]" = ()  # calibrations or history that could not be used
    project_problem: "ProjectProblem | None" = None  # why the project file could not be used

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return self.catalog.tiers.tiers

    def as_json(self) -> dict[str, Any]:
        tiers = self.catalog.tiers
        return {
            "tiers": [{**t.view(), "rank": t.rank, "time_range_seconds": list(t.time_range),
                       "target_vram_bytes": t.target_vram, "default": t.id == tiers.default_id,
                       "current": self.current is not None and t.id == self.current.id,
                       "mappings": {fn: c.as_json() for fn, c in t.mappings.items()},
                       "here": ({fn: h.as_json() for fn, h in self.here[t.id].items()} if self.here else None)}
                      for t in tiers.tiers],
            "functions": tiers.functions,
            "default": tiers.default_id,
            "current": self.current.id if self.current else None,
            "project": self.project,
            "project_problem": self.project_problem.as_json() if self.project_problem else None,
            "sources": {k: str(v) for k, v in self.catalog.sources.items()},
            "calibrated": self.calibration.date if self.calibration is not None and self.calibration.fit else None,
        }


def on_this_machine(catalog: Catalog, resources: "Resources", only: str | None = None) -> tuple[
        dict[str, dict[str, Here]], "Calibration | None", "list[Notice]"]:
    """Each tier (or `only` that one) and function routed here: runs as mapped, runs slower, falls back, needs
    the processor, or cannot run; with the calibration used and any calibration that could not be read."""
    from qms_cli.plan.manager import _history, load_calibrations
    from qms_cli.plan.routing import Router

    # The same calibrations and history of real runs as `qms plan` (QualityManager.from_project), so the time
    # shown for a tier here is the time plan predicts for one task of it.
    calibrations, problems = load_calibrations(resources)
    history = {} if resources.source == "simulated" else _history(resources, None, problems)
    router = Router(catalog, resources, catalog.throughput, calibrations, history)
    out: dict[str, dict[str, Here]] = {}
    for tier in catalog.tiers.tiers:
        if only is not None and tier.id != only:
            continue
        out[tier.id] = {}
        for fn in catalog.tiers.functions:
            route = router.route(fn, tier)
            p, status = route.chosen.prediction, route.status
            out[tier.id][fn] = Here(status.kind, route.chosen.tier.id, p.seconds, status.card, status.ram, p.low,
                                    p.high)
    return out, router.calibrated, problems


def list_tiers(catalog: Catalog, where: str | os.PathLike[str] | None = None,
               resources: "Resources | None" = None) -> TierListing:
    """The tiers, marking the project's quality. An explicit project must be readable; one merely found
    from here up that cannot be read is reported in `project_error` and nothing is marked."""
    from qms_cli.project.file import ProjectError, find_project, read_project

    tiers = catalog.tiers
    here, cal, problems = on_this_machine(catalog, resources) if resources is not None else (None, None, [])
    extra = (here, cal, tuple(problems))
    try:
        path = find_project(where)
    except DataError:
        if where is not None:
            raise
        return TierListing(catalog, None, None, None, *extra)
    try:
        project = read_project(path, tiers.ids)
    except ProjectError as e:
        if where is not None:
            raise
        return TierListing(catalog, None, str(path), e.message, *extra, project_problem=e.problem)
    current = tiers.get(project.quality) if project.quality else tiers.default
    return TierListing(catalog, current, str(path), None, *extra)
