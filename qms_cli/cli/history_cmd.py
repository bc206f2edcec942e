"""`qms accuracy`, `qms stats` and `qms history`: what the record of real runs says."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from pathlib import Path
from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt
from qms_cli.cli.run_cmd import DbOpt

SinceOpt = Annotated[str | None, typer.Option(metavar="DATE", help="From this date on, e.g. 2026-11-01 or 30d (ago).")]


def accuracy(since: SinceOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """How close the time estimates came, per quality and function.

    Example: qms accuracy --since 30d
    """
    from qms_cli.cli.history_flow import show_accuracy

    show_accuracy(since, db, as_json)


def stats(since: SinceOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Use per quality, steps down, failures, time spent.

    Example: qms stats --json
    """
    from qms_cli.cli.history_flow import show_stats

    show_stats(since, db, as_json)


app = typer.Typer(help="List, prune or export the record of runs.", no_args_is_help=True, rich_markup_mode=None)


@app.command("list")
def list_runs(limit: Annotated[int, typer.Option(help="How many (newest first).")] = 20, since: SinceOpt = None,
              db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The latest runs.

    Example: qms history list --limit 5
    """
    from qms_cli.cli.history_flow import list_history

    list_history(limit, since, db, as_json)


@app.command("prune")
def prune(older_than: Annotated[str, typer.Option("--older-than", metavar="DURATION", help="e.g. 90d.")],
          db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Delete runs older than a duration.

    Example: qms history prune --older-than 90d
    """
    from qms_cli.cli.history_flow import prune_history

    prune_history(older_than, db, as_json)


@app.command("export")
def export(fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="jsonl.")] = "jsonl",
           since: SinceOpt = None, db: DbOpt = None, output: Annotated[Path | None, typer.Option(
               "--output", "-o", metavar="FILE", help="Write here instead of standard output.")] = None) -> None:
    """Every run, one JSON object a line.

    Example: qms history export --format jsonl > runs.jsonl
    """
    from qms_cli.cli.history_flow import export_history

    export_history(fmt, since, db, output)


app.info.epilog = "\b\nExamples:\n  qms history list --limit 5\n  qms history prune --older-than 90d\n" \
                  "  qms history export --format jsonl > runs.jsonl"
