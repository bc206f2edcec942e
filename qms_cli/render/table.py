"""Tables for people: Rich at a terminal, plain aligned columns otherwise (see render/output.py)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from qms_cli.render.output import emit_lines, use_rich


@dataclass
class Table:
    """Rows for people, rendered by Rich or as plain aligned columns."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str | None = None
    caption: str | None = None
    highlight: set[int] = field(default_factory=set)  # row indexes to emphasise

    def add(self, *cells: str, highlight: bool = False) -> None:
        if highlight:
            self.highlight.add(len(self.rows))
        self.rows.append(list(cells))


def emit_table(table: Table) -> None:
    if use_rich():
        _rich_table(table)
    else:
        emit_lines(*plain_table(table))


def plain_table(table: Table) -> list[str]:
    widths = [max(width(r[i]) for r in [table.columns, *table.rows]) for i in range(len(table.columns))]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths)).rstrip()

    out = [table.title] if table.title else []
    out += [line(table.columns), *(line(r) for r in table.rows)]
    return out + ([table.caption] if table.caption else [])


def width(text: str) -> int:
    """Terminal cells `text` takes: wide characters and emoji take two, marks and variation selectors none."""
    cells = 0
    for ch in text:
        if ch == "\ufe0f":
            cells += 1  # an emoji presentation selector widens the symbol before it to two cells
        elif unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        else:
            cells += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return cells


def _rich_table(table: Table) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable

    rt = RichTable(*table.columns, title=table.title, caption=table.caption, box=box.SIMPLE_HEAVY,
                   title_justify="left", caption_justify="left")
    for i, row in enumerate(table.rows):
        rt.add_row(*row, style="bold" if i in table.highlight else None)
    Console().print(rt)


def emit_panel(lines: list[str], title: str) -> None:
    """Lines people should not miss: a bordered panel at a terminal, plain lines otherwise."""
    if not lines:
        return
    if not use_rich():
        emit_lines(*lines)
        return
    from rich.console import Console
    from rich.panel import Panel

    Console().print(Panel("\n".join(lines), title=title, title_align="left", border_style="yellow", expand=False))
