"""`qms exporter`: Prometheus metrics of this machine's cards, tiers and history."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from typing import Annotated

import typer

from qms_cli.cli.common import settings
from qms_cli.cli.probe_cmd import HardwareOpt, ReserveOpt, VramLimitOpt
from qms_cli.cli.run_cmd import DbOpt


def exporter(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless told otherwise).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9464,
    interval: Annotated[str, typer.Option(metavar="DURATION", help="How often to read the cards and history.")] = "5s",
    textfile: Annotated[str | None, typer.Option("--textfile", metavar="PATH.prom", help="Write one snapshot for node_exporter's textfile collector and exit.")] = None,  # noqa: E501
    hostname: Annotated[str | None, typer.Option(help="The hostname label (default: this machine's name).")] = None,
    print_dashboard: Annotated[bool, typer.Option("--print-dashboard", help="Print the Grafana dashboard (JSON) and exit.")] = False,  # noqa: E501
    print_alerts: Annotated[bool, typer.Option("--print-alerts", help="Print the Prometheus alerting rules and exit.")] = False,  # noqa: E501
    vram_limit: VramLimitOpt = None,
    reserve: ReserveOpt = None,
    hardware: HardwareOpt = None,
    db: DbOpt = None,
    queue: Annotated[str | None, typer.Option("--queue", metavar="URL", help="The shared queue to report on (postgresql://...). Default: $QMS_QUEUE_URL, else this machine's.")] = None,  # noqa: E501
) -> None:
    """Serve Prometheus metrics of the cards, tiers and runs here.

    Example: qms exporter --port 9464 --interval 5s
    """
    from qms_cli.cli.exporter_flow import run_exporter

    run_exporter(settings(ctx), host, port, interval, textfile, hostname, print_dashboard, print_alerts, vram_limit,
                 reserve, hardware, db, queue)
