"""Planning across a fleet (--prometheus): each task goes to the machine and card where the highest tier runs,
and among those where it would finish first given what this batch already sent there, so a batch spreads
over the fleet rather than piling onto one host. (Reading the fleet, or falling back to this machine, is
cli/fleet_flow.py's `manager_for`.)"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from qms_cli.plan.manager import Plan, QualityManager, Task

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog
    from qms_cli.hardware import Resources
    from qms_cli.hardware.remote import Fleet
    from qms_cli.project.file import Project, ProjectProblem


class FleetManager:
    """QualityManager's planning surface over many machines."""

    def __init__(self, catalog: Catalog, fleet: Fleet, project: Project | None, local: Resources,
                 machine: str | None = None) -> None:
        """`machine`: how the fleet is named where a plan names its machine (the command line words it)."""
        self.catalog = catalog
        self.project = project
        self.fleet = fleet
        self.managers = {host: QualityManager(catalog, res, catalog.throughput, project)
                         for host, res in fleet.hosts.items()}
        self.load: dict[tuple[str, int], float] = {}
        cards = tuple(g for res in fleet.hosts.values() for g in res.gpus)
        self.resources = local._replace(gpus=cards, source="prometheus",
                                        machine=machine, notices=())
        self.warnings = list(fleet.notices)
        self.project_problem: ProjectProblem | None = None
        self.router = next(iter(self.managers.values())).router

    def plan(self, function: str | Task, quality: str | None = None, node: str | None = None, count: int = 1,
             frames: int | None = None, seconds: float | None = None, max_time: float | None = None) -> Plan:
        task = function if isinstance(function, Task) else Task(function, quality=quality, node=node, count=count,
                                                                frames=frames, seconds=seconds)
        best: tuple[tuple[bool, int, bool, float], tuple[str, int], Plan] | None = None
        for host, qm in self.managers.items():
            plan = qm.plan(task, max_time=max_time)
            r = plan.route.chosen
            key = (host, r.device.index if r.device is not None and not r.on_cpu else -1)
            finish = self.load.get(key, 0.0) + r.prediction.seconds
            score = (plan.route.runnable, r.tier.rank, not r.on_cpu, -finish)  # a host it cannot run on: last
            if best is None or score > best[0]:
                best = (score, key, replace(plan, host=host))
        assert best is not None
        _, key, chosen = best
        self.load[key] = self.load.get(key, 0.0) + chosen.route.chosen.prediction.seconds
        return chosen
