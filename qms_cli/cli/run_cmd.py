"""`qms run`, `qms record`: real runs into the history."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

import sys
from pathlib import Path
from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt, ProjectOpt, settings
from qms_cli.cli.probe_cmd import HardwareOpt, ReserveOpt, VramLimitOpt

DbOpt = Annotated[Path | None, typer.Option("--db", metavar="FILE", help="History database. Default: $QMS_DB, else the user data folder.")]  # noqa: E501


def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(metavar="-- CMD [ARGS]...", help="The generation command; it gets QMS_* variables and $QMS_PLAN.")],  # noqa: E501
    function: Annotated[str | None, typer.Option("--function", "-f", help="e.g. \"Create Image\" (needed when the tiers map several).")] = None,  # noqa: E501
    quality: Annotated[str | None, typer.Option(metavar="TIER", help="Quality to ask for. Default: the node's, else the project's.")] = None,  # noqa: E501
    node: Annotated[str | None, typer.Option(metavar="ID", help="The node this run is for.")] = None,
    count: Annotated[int, typer.Option(help="Images (or clips) the command makes.")] = 1,
    frames: Annotated[int | None, typer.Option(help="Video length in frames.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Video length in seconds.")] = None,
    max_time: Annotated[str | None, typer.Option("--max-time", metavar="DURATION", help="Skip choices predicted slower.")] = None,  # noqa: E501
    strict: Annotated[bool, typer.Option("--strict", help="Refuse a lower quality (exit 3).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Accept a lower quality without asking.")] = False,
    project: ProjectOpt = None,
    vram_limit: VramLimitOpt = None,
    reserve: ReserveOpt = None,
    hardware: HardwareOpt = None,
    db: DbOpt = None,
) -> None:
    """Plan a task, run your command with it, record the time.

    Example: qms run -f "Create Image" -- python generate.py
    """
    from qms_cli.cli.run_flow import run_task

    code = run_task(settings(ctx), command, function, quality, node, count, frames, seconds, max_time, strict, yes,
                    project, vram_limit, reserve, hardware, db, interactive=sys.stdin.isatty() and sys.stderr.isatty())
    raise typer.Exit(code)


def record(
    ctx: typer.Context,
    function: Annotated[str | None, typer.Option("--function", "-f", help="The function that ran.")] = None,
    tier: Annotated[str | None, typer.Option(metavar="TIER", help="The quality it ran at.")] = None,
    seconds: Annotated[float | None, typer.Option(help="How long it took.")] = None,
    peak: Annotated[str | None, typer.Option(metavar="SIZE", help="Peak graphics memory, e.g. 14.2GB.")] = None,
    outcome: Annotated[str, typer.Option(help="ok, failed, oom or cancelled.")] = "ok",
    requested: Annotated[str | None, typer.Option(metavar="TIER", help="The quality asked for, if lower was used.")] = None,  # noqa: E501
    node: Annotated[str | None, typer.Option(metavar="ID")] = None,
    count: Annotated[int, typer.Option(help="Images (or clips) made.")] = 1,
    frames: Annotated[int | None, typer.Option(help="Video length in frames.")] = None,
    project: ProjectOpt = None,
    hardware: HardwareOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record runs timed elsewhere (options, or JSON lines on stdin).

    Example: qms record -f "Create Image" --tier high --seconds 41.5 --peak 14GB
    """
    from qms_cli.cli.run_flow import record_runs

    record_runs(settings(ctx), function, tier, seconds, peak, outcome, requested, node, count, frames, project,
                hardware, db, as_json)
