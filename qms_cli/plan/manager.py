"""Plans: the quality to use for each task, resolved from the project, routed on the machine.

`QualityManager.from_project(path).plan("Create Image") -> Plan` is the Python API behind `qms plan`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qms_cli.errors import UsageError
from qms_cli.plan.routing import Route, Router
from qms_cli.values import Value

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog
    from qms_cli.catalog.speed import Throughput
    from qms_cli.estimate.calibration import Calibration
    from qms_cli.hardware import Notice, Resources
    from qms_cli.plan.notices import Upgrade
    from qms_cli.project.file import Project, ProjectProblem


@dataclass(frozen=True, eq=False, repr=False)
class Task(Value):
    """What someone asked for: a function, optionally a quality or node, and its size."""

    function: str
    quality: str | None = None
    node: str | None = None
    count: int = 1
    frames: int | None = None
    seconds: float | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Plan(Value):
    """One task's decision: the route, the task as resolved, and where the quality came from."""

    task: Task
    route: Route
    quality_source: str  # "option", "node", "project" or "default"
    frames: int | None
    upgrade: Upgrade | None  # what the tier asked for (on a step down), or the tier above, would need here
    host: str | None = None  # the machine, when planning across a fleet (--prometheus)

    @property
    def fallback(self) -> bool:
        return self.route.fallback


class QualityManager:
    """The project's quality, the catalogue and the machine, together: plans tasks."""

    def __init__(self, catalog: Catalog, resources: Resources, throughput: Throughput,
                 project: Project | None = None, calibrations: dict[str, Calibration] | None = None,
                 history: dict[tuple[str, str], list[float]] | None = None) -> None:
        self.catalog = catalog
        self.resources = resources
        self.project = project
        self.router = Router(catalog, resources, throughput, calibrations, history)
        self.warnings: list[Notice] = []  # what could not be read (render/messages/machine.py words them)
        self.project_problem: ProjectProblem | None = None  # the project file found but unusable
        self._upgrades: dict[int, Upgrade | None] = {}

    @classmethod
    def from_project(cls, path: str | os.PathLike[str] | None = None, *, profiles: str | None = None,
                     vram_limit: int | str | None = None, reserve: int | str | None = None,
                     hardware: str | None = None, require_project: bool = False,
                     db: str | os.PathLike[str] | None = None) -> QualityManager:
        """Load the catalogue, the project (found from `path` or here up; optional unless required), probe the
        machine (or simulate one), and read what `qms bench` and the history of real runs know about it."""
        from qms_cli.catalog.load import load_catalog
        from qms_cli.errors import DataError
        from qms_cli.hardware import probe
        from qms_cli.project.file import ProjectError, find_project, read_project

        catalog = load_catalog(profiles)
        project, unusable = None, None
        try:
            project = read_project(find_project(path), catalog.tiers.ids)
        except ProjectError as e:  # kept, never silent: a task without its own quality is refused (issue 13)
            if require_project:
                raise
            unusable = e.problem
        except DataError:
            if path is not None or require_project:
                raise
        resources = probe(vram_limit, reserve, hardware, catalog)
        calibrations, problems = load_calibrations(resources)
        history = {} if resources.source == "simulated" else _history(resources, db, problems)
        manager = cls(catalog, resources, catalog.throughput, project, calibrations, history)
        manager.warnings = problems
        manager.project_problem = unusable
        return manager

    def on(self, resources: Resources, *, project: bool = True) -> QualityManager:
        """The same catalogue, calibrations and history (and project, unless told not to) on other resources:
        an idle card, one card of several, the memory free now."""
        other = QualityManager(self.catalog, resources, self.catalog.throughput, self.project if project else None,
                               self.router.calibrations, self.router.history)
        other.project_problem = self.project_problem if project else None
        return other

    def requested(self, task: Task) -> tuple[Any, str]:
        """The tier a task asks for, and why: an explicit quality, its node's, the project's, the default."""
        tiers = self.catalog.tiers
        if task.quality:
            return tiers.get(task.quality), "option"
        if self.project_problem is not None:  # never the default in place of an unreadable project's quality
            from qms_cli.project.file import ProjectError

            raise ProjectError(self.project_problem)
        if self.project is not None:
            if task.node and task.node in self.project.overrides:
                return tiers.get(self.project.overrides[task.node]), "node"
            if self.project.quality:
                return tiers.get(self.project.quality), "project"
        return tiers.default, "default"

    def frames(self, function: str, task: Task) -> int | None:
        """Frames of a video task (from --frames or --seconds); None keeps each tier's own."""
        tier = self.catalog.tiers.tiers[0]
        model = self.catalog.models.models[tier.mappings[function].model]
        if task.frames is None and task.seconds is None:
            return None
        if model.modality != "video":
            raise UsageError(f"{function!r} makes images: --frames and --seconds apply to video")
        if task.frames is not None:
            if task.frames < 1:
                raise UsageError(f"--frames must be at least 1, not {task.frames}")
            return task.frames
        fps = self.catalog.models.families[model.family].fps or 16
        if task.seconds is None or task.seconds <= 0:
            raise UsageError(f"--seconds must be more than 0, not {task.seconds}")
        return math.ceil(task.seconds * fps) + 1

    def plan(self, function: str | Task, quality: str | None = None, node: str | None = None, count: int = 1,
             frames: int | None = None, seconds: float | None = None, max_time: float | None = None) -> Plan:
        """Plan one task: `plan("Create Image")`, `plan("create video", quality="high", seconds=5)`."""
        task = function if isinstance(function, Task) else Task(function, quality=quality, node=node, count=count,
                                                                frames=frames, seconds=seconds)
        if task.count < 1:
            raise UsageError(f"--count must be at least 1, not {task.count}")
        name = self.catalog.tiers.function(task.function)
        requested, source = self.requested(task)
        n_frames = self.frames(name, task)
        route = self.router.route(name, requested, n_frames, task.count, max_time)
        if id(route) not in self._upgrades:  # routes are memoised, so is what lies above them
            self._upgrades[id(route)] = self.upgrade(route, n_frames, task.count)
        return Plan(task=task, route=route, quality_source=source, frames=n_frames, upgrade=self._upgrades[id(route)])

    def upgrade(self, route: Route, frames: int | None, count: int) -> Upgrade | None:
        """The hint for the tier that was asked for when the route steps down from it; else for the tier above."""
        from qms_cli.plan.explain import upgrade_hint

        if not route.runnable:
            return None
        sizes = self.router.card_sizes
        if route.fallback:
            return upgrade_hint(self.resources, route, sizes)
        tiers = self.catalog.tiers.tiers
        above = route.chosen.tier.rank + 1
        if above >= len(tiers):
            return None
        return upgrade_hint(self.resources, self.router.route(route.function, tiers[above], frames, count), sizes)


