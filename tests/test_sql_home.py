"""SQL only in the stores (issue 16, DESIGN.md "I/O at the edges"): the history (runs/history.py) and the queue's
stores are the only modules that hold SQL, talk to a database driver or execute a statement; every other module
calls one of their named functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "qms_cli"
STORES = {"runs/history.py", "runs/schema.py", "runs/tallies.py", "queue/base.py", "queue/postgres.py",
          "queue/tables.py", "queue/reasons.py"}
DRIVERS = ("sqlite3", "psycopg", "psycopg2", "psycopg_pool")
STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|BEGIN|COMMIT|ROLLBACK|PRAGMA|WITH|"
                       r"REPLACE|UPSERT|VACUUM|SAVEPOINT|RELEASE|LOCK|TRUNCATE)\b")


def is_store(path: Path) -> bool:
    rel = path.relative_to(PKG).as_posix()
    return rel in STORES or re.fullmatch(r"queue/store\w*\.py", rel) is not None


def qms_modules(tree: ast.Module) -> set[str]:
    """Names this file binds to qms_cli modules (`from qms_cli.runs import running`): calling their functions
    (running.execute runs the studio's command) is not talking to a database."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qms_cli"):
            base = PKG.parent / Path(*(node.module or "").split("."))
            out |= {a.asname or a.name for a in node.names
                    if (base / f"{a.name}.py").exists() or (base / a.name / "__init__.py").exists()}
    return out


def offences(path: Path, root: Path = PKG) -> list[str]:
    """Where a module holds a statement, imports a driver or executes something on a connection."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = qms_modules(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and STATEMENT.match(node.value):
            found.append(f"{where}: SQL {node.value.strip()[:40]!r}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{where}: imports {n}" for n in names if n.split(".")[0] in DRIVERS]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("execute", "executemany", "executescript")
              and not (isinstance(node.func.value, ast.Name) and node.func.value.id in ours)):
            found.append(f"{where}: {ast.unparse(node.func)}(...)")
    return found


def test_sql_lives_only_in_the_stores() -> None:
    found = [o for p in sorted(PKG.rglob("*.py")) if not is_store(p) for o in offences(p)]
    assert not found, "SQL outside the stores (add a named function to the store instead):\n" + "\n".join(found)


def test_the_check_sees_a_query_a_driver_and_a_statement_executed(tmp_path: Path) -> None:
    """The rule itself can fail: each way of running SQL outside a store is caught, a command run is not."""
    probe = tmp_path / "probe.py"
    probe.write_text('import sqlite3\nfrom qms_cli.runs import running\n\n\ndef f(conn, h):\n'
                     '    conn.execute("BEGIN")\n    h.select(conn, f"SELECT 1 FROM runs WHERE x = {1}")\n'
                     '    running.execute(["true"], {}, None)\n    return "Select a tier"\n', encoding="utf-8")
    found = offences(probe, tmp_path)
    assert [o.split(": ", 1)[1] for o in found] == ["imports sqlite3", "conn.execute(...)", "SQL 'BEGIN'",
                                                    "SQL 'SELECT 1 FROM runs WHERE x ='"], found
