"""`qms plan`: decide how each task runs here, predict its memory and time, explain any step down."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

import sys
from pathlib import Path
from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt, ProjectOpt, settings
from qms_cli.cli.probe_cmd import HardwareOpt, LocalFallbackOpt, MaxAgeOpt, PrometheusOpt, ReserveOpt, VramLimitOpt


def plan(
    ctx: typer.Context,
    functions: Annotated[list[str] | None, typer.Argument(metavar="[FUNCTION]...", help="e.g. \"Create Image\". Default: every function the tiers map.")] = None,  # noqa: E501
    quality: Annotated[str | None, typer.Option(metavar="TIER", help="Quality to ask for. Default: the node's, else the project's.")] = None,  # noqa: E501
    node: Annotated[str | None, typer.Option(metavar="ID", help="Plan for this node (uses its own quality, if any).")] = None,  # noqa: E501
    count: Annotated[int, typer.Option(help="Images (or clips) to make.")] = 1,
    frames: Annotated[int | None, typer.Option(help="Video length in frames.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Video length in seconds.")] = None,
    tasks: Annotated[Path | None, typer.Option("--tasks", metavar="FILE.jsonl", help="Many tasks, one JSON object a line.")] = None,  # noqa: E501
    max_time: Annotated[str | None, typer.Option("--max-time", metavar="DURATION", help="Skip choices predicted slower, e.g. 90s, 5min.")] = None,  # noqa: E501
    strict: Annotated[bool, typer.Option("--strict", help="Refuse any lower quality (exit 3) and any bad task line.")] = False,  # noqa: E501
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Accept a lower quality without asking.")] = False,
    technical: Annotated[bool, typer.Option("--technical", help="Add models, options and every rung tried.")] = False,
    project: ProjectOpt = None,
    vram_limit: VramLimitOpt = None,
    reserve: ReserveOpt = None,
    hardware: HardwareOpt = None,
    prometheus: PrometheusOpt = None,
    max_age: MaxAgeOpt = "60s",
    local_fallback: LocalFallbackOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Decide how tasks run here, and explain any step down.

    Example: qms plan "Create Video" --quality high --seconds 5
    """
    from qms_cli.cli.plan_flow import PlanRequest, run_plan

    run_plan(settings(ctx), PlanRequest(
        functions=tuple(functions or ()), quality=quality, node=node, count=count, frames=frames, seconds=seconds,
        tasks_path=tasks, max_time=max_time, strict=strict, yes=yes, technical=technical, project=project,
        vram_limit=vram_limit, reserve=reserve, hardware=hardware, as_json=as_json,
        interactive=sys.stdin.isatty() and sys.stdout.isatty(), prometheus=prometheus, max_age=max_age,
        local_fallback=local_fallback))
