"""`qms tiers`: the quality tiers as a person sees them (models only with --technical or --json)."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt, ProjectOpt, settings
from qms_cli.cli.probe_cmd import HardwareOpt, ReserveOpt, VramLimitOpt


def tiers(
    ctx: typer.Context,
    technical: Annotated[bool, typer.Option("--technical", help="Add each tier's model configuration.")] = False,
    project: ProjectOpt = None,
    vram_limit: VramLimitOpt = None,
    reserve: ReserveOpt = None,
    hardware: HardwareOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the quality tiers and mark the one the project uses.

    Example: qms tiers --technical
    """
    from qms_cli.hardware import probe
    from qms_cli.plan.listing import list_tiers
    from qms_cli.render.output import emit_json, emit_lines
    from qms_cli.render.tiers import tier_table

    catalog = settings(ctx).catalog()
    listing = list_tiers(catalog, project, probe(vram_limit, reserve, hardware, catalog))
    if as_json:
        emit_json(listing.as_json())
        return
    if listing.project_problem is not None:
        from qms_cli.render import messages

        emit_lines(messages.project_not_marked(listing.project_problem), err=True)
    from qms_cli.render.table import emit_table

    emit_table(tier_table(listing, technical))
    if listing.here is not None:
        from qms_cli.render.plan import calibration_line

        emit_lines(calibration_line(listing.calibration))
    if listing.warnings:
        from qms_cli.render.messages import machine

        emit_lines(*machine.notices(listing.warnings), err=True)
