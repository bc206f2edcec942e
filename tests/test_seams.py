"""The typed seams (issue 16, step 3): one `Planner` protocol that both managers satisfy, and the `PlanRequest`
value `qms plan` hands its flow."""

from __future__ import annotations

import dataclasses
import inspect
import json

import pytest

import qms_cli
from qms_cli.catalog.load import load_catalog
from qms_cli.cli.common import Settings
from qms_cli.cli.plan_cmd import plan as plan_command
from qms_cli.cli.plan_flow import PlanRequest, run_plan
from qms_cli.hardware import Resources, probe
from qms_cli.hardware.remote import Fleet
from qms_cli.plan.fleet import FleetManager
from qms_cli.plan.manager import Plan, QualityManager, Task
from qms_cli.plan.planner import Planner
from tests.conftest import run_qms

CATALOG = load_catalog()
TASK = Task("Create Image", quality="high")


def plan_through(planner: Planner, task: Task) -> Plan:
    """A caller that knows only the protocol, as the command line does."""
    return planner.plan(task)


def machine(profile: str) -> Resources:
    return probe(None, None, profile, CATALOG)


def fleet_of(**hosts: str) -> FleetManager:
    local = machine("cpu-only")
    fleet = Fleet(hosts={name: machine(profile) for name, profile in hosts.items()}, notices=[],
                  url="http://prometheus.invalid:9090")
    return FleetManager(CATALOG, fleet, None, local)


def summary(p: Plan) -> tuple[object, ...]:
    r = p.route.chosen
    return (p.route.function, p.route.requested.id, r.tier.id, r.config.options, r.on_cpu, r.prediction.peak,
            r.prediction.seconds, p.quality_source, p.frames)


def test_both_managers_plan_the_same_task_through_the_protocol() -> None:
    one = QualityManager(CATALOG, machine("rtx-4090-24gb"), CATALOG.throughput)
    fleet = fleet_of(big="rtx-4090-24gb")
    alone, across = plan_through(one, TASK), plan_through(fleet, TASK)
    assert summary(across) == summary(alone)  # a fleet of one machine decides as that machine does
    assert across.host == "big" and alone.host is None
    assert alone.route.requested.id == "high" and alone.quality_source == "option"


def test_a_fleet_sends_the_task_where_the_asked_tier_runs() -> None:
    small = plan_through(QualityManager(CATALOG, machine("laptop-8gb"), CATALOG.throughput), TASK)
    big = plan_through(QualityManager(CATALOG, machine("a100-80gb"), CATALOG.throughput), TASK)
    assert small.fallback and not big.fallback  # the premise: only the large card runs High as asked
    chosen = plan_through(fleet_of(laptop="laptop-8gb", server="a100-80gb"), TASK)
    assert chosen.host == "server" and summary(chosen) == summary(big)


@pytest.mark.parametrize("manager", ["quality", "fleet"])
def test_each_manager_has_every_member_the_protocol_names(manager: str) -> None:
    planner = QualityManager(CATALOG, machine("rtx-3060-12gb"), CATALOG.throughput) if manager == "quality" \
        else fleet_of(one="rtx-3060-12gb")
    members = [*Planner.__annotations__, "plan"]
    assert set(members) >= {"catalog", "resources", "project", "project_problem", "warnings", "router", "plan"}
    missing = [name for name in members if not hasattr(planner, name)]
    assert not missing


def test_the_protocol_is_part_of_the_public_api() -> None:
    assert qms_cli.Planner is Planner
    assert "Planner" in qms_cli.__all__


def test_a_plan_request_defaults_to_what_qms_plan_does_without_options() -> None:
    defaults = {name: p.default for name, p in inspect.signature(plan_command).parameters.items() if name != "ctx"}
    renamed = {"tasks": "tasks_path"}
    request = PlanRequest()
    for option, default in defaults.items():
        field = renamed.get(option, option)
        want = () if option == "functions" else default
        assert getattr(request, field) == want, option
    fields = {f.name for f in dataclasses.fields(PlanRequest)}
    assert fields == {renamed.get(o, o) for o in defaults} | {"interactive"}


def test_a_plan_request_plans_as_the_command_line_does(capsys: pytest.CaptureFixture[str]) -> None:
    run_plan(Settings(), PlanRequest(functions=("Create Video",), quality="standard", seconds=2.0,
                                     hardware="rtx-4080-16gb", max_time="2h", as_json=True))
    direct = json.loads(capsys.readouterr().out)
    cli = run_qms("plan", "Create Video", "--quality", "standard", "--seconds", "2", "--hardware", "rtx-4080-16gb",
                  "--max-time", "2h", "--json")
    assert cli.code == 0, cli.err
    assert direct == cli.json()
    (task,) = direct["tasks"]
    fps = CATALOG.models.families[CATALOG.models.models[
        CATALOG.tiers.get("standard").mappings["Create Video"].model].family].fps
    assert task["requested"]["id"] == "standard" and task["frames"] == 2 * fps + 1


def test_a_plan_request_is_a_value() -> None:
    a = PlanRequest(functions=("Create Image",), count=2)
    assert a == PlanRequest(functions=("Create Image",), count=2) and a != PlanRequest(functions=("Create Image",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.count = 3  # type: ignore[misc]
