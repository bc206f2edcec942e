"""`qms probe --prometheus URL`: every machine's cards as Prometheus knows them; and the planner over them that
`qms plan --prometheus` uses (or this machine's, when Prometheus cannot be used)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qms_cli.cli.common import Settings

if TYPE_CHECKING:
    from qms_cli.plan.planner import Planner


def probe_fleet(settings: Settings, url: str, max_age: str, local_fallback: bool, reserve: str | None,
                as_json: bool) -> None:
    from qms_cli.plan.fleet import FleetManager
    from qms_cli.render.messages import machine
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.render.probe import probe_json
    from qms_cli.units import parse_duration

    qm = manager_for(url, profiles=settings.profiles, project=None, reserve=reserve,
                     max_age=parse_duration(max_age), local_fallback=local_fallback)
    if not isinstance(qm, FleetManager):  # Prometheus could not be used: this machine instead
        hosts = {qm.resources.machine or "this machine": qm.resources}
        notices = [machine.notice_json(w) for w in qm.warnings]
    else:
        hosts = qm.fleet.hosts
        notices = [machine.notice_json(n) for n in qm.fleet.notices]
    if as_json:
        emit_json({"source": "prometheus", "url": url, "hosts": {h: probe_json(r) for h, r in hosts.items()},
                   "notices": notices})
        return
    from qms_cli.render.probe import card_table, summary_lines
    from qms_cli.render.table import emit_table

    emit_lines(*(n["message"] for n in notices))
    for host, res in hosts.items():
        table = card_table(res)
        table.title = host
        emit_table(table)
        emit_lines(*summary_lines(res)[-2:-1])


def manager_for(url: str, *, profiles: str | None, project: str | None, reserve: str | None, max_age: float,
                local_fallback: bool, vram_limit: str | None = None, hardware: str | None = None) -> Planner:
    """A FleetManager over what Prometheus knows; with local_fallback, this machine's QualityManager when
    Prometheus cannot be reached or knows no machine (said in its warnings)."""
    from qms_cli.catalog.load import load_catalog
    from qms_cli.errors import DataError
    from qms_cli.hardware import DEFAULT_RESERVE, Notice, probe
    from qms_cli.hardware.remote import read
    from qms_cli.plan.fleet import FleetManager
    from qms_cli.plan.manager import QualityManager
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
        qm.warnings.append(Notice("local_fallback", error=e.message))
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
    manager = FleetManager(catalog, fleet, proj, local, m.fleet_machine(len(fleet.hosts), fleet.url))
    manager.project_problem = unusable
    for each in manager.managers.values():
        each.project_problem = unusable
    return manager
