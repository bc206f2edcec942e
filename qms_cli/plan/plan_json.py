"""A plan as JSON for the function runner (schemas/plan.schema.json).

Every task planned the same way shares one serialised fragment, so a batch of 100,000 lines is mostly
string joins. The notices and the hint are facts in a plan; the JSON carries them in words too, as render/ words
them (the `Wording` the caller hands in), so a runner can show them as they are.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from qms_cli.hardware import Resources
from qms_cli.plan.manager import Plan
from qms_cli.plan.notices import Notice, Upgrade, Wording
from qms_cli.plan.routing import Route, Rung


def machine_json(res: Resources) -> dict[str, Any]:
    return {"fingerprint": res.fingerprint, "source": res.source, "machine": res.machine,
            "best_gpu": res.best_gpu.index if res.best_gpu else None, "available_vram_bytes": res.available_vram,
            "reserve_bytes": res.reserve, "vram_limit_bytes": res.vram_limit,
            "available_ram_bytes": res.available_ram, "ram_reserve_bytes": res.ram_reserve}


def _device(r: Rung, host: str | None) -> dict[str, Any]:
    if r.on_cpu or r.device is None:
        return {"type": "cpu", "index": None, "name": "processor", "uuid": None, "host": host}
    return {"type": "gpu", "index": r.device.index, "name": r.device.name, "uuid": r.device.uuid, "host": host}


def rung_json(r: Rung, chosen: bool) -> dict[str, Any]:
    p = r.prediction
    return {"tier": r.tier.id, "model": r.config.model, "options": list(r.config.options),
            "device": "cpu" if r.on_cpu else "gpu", "peak_bytes": p.peak, "main_memory_bytes": p.ram,
            "seconds": round(p.seconds, 3), "fits": r.fits, "card_fits": r.card_fits, "ram_fits": r.ram_fits,
            "chosen": chosen, "skipped": r.skipped}


def notice_json(n: Notice, words: Wording) -> dict[str, Any]:
    text = words.notice(n)
    return {"type": n.kind, "requested": n.requested.id, "actual": n.actual.id, "message": text.message,
            "reason": text.reason, "suggestion": text.suggestion}


def route_json(route: Route, upgrade: Upgrade | None, rungs: bool, words: Wording,
               host: str | None = None) -> dict[str, Any]:
    r = route.chosen
    p = r.prediction
    out: dict[str, Any] = {
        "requested": route.requested.view(),
        "chosen": r.tier.view(),
        "fallback": route.fallback,
        "runnable": route.runnable,
        "configuration": {"model": r.config.model, "resolution": r.config.resolution, "width": p.width,
                          "height": p.height, "steps": r.config.steps, "frames": r.config.frames,
                          "options": list(r.config.options), "tokens": p.tokens},
        "device": _device(r, host),
        "predicted": {"peak_bytes": p.peak, "available_bytes": 0 if r.on_cpu else route.available,
                      "main_memory_bytes": p.ram, "available_main_memory_bytes": route.available_ram,
                      "seconds": {"low": round(p.low, 2), "expected": round(p.seconds, 2), "high": round(p.high, 2)},
                      "phases_bytes": dict(p.phases), "parts_seconds": {k: round(v, 3) for k, v in p.parts},
                      "calibrated": p.calibrated, "basis": p.basis},
        "notices": [notice_json(n, words) for n in route.notices],
        "upgrade": words.upgrade(upgrade) if upgrade is not None else None,
    }
    if rungs:
        out["rungs"] = [rung_json(x, x is r) for x in route.rungs]
    return out


class PlanEncoder:
    """Serialises plans, each distinct decision once."""

    def __init__(self, res: Resources, rungs: bool = True, *, words: Wording) -> None:
        self.res = res
        self.rungs = rungs
        self.words = words
        # By identity: a route and its hint are shared by every plan of the same decision; each entry keeps them,
        # so an identity is never reused while its entry lives.
        self._cache: dict[tuple[int, int, str | None], tuple[str, Route, Upgrade | None]] = {}

    def task(self, plan: Plan, line: int | None = None) -> str:
        key = (id(plan.route), id(plan.upgrade), plan.host)
        cached = self._cache.get(key)
        if cached is None:
            body = json.dumps(route_json(plan.route, plan.upgrade, self.rungs, self.words, plan.host),
                              ensure_ascii=False)[1:]
            cached = self._cache[key] = (body, plan.route, plan.upgrade)
        body = cached[0]
        task = plan.task
        head = {"line": line, "function": plan.route.function, "node": task.node, "count": task.count,
                "frames": plan.frames, "quality_source": plan.quality_source}
        return json.dumps(head, ensure_ascii=False)[:-1] + ", " + body

    def write(self, out: TextIO, plans: list[tuple[int | None, Plan]], project: str | None,
              errors: list[dict[str, Any]], project_problem: dict[str, Any] | None = None) -> None:
        """The whole document, written a task at a time (a batch's JSON can run to 100 MB)."""
        head = {"version": 1, "project": project, "project_problem": project_problem,
                "machine": machine_json(self.res), "calibrated": False}
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "tasks": [')
        sep = "\n"
        for line, plan in plans:
            out.write(sep + self.task(plan, line))
            sep = ",\n"
        tail = {"summary": summary([p for _, p in plans]), "errors": errors}
        out.write("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")


def summary(plans: list[Plan]) -> dict[str, Any]:
    by_tier: dict[str, int] = {}
    low = expected = high = 0.0
    fallbacks = not_runnable = 0
    for p in plans:
        r = p.route.chosen
        by_tier[r.tier.id] = by_tier.get(r.tier.id, 0) + 1
        fallbacks += p.fallback
        not_runnable += not p.route.runnable
        low, expected, high = low + r.prediction.low, expected + r.prediction.seconds, high + r.prediction.high
    return {"tasks": len(plans), "by_tier": by_tier, "fallbacks": fallbacks, "not_runnable": not_runnable,
            "seconds": {"low": round(low, 2), "expected": round(expected, 2), "high": round(high, 2)}}
