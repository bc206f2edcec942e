"""Charts as inline SVG for the HTML reports (no scripts, no network): the one place that draws them.

Numbers are written as given: whole numbers as they are, others to one decimal.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

Number = int | float


def _n(value: Number) -> str:
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def text(x: Number, y: Number, content: str, extra: str = "") -> str:
    """A label; `extra`: more attributes, written as given (font-size, text-anchor, ...)."""
    return f'<text x="{_n(x)}" y="{_n(y)}"{extra}>{html.escape(content)}</text>'


def rect(x: Number, y: Number, width: Number, height: Number, fill: str, title: str | None = None) -> str:
    """A box; `title` shows when pointed at."""
    box = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" fill="{fill}"'
    return f"{box}/>" if title is None else f"{box}><title>{html.escape(title)}</title></rect>"


def grouped_bars(title: str, groups: Sequence[str], series: dict[str, list[float]], colours: dict[str, str],
                 unit: str = "s", width: int = 720, height: int = 260, pad: int = 48) -> str:
    """Grouped vertical bars: one group per label, one bar per series (coloured by its key), each bar
    labelled with its value; a legend of the series shown, in the order of `colours`."""
    w, h_, p = width, height, pad
    top = max((v for vs in series.values() for v in vs), default=0.0) or 1.0
    gw = (w - 2 * p) / max(1, len(groups))
    bw = gw * 0.8 / max(1, len(series))
    parts = [f'<svg viewBox="0 0 {w} {h_ + 40}" width="{w}" role="img" aria-label="{html.escape(title)}">',
             text(p, 18, title, ' font-weight="bold"'),
             f'<line x1="{p}" y1="{h_}" x2="{w - p}" y2="{h_}" stroke="#333"/>']
    for gi, label in enumerate(groups):
        x0 = p + gi * gw + gw * 0.1
        parts.append(text(x0 + gw * 0.4, h_ + 16, label, ' text-anchor="middle"'))
        for si, (name, values) in enumerate(series.items()):
            v = values[gi]
            bar = (h_ - 40) * v / top
            x = x0 + si * bw
            parts.append(rect(x, h_ - bar, bw - 2, bar, colours.get(name, "#555"), f"{name}: {v:.0f} {unit}"))
            parts.append(text(x + bw / 2, h_ - bar - 4, f"{v:.0f}", ' font-size="10" text-anchor="middle"'))
    legend = "".join(rect(p + i * 170, h_ + 26, 10, 10, c) + text(p + i * 170 + 14, h_ + 35, n, ' font-size="12"')
                     for i, (n, c) in enumerate(colours.items()) if n in series)
    return "".join(parts) + legend + "</svg>"


Pair = tuple[str, "float | None", float]  # label, first (None: none), second


def paired_bars(rows: Sequence[Pair], unit: str, colours: tuple[str, str], names: tuple[str, str],
                width: int = 900, label_width: int = 420, bar_height: int = 12) -> str:
    """Horizontal bars, two a row (the first light, the second dark: e.g. predicted and measured), each saying
    its figure when pointed at."""
    top = max(max(a or 0, b) for _, a, b in rows) or 1.0
    parts = []
    for i, (name, first, second) in enumerate(rows):
        y = 10 + i * 34
        parts.append(text(0, y + 14, name, ' font-size="11"'))
        if first is not None:
            parts.append(rect(label_width, y, (width - label_width) * first / top, bar_height, colours[0],
                              f"{names[0]} {first:.3g} {unit}"))
        parts.append(rect(label_width, y + bar_height + 2, (width - label_width) * second / top, bar_height,
                          colours[1], f"{names[1]} {second:.3g} {unit}"))
    total = 20 + len(rows) * 34
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}">{"".join(parts)}</svg>'
