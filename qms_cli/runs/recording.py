"""`qms record`: runs that were timed elsewhere, turned into history rows like `qms run`'s."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qms_cli.catalog.parsing import json_object_line
from qms_cli.errors import UsageError
from qms_cli.plan.manager import QualityManager, Task
from qms_cli.runs.history import OUTCOMES

FIELDS = ("function", "tier", "seconds", "peak", "outcome", "requested", "node", "count", "frames", "started_at")


def parse_line(line: str) -> dict[str, Any]:
    """One JSON line of `qms record`'s input, checked."""
    return json_object_line(line, FIELDS, 'a run is a JSON object, e.g. {"function": "Create Image", "tier": '
                                          '"high", "seconds": 41}')


def to_row(qm: QualityManager, entry: dict[str, Any], project: str | None) -> dict[str, Any]:
    """The history row for a run at `tier`: the estimate is what qms would plan for that tier here."""
    from qms_cli.runs.running import RunResult, now, row
    from qms_cli.units import parse_size

    for key in ("function", "tier"):
        if not isinstance(entry.get(key), str):
            raise UsageError(f"'{key}' is required, e.g. \"function\": \"Create Image\", \"tier\": \"high\"")
    outcome = entry.get("outcome", "ok")
    if outcome not in OUTCOMES:
        raise UsageError(f"outcome {outcome!r} is not one of: {', '.join(OUTCOMES)}")
    seconds = entry.get("seconds")
    if outcome == "ok" and (not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0):
        raise UsageError(f"'seconds' must be a positive number for a run that succeeded, not {seconds!r}")
    peak = entry.get("peak")
    if isinstance(peak, str):
        peak = parse_size(peak, what="'peak'")
    elif peak is not None and (not isinstance(peak, int) or isinstance(peak, bool) or peak < 0):
        raise UsageError(f"'peak' must be bytes or a size such as \"14GB\", not {peak!r}")
    tiers = qm.catalog.tiers
    ran = tiers.get(entry["tier"])
    asked = tiers.get(entry["requested"]) if entry.get("requested") else ran
    count = entry.get("count") or 1
    plan = qm.plan(Task(entry["function"], quality=ran.id, node=entry.get("node"), count=count,
                        frames=entry.get("frames")))
    route = plan.route
    rung = route.chosen
    if rung.tier.id != ran.id:  # it ran at `tier` all the same: estimate that tier's first rung that fits
        mine = [r for r in route.rungs if r.tier.id == ran.id]
        rung = next((r for r in mine if r.fits), mine[0])
    plan = replace(plan, route=replace(route, requested=asked, chosen=rung))
    started = entry.get("started_at") or now()
    result = RunResult(0 if outcome == "ok" else 1, float(seconds or 0), peak, outcome, started, started)
    fingerprint = qm.router.fingerprint_of_rung(route.chosen)
    return row(plan, result, project=project, fingerprint=fingerprint,
               proceeded=None, source="record")  # nobody was asked
