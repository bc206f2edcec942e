"""`qms queue simulate --report DIR`: report.html (bar charts as inline SVG: no scripts, no network) and
simulation.json (everything --json prints)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError
from qms_cli.render import messages as m
from qms_cli.render.svg import grouped_bars

COLOURS = {"fifo": "#9aa5b1", "priority": "#e0a458", "fair": "#2f7f5f"}


def _bars(title: str, groups: list[str], series: dict[str, list[float]]) -> str:
    return grouped_bars(title, groups, series, COLOURS)


def render(result: dict[str, Any]) -> str:
    pol = result["policies"]
    tiers = list(next(iter(pol.values()))["tiers"])
    names = {k: m.POLICY_NAMES[k] for k in pol}

    def series(pick: Any) -> dict[str, list[float]]:
        return {k: [pick(pol[k], t) for t in tiers] for k in pol}

    charts = [
        _bars("Average wait per quality (s)", tiers, series(lambda r, t: r["tiers"][t]["mean_wait"])),
        _bars("9 in 10 waited at most (s)", tiers, series(lambda r, t: r["tiers"][t]["p90_wait"])),
        _bars("Single-task owners during the batch: 9 in 10 waited at most (s) · longest wait of all (s)",
              ["single-task owners", "longest wait"],
              {k: [pol[k]["solo_p90_wait"], pol[k]["max_wait"]] for k in pol}),
    ]
    owners = "".join(
        f"<tr><td>{html.escape(names[k])}</td><td>{html.escape(o)}</td><td>{s['tasks']}</td>"
        + "".join(f"<td>{s[f]:.0f}</td>" for f in ("mean_wait", "p50_wait", "p90_wait", "max_wait"))
        + f"<td>{s['p90_slowdown']:.1f}</td></tr>" for k in pol for o, s in pol[k]["owners"].items())
    goals = "".join(f"<li>{html.escape(m.goal_line(g['goal'], g['value'], g['target'], g['fifo'], g['met']))}</li>"
                    for g in result["goals"])
    s = result["settings"]
    heading = m.simulation_heading(result.get("function", ""), result.get("card", ""), s["gpus"], s["load"],
                                   s["hours"], s["flood"], s["seed"])
    legend = " · ".join(f'<span style="color:{COLOURS[k]}">■</span> {html.escape(v)}' for k, v in names.items())
    return ("<!doctype html><meta charset='utf-8'><title>qms queue simulation</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto}svg{margin:1em 0}"
            "text{font-family:system-ui,sans-serif;font-size:12px}</style>"
            f"<h1>Queue simulation</h1><p>{html.escape(heading)}</p><p>{legend}</p>{''.join(charts)}"
            f"<h2>Goals</h2><ul>{goals}</ul><h2>Waits per owner (seconds)</h2><table><tr><th>Policy</th>"
            "<th>Owner</th><th>Tasks</th><th>Average</th><th>Median</th><th>9 in 10</th><th>Longest</th>"
            f"<th>Slowdown, 9 in 10</th></tr>{owners}</table>")


def write_report(folder: Path, result: dict[str, Any]) -> None:
    """report.html and simulation.json in `folder` (created if needed)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.html").write_text(render(result), encoding="utf-8")
        (folder / "simulation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        raise DataError(f"{folder}: the report cannot be written ({e.strerror or e})") from None
