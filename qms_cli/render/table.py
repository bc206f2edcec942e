"""Tables for people: Rich at a terminal, plain aligned columns otherwise (see render/output.py).

Every table fits the terminal (80 columns and up; the COLUMNS variable, as shells set it, wins): when the
cells are wider than that, the widest columns wrap onto two or more lines at spaces — never inside a word, and
never between a number and its unit ("3.4 GB") — so nothing is truncated. Piped plain output with no COLUMNS
keeps one line a row (stable to grep).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from qms_cli.render.output import emit_lines, use_rich

PLAIN_GAP = 2  # spaces between plain columns
SHORT = 14  # a column no wider than this wraps only when the longer ones cannot give way
NUMBER = re.compile(r".*\d")  # a token a unit may follow: "3.4", "#1", "×4", "4–12", "(22.0"


@dataclass
class Table:
    """Rows for people, rendered by Rich or as plain aligned columns."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str | None = None
    caption: str | None = None
    highlight: set[int] = field(default_factory=set)  # row indexes to emphasise
    sections: set[int] = field(default_factory=set)  # row indexes after which a rule is drawn (Rich)

    def add(self, *cells: str, highlight: bool = False, end_section: bool = False) -> None:
        if highlight:
            self.highlight.add(len(self.rows))
        if end_section:
            self.sections.add(len(self.rows))
        self.rows.append(list(cells))


def emit_table(table: Table) -> None:
    if use_rich():
        _rich_table(table)
    else:
        emit_lines(*plain_table(table, plain_width()))


def plain_width() -> int | None:
    """The width plain tables fit: COLUMNS, else the terminal's; None when piped with no COLUMNS."""
    import shutil
    import sys

    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def plain_table(table: Table, available: int | None = None) -> list[str]:
    """The table as aligned lines, each at most `available` cells wide where the words allow."""
    table, widths = layout(table, available, lambda n: PLAIN_GAP * (n - 1))

    def lines(cells: list[str]) -> list[str]:
        wrapped = [wrap(c, w) for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = [(w[i] if i < len(w) else "") for w in wrapped]
            out.append("  ".join(p + " " * (w - width(p)) for p, w in zip(parts, widths)).rstrip())
        return out

    out = [table.title] if table.title else []
    out += lines(table.columns) if any(table.columns) else []
    for row in table.rows:
        out += lines(row)
    caption = wrap(table.caption, available) if table.caption and available else [table.caption or ""]
    return out + (caption if table.caption else [])


def layout(table: Table, available: int | None, frame: Callable[[int], int]) -> tuple[Table, list[int]]:
    """The table and its column widths within `available` cells (`frame(n)`: what n columns take besides their
    cells). When its columns cannot fit even with every cell wrapped, fewer columns: each row becomes a block of
    "column  value" lines."""
    rows = [table.columns, *table.rows]
    if available is None:
        return table, fit_widths(rows, None)
    n = len(table.columns)
    widths = fit_widths(rows, available - frame(n))
    if sum(widths) <= available - frame(n) or n <= 2:
        return table, widths
    stacked = Table(["", ""], title=table.title, caption=table.caption)
    for i, row in enumerate(table.rows):
        named = [(c, v) for c, v in zip(table.columns, row) if v]
        for j, (column, value) in enumerate(named):
            stacked.add(column or "", value, highlight=i in table.highlight, end_section=j == len(named) - 1)
    return stacked, fit_widths([stacked.columns, *stacked.rows], available - frame(2))


def fit_widths(rows: list[list[str]], budget: int | None) -> list[int]:
    """Column widths: each column's widest cell, then the widest columns narrowed in turn (never below their
    longest unbreakable piece; short columns last) until they add up to `budget`."""
    n = len(rows[0])
    natural = [max(max((width(line) for line in r[i].split("\n")), default=0) for r in rows) for i in range(n)]
    least = [max(width(p) for r in rows for line in r[i].split("\n") for p in pieces(line)) for i in range(n)]
    widths = list(natural)
    if budget is None:
        return widths
    for short_too in (False, True):  # long columns wrap first; short ones ("Create Image") only if need be
        while sum(widths) > budget:
            room = [i for i in range(n) if widths[i] > least[i] and (short_too or natural[i] > SHORT)]
            if not room:
                break
            widths[max(reversed(room), key=lambda i: widths[i])] -= 1  # a tie: the later column
    return widths


def pieces(line: str) -> list[str]:
    """The unbreakable pieces of one line of a cell: its words, a number kept with the word after it."""
    out: list[str] = []
    for word in line.split(" "):
        if out and NUMBER.fullmatch(out[-1].rsplit(" ", 1)[-1]):
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def wrap(text: str, cells: int) -> list[str]:
    """`text` in lines of at most `cells` (a piece wider than that stands alone on its line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for piece in pieces(paragraph):
            if not piece:
                continue
            if not current:
                current = piece
            elif width(current) + 1 + width(piece) <= cells:
                current += " " + piece
            else:
                lines.append(current)
                current = piece
        lines.append(current)
    return lines


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

    console = Console()
    # A cell of padding either side of each column but the outer ones, a rule between columns, and an edge
    # each side.
    table, widths = layout(table, console.width, lambda n: 3 * n - 1)
    rt = RichTable(title=table.title, caption=table.caption, box=box.SIMPLE_HEAVY, title_justify="left",
                   caption_justify="left", pad_edge=False, show_header=any(table.columns))
    for header, w in zip(table.columns, widths):
        rt.add_column("\n".join(wrap(header, w)), width=w, no_wrap=True, overflow="ignore")
    for i, row in enumerate(table.rows):
        rt.add_row(*("\n".join(wrap(c, w)) for c, w in zip(row, widths)),
                   style="bold" if i in table.highlight else None, end_section=i in table.sections)
    console.print(rt)


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
