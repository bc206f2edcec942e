"""The planning surface the command line and the queue work through: what `QualityManager` (one machine) and
`FleetManager` (many, from Prometheus) both offer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog
    from qms_cli.hardware import Notice, Resources
    from qms_cli.plan.manager import Plan, Task
    from qms_cli.plan.routing import Router
    from qms_cli.project.file import Project, ProjectProblem


class Planner(Protocol):
    """Plans tasks on a machine (or a fleet, seen as one machine with every card): the catalogue and the
    resources it plans over, the project it read, and what it has to say about them."""

    catalog: Catalog
    resources: Resources
    project: Project | None
    project_problem: ProjectProblem | None  # the project file found but unusable
    warnings: list[Notice]  # facts to say before the plans (unreadable calibration or history, a fallback)
    router: Router  # the ladder and its calibrations (a fleet's: its first machine's)

    def plan(self, function: str | Task, quality: str | None = None, node: str | None = None, count: int = 1,
             frames: int | None = None, seconds: float | None = None, max_time: float | None = None) -> Plan:
        """Plan one task: `plan("Create Image")`, `plan(Task("create video", "high", seconds=5))`."""
        ...


if TYPE_CHECKING:  # mypy checks that both managers satisfy the protocol
    from qms_cli.plan.fleet import FleetManager
    from qms_cli.plan.manager import QualityManager

    _MANAGERS: tuple[type[Planner], ...] = (QualityManager, FleetManager)
