"""Planning across a fleet (--prometheus): each task goes to the machine and card where the highest tier runs,
and among those where it would finish first given what this batch already sent there, so a batch spreads
over the fleet rather than piling onto one host."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from qms_cli.plan.manager import Plan, QualityManager, Task

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog
    from qms_cli.hardware import Resources
    from qms_cli.hardware.remote import Fleet
    from qms_cli.plan.planner import Planner
    from qms_cli.project.file import Project, ProjectProblem


class FleetManager:
    """QualityManager's planning surface over many machines."""

    def __init__(self, catalog: Catalog, fleet: Fleet, project: Project | None, local: Resources) -> None:
        from qms_cli.render.messages import fleet_machine

        self.catalog = catalog
        self.project = project
        self.fleet = fleet
        self.managers = {host: QualityManager(catalog, res, catalog.throughput, project)
                         for host, res in fleet.hosts.items()}
        self.load: dict[tuple[str, int], float] = {}
        cards = tuple(g for res in fleet.hosts.values() for g in res.gpus)
        self.resources = local._replace(gpus=cards, source="prometheus",
                                        machine=fleet_machine(len(fleet.hosts), fleet.url), notices=())
        self.warnings = [n.message for n in fleet.notices]
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


def manager_for(url: str, *, profiles: str | None, project: str | None, reserve: str | None, max_age: float,
                local_fallback: bool, vram_limit: str | None = None, hardware: str | None = None) -> Planner:
    """A FleetManager over what Prometheus knows; with local_fallback, this machine's QualityManager when
    Prometheus cannot be reached or knows no machine (said in its warnings)."""
    from qms_cli.catalog.load import load_catalog
    from qms_cli.errors import DataError
    from qms_cli.hardware import DEFAULT_RESERVE, probe
    from qms_cli.hardware.remote import read
    from qms_cli.project.file import find_project, read_project
    from qms_cli.render import messages as m
    from qms_cli.units import parse_size

    catalog = load_catalog(profiles)
    keep = parse_size(reserve, what="--reserve") if reserve else DEFAULT_RESERVE
    local = probe(vram_limit, keep, hardware, catalog)
    try:
        fleet = read(url, reserve=keep, max_age=max_age, system=local.system)
        if not fleet.hosts:
            raise DataError(m.no_fleet(url))
    except DataError as e:
        if not local_fallback:
            raise
        qm = QualityManager.from_project(project, profiles=profiles, vram_limit=vram_limit, reserve=reserve,
                                         hardware=hardware)
        qm.warnings.append(m.prometheus_fallback(e.message))
        return qm
    from qms_cli.project.file import ProjectError

    proj, unusable = None, None
    try:
        proj = read_project(find_project(project), catalog.tiers.ids)
    except ProjectError as e:
        unusable = e.problem
    except DataError:
        if project is not None:
            raise
    manager = FleetManager(catalog, fleet, proj, local)
    manager.project_problem = unusable
    for each in manager.managers.values():
        each.project_problem = unusable
    return manager
