"""`qms probe`: the graphics cards, memory and processor qms will plan with."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt, settings

VramLimitOpt = Annotated[str | None, typer.Option(
    "--vram-limit", metavar="SIZE", help="Treat each card as at most SIZE (e.g. 12GB); with no card, simulate one. "
                                         "Default: $VRAM_LIMIT.")]
ReserveOpt = Annotated[str | None, typer.Option(
    "--reserve", metavar="SIZE", help="Graphics memory kept free on each card (default 2GB).")]
HardwareOpt = Annotated[str | None, typer.Option(
    "--hardware", metavar="NAME|FILE", help="Simulate a machine: a name from profiles/hardware (e.g. "
                                            "rtx-3060-12gb) or a YAML file.")]


PrometheusOpt = Annotated[str | None, typer.Option(
    "--prometheus", metavar="URL", help="Read every machine's cards from Prometheus (qms exporter or DCGM metrics).")]
MaxAgeOpt = Annotated[str, typer.Option("--max-age", metavar="DURATION",
                                        help="With --prometheus: leave out readings older than this.")]
LocalFallbackOpt = Annotated[bool, typer.Option("--local-fallback",
                                                help="With --prometheus: plan for this machine if it is unreachable.")]


def probe(ctx: typer.Context, vram_limit: VramLimitOpt = None, reserve: ReserveOpt = None,
          hardware: HardwareOpt = None, prometheus: PrometheusOpt = None, max_age: MaxAgeOpt = "60s",
          local_fallback: LocalFallbackOpt = False, as_json: JsonOpt = False) -> None:
    """Show the graphics memory available for work on this machine.

    Example: qms probe --vram-limit 12GB
    """
    from qms_cli.hardware import probe as probe_machine
    from qms_cli.render.output import emit_json, emit_lines

    if prometheus is not None:
        from qms_cli.cli.fleet_flow import probe_fleet

        probe_fleet(settings(ctx), prometheus, max_age, local_fallback, reserve, as_json)
        return
    catalog = settings(ctx).catalog() if hardware else None
    resources = probe_machine(vram_limit, reserve, hardware, catalog)
    if as_json:
        from qms_cli.render.probe import probe_json

        emit_json(probe_json(resources))
        return
    from qms_cli.render.probe import card_table, summary_lines
    from qms_cli.render.table import emit_table

    if resources.gpus:
        emit_table(card_table(resources))
    emit_lines(*summary_lines(resources))