def _history(resources: Resources, db: str | os.PathLike[str] | None,
             problems: list[Notice]) -> dict[tuple[str, str], list[float]]:
    """The history's actual/estimated ratios for this machine's devices; nothing when there is no history
    (sqlite3 is not even loaded) or it cannot be read (said in `problems`)."""
    from pathlib import Path

    from qms_cli.errors import DataError

    if db is None:
        from qms_cli.paths import history_file

        path = history_file()
    else:
        path = Path(db)
    if not path.exists():
        return {}
    from qms_cli.runs import history

    try:
        conn = history.open_read(path, check=False)
        try:
            return history.ratios(conn, sorted({resources.fingerprint, resources.cpu_fingerprint}))
        finally:
            conn.close()
    except DataError as e:
        from qms_cli.hardware import Notice

        problems.append(Notice("history_unreadable", error=e.message))
        return {}


def load_calibrations(resources: Resources) -> tuple[dict[str, Calibration], list[Notice]]:
    """This machine's calibrations (none for a simulated one), and a notice for each that cannot be used. The
    calibration modules are only loaded when there is a file to read."""
    from qms_cli.paths import calibration_file

    fingerprints = {resources.fingerprint, resources.cpu_fingerprint}
    if resources.source == "simulated" or not any(calibration_file(fp).is_file() for fp in fingerprints):
        return {}, []
    from qms_cli.estimate.calibration_file import for_resources

    return for_resources(resources)
