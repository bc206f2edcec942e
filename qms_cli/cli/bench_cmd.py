"""`qms bench`: measure this machine, calibrate the estimates, and say how accurate they are."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from pathlib import Path
from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt, settings
from qms_cli.cli.probe_cmd import VramLimitOpt


def bench(
    ctx: typer.Context,
    quick: Annotated[bool, typer.Option("--quick", help="A short run: smaller sizes, fewer repeats.")] = False,
    functions: Annotated[list[str] | None, typer.Option("--function", metavar="FUNCTION", help="Only what this function uses (repeatable), e.g. \"Create Image\".")] = None,  # noqa: E501
    evaluate: Annotated[bool, typer.Option("--evaluate", help="Also measure held-out sizes and report the error per tier and function.")] = False,  # noqa: E501
    rungs: Annotated[bool, typer.Option("--rungs", help="Run every setting qms would try, full size, and check its memory against the prediction (a graphics card, or the card --vram-limit describes).")] = False,  # noqa: E501
    runner: Annotated[str | None, typer.Option("--runner", metavar="CMD", help="Time your own command per tier and function, e.g. 'python gen.py {resolution} {steps}'.")] = None,  # noqa: E501
    timeout: Annotated[float | None, typer.Option("--timeout", metavar="SECONDS", help="Stop a --runner command after this long.")] = None,  # noqa: E501
    threads: Annotated[int | None, typer.Option(help="Processor threads to use (default: the physical cores).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    vram_limit: VramLimitOpt = None,
    isolate: Annotated[bool | None, typer.Option("--isolate/--no-isolate", help="Each model size in a process of its own (default: on a graphics card).")] = None,  # noqa: E501
    report: Annotated[Path | None, typer.Option("--report", metavar="DIR", help="Write bench.html with charts to DIR.")] = None,  # noqa: E501
    output: Annotated[Path | None, typer.Option("--output", metavar="FILE", help="Save the calibration here instead of the user data folder.")] = None,  # noqa: E501
    as_json: JsonOpt = False,
) -> None:
    """Measure this machine and calibrate time estimates.

    Example: qms bench --quick --evaluate
    Example: qms bench --rungs --vram-limit 12GB
    """
    from qms_cli.cli.bench_flow import run_bench

    run_bench(settings(ctx), quick, evaluate, functions or [], runner, timeout, threads, device, vram_limit, report,
              output, as_json, isolate, rungs)
