"""`qms queue simulate --report DIR`: report.html (bar charts as inline SVG: no scripts, no network) and
simulation.json (everything --json prints)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from qms_cli.errors import DataError

COLOURS = {"fifo": "#9aa5b1", "priority": "#e0a458", "fair": "#2f7f5f"}
W, H, PAD = 720, 260, 48


def _bars(title: str, groups: list[str], series: dict[str, list[float]], unit: str = "s") -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    top = max((v for vs in series.values() for v in vs), default=0.0) or 1.0
    gw = (W - 2 * PAD) / max(1, len(groups))
    bw = gw * 0.8 / max(1, len(series))
    parts = [f'<svg viewBox="0 0 {W} {H + 40}" width="{W}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="{PAD}" y="18" font-weight="bold">{html.escape(title)}</text>',
             f'<line x1="{PAD}" y1="{H}" x2="{W - PAD}" y2="{H}" stroke="#333"/>']
    for gi, label in enumerate(groups):
        x0 = PAD + gi * gw + gw * 0.1
        parts.append(f'<text x="{x0 + gw * 0.4:.1f}" y="{H + 16}" text-anchor="middle">{html.escape(label)}</text>')
        for si, (name, values) in enumerate(series.items()):
            v = values[gi]
            h = (H - 40) * v / top
            x = x0 + si * bw
            colour = COLOURS.get(name, "#555")
            parts.append(f'<rect x="{x:.1f}" y="{H - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{html.escape(name)}: {v:.0f} {unit}</title></rect>')
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{H - h - 4:.1f}" font-size="10" text-anchor="middle">'
                         f'{v:.0f}</text>')
    legend = "".join(f'<rect x="{PAD + i * 170}" y="{H + 26}" width="10" height="10" fill="{c}"/>'
                     f'<text x="{PAD + i * 170 + 14}" y="{H + 35}" font-size="12">{html.escape(n)}</text>'
                     for i, (n, c) in enumerate(COLOURS.items()) if n in series)
    return "".join(parts) + legend + "</svg>"


def render(result: dict[str, Any]) -> str:
    from qms_cli.render import messages as m

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
