"""What `qms queue simulate` does with its options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qms_cli.cli.common import Settings
from qms_cli.errors import UsageError

TIERS = ("low", "standard", "high")
DEFAULT_CARD = "rtx-4090-24gb"


def owners(text: str) -> tuple[str, ...]:
    """--owners 8 (user1..user8) or --owners ann,bob,cy."""
    if text.strip().isdigit():
        n = int(text)
        if not 1 <= n <= 10_000:
            raise UsageError(f"--owners {text!r}: give from 1 to 10000 owners, or their names separated by commas")
        return tuple(f"user{i}" for i in range(1, n + 1))
    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not names:
        raise UsageError(f"--owners {text!r}: give a number of owners, or their names separated by commas")
    return names


def predictions(settings: Settings, function: str, hardware: str | None, vram_limit: str | None
                ) -> tuple[dict[str, tuple[float, float]], str, str]:
    """tier -> (expected seconds, high end of the range) on the simulated card; the function; the card."""
    from qms_cli.plan.manager import QualityManager

    hardware = hardware or (None if vram_limit else DEFAULT_CARD)
    qm = QualityManager.from_project(None, profiles=settings.profiles, vram_limit=vram_limit, hardware=hardware)
    out: dict[str, tuple[float, float]] = {}
    name = function
    for tier in TIERS:
        plan = qm.plan(function, tier)
        name = plan.route.function
        p = plan.route.chosen.prediction
        out[tier] = (float(p.seconds), float(max(p.high, p.seconds)))
    card = qm.resources.machine or (qm.resources.best_gpu.name if qm.resources.best_gpu else "processor")
    return out, name, card


def simulate(settings: Settings, mix: str, gpus: int, load: float, hours: float, owner_list: str, seed: int,
             batch: int, function: str, hardware: str | None, vram_limit: str | None, max_wait: str | None,
             quota: str | None, reserve: str | None, as_json: bool, report: Path | None) -> None:
    from qms_cli.queue.policy import Policy
    from qms_cli.queue.simulate import Settings as Sim
    from qms_cli.queue.simulate import compare
    from qms_cli.units import parse_duration, parse_shares

    shares = parse_shares(mix, "--mix", TIERS, fractions=False)
    if not 1 <= gpus <= 1024:
        raise UsageError(f"--gpus {gpus}: give from 1 to 1024 cards")
    if not 0 < load < 1:
        raise UsageError(f"--load {load}: give a share of the cards' time above 0 and below 1 (e.g. 0.7); at 1 or "
                         "more the queue grows without end")
    if not 0 < hours <= 24 * 30:
        raise UsageError(f"--hours {hours}: give more than 0 and at most 720 hours")
    if batch < 0:
        raise UsageError(f"--batch {batch}: give 0 (no batch) or more tasks")
    policy = Policy()
    wait = parse_duration(max_wait) if max_wait is not None else policy.max_wait
    if wait <= 0:
        raise UsageError(f"--max-wait {max_wait!r}: give a duration above 0, e.g. 1h")
    policy = Policy(wait, parse_shares(quota, "--quota", TIERS, fractions=True) if quota is not None else policy.quota,
                    parse_shares(reserve, "--reserve", TIERS, fractions=True) if reserve is not None
                    else policy.reserve)
    predicted, name, card = predictions(settings, function, hardware, vram_limit)
    sim = Sim(shares, predicted, gpus, load, hours, owners(owner_list), seed, batch,
              flood_at=min(2 * 3600, hours * 3600 / 4))
    result = compare(sim, policy)
    result["function"], result["card"] = name, card
    if report is not None:
        from qms_cli.render.queue_report import write_report

        write_report(report, result)
    if as_json:
        from qms_cli.render.output import emit_json

        emit_json(result)
        return
    _show(result, report)


def _cells(t: dict[str, Any]) -> list[str]:
    from qms_cli.render import messages as m

    return [str(t["tasks"]), m.duration(t["mean_wait"]), m.duration(t["p50_wait"]), m.duration(t["p90_wait"]),
            m.duration(t["max_wait"]), f"{t['p90_slowdown']:.1f}×"]


def _show(result: dict[str, Any], report: Path | None) -> None:
    from qms_cli.render import messages as m
    from qms_cli.render.output import emit_lines
    from qms_cli.render.table import Table, emit_table

    s = result["settings"]
    emit_lines(m.simulation_heading(result["function"], result["card"], s["gpus"], s["load"], s["hours"],
                                    s["flood"], s["seed"]))
    table = Table(m.SIMULATION_COLUMNS)
    for name, r in result["policies"].items():
        rows = [*r["tiers"].items()]
        if "batch" in r["owners"]:
            rows.append((m.BATCH_OWNER, r["owners"]["batch"]))
        for label, t in rows:
            table.add(m.POLICY_NAMES[name], label, *_cells(t))
        table.add(m.POLICY_NAMES[name], m.SINGLE_TASK_OWNERS, str(r["solo_tasks_during_batch"]), "", "",
                  m.duration(r["solo_p90_wait"]), "", "")
        table.add(m.POLICY_NAMES[name], m.everything(r["throughput_per_hour"], r["utilisation"]), str(r["tasks"]),
                  "", "", "", m.duration(r["max_wait"]), "")
    emit_table(table)
    for g in result["goals"]:
        emit_lines(m.goal_line(g["goal"], g["value"], g["target"], g["fifo"], g["met"]))
    if report is not None:
        emit_lines(m.report_written(str(report / "report.html")))
