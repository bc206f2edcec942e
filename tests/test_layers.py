"""The house's rules, measured on the source (issue 16): imports run down the floors, no import circles, core
modules free of typer/rich and of render/.

Floors, top to bottom (docs/ARCHITECTURE.md): the command line; render; plan, queue, bench, runs, exporter;
estimate; catalog, project, hardware; the shared values. A module may import its own floor or any below; a
type-only import (under `if TYPE_CHECKING:`) is not an import at run time and is not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "qms_cli"
FLOORS = {"cli": 5, "serve": 5, "render": 4, "plan": 3, "queue": 3, "bench": 3, "runs": 3, "exporter": 3,
          "estimate": 2, "catalog": 1, "project": 1, "hardware": 1}
SHARED = {"values", "units", "errors", "paths", "env", "redact"}
TOP = {"__init__", "__main__"}  # the public API and `python -m qms_cli` sit above everything
WORDS = ("cli", "render", "serve")


def module_of(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def floor(module: str, target: bool = False) -> int:
    parts = module.split(".")
    if len(parts) == 1 and target:
        return 0  # importing the package itself is for its __version__; its API attributes load on first use
    if len(parts) == 1 or parts[1] in TOP:
        return 9
    if parts[1] in SHARED:
        return 0
    if parts[1] not in FLOORS:
        raise AssertionError(f"{module}: qms_cli/{parts[1]} is in no floor; add its part to FLOORS and the map")
    return FLOORS[parts[1]]


def imports(path: Path) -> set[str]:
    """Every qms_cli module this file imports at run time (at the top or inside functions)."""
    found: set[str] = set()
    package = module_of(path) if path.name == "__init__.py" else module_of(path).rsplit(".", 1)[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(up + ([child.module] if child.module else []))
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


MODULES = {module_of(p): p for p in sorted(PKG.rglob("*.py"))}
GRAPH = {m: {i for i in imports(p) if i in MODULES and i != m} for m, p in MODULES.items()}


def test_every_module_sits_on_a_floor() -> None:
    for m in MODULES:
        floor(m)


def test_imports_run_down_the_floors() -> None:
    up = sorted(f"{m} (floor {floor(m)}) imports {i} (floor {floor(i, target=True)})" for m, targets in GRAPH.items()
                for i in targets if floor(i, target=True) > floor(m))
    assert not up, f"{len(up)} imports run up:\n" + "\n".join(up)


def test_no_import_circles() -> None:
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for i in sorted(GRAPH[m]):
            if state.get(i) == 1:
                circles.append([*stack[stack.index(i):], i])
            elif i not in state:
                walk(i)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            walk(m)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("banned", ["typer", "rich", "click", "qms_cli.render"])
def test_core_modules_neither_print_nor_word(banned: str) -> None:
    offenders = sorted(m for m, p in MODULES.items() if m.split(".")[1:2] and m.split(".")[1] not in WORDS
                       and m not in ("qms_cli", "qms_cli.__main__")
                       and any(i == banned or i.startswith(banned + ".") for i in imports(p)))
    assert not offenders, f"core modules importing {banned}: {', '.join(offenders)}"
