"""`qms probe --prometheus URL`: every machine's cards as Prometheus knows them."""

from __future__ import annotations

from typing import TypedDict

from qms_cli.cli.common import Settings


class _Notice(TypedDict):
    type: str
    message: str
    detail: str | None


def probe_fleet(settings: Settings, url: str, max_age: str, local_fallback: bool, reserve: str | None,
                as_json: bool) -> None:
    from qms_cli.plan.fleet import FleetManager, manager_for
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.units import parse_duration

    qm = manager_for(url, profiles=settings.profiles, project=None, reserve=reserve,
                     max_age=parse_duration(max_age), local_fallback=local_fallback)
    if not isinstance(qm, FleetManager):  # Prometheus could not be used: this machine instead
        hosts = {qm.resources.machine or "this machine": qm.resources}
        notices: list[_Notice] = [{"type": "local_fallback", "message": w, "detail": None} for w in qm.warnings]
    else:
        hosts = qm.fleet.hosts
        notices = [{"type": n.kind, "message": n.message, "detail": n.detail} for n in qm.fleet.notices]
    if as_json:
        emit_json({"source": "prometheus", "url": url, "hosts": {h: r.as_json() for h, r in hosts.items()},
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
