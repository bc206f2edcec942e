"""What `qms exporter` does: print an asset, write a textfile snapshot, or serve until stopped."""

from __future__ import annotations

import gc
import signal
import sys
from pathlib import Path
from typing import Any

from qms_cli.cli.common import Settings
from qms_cli.errors import UsageError


def run_exporter(settings: Settings, host: str, port: int, interval: str, textfile: str | None,
                 hostname: str | None, print_dashboard: bool, print_alerts: bool, vram_limit: str | None,
                 reserve: str | None, hardware: str | None, db: Path | None, queue: str | None = None) -> None:
    from functools import partial

    from qms_cli.exporter import monitor
    from qms_cli.units import parse_duration

    if print_dashboard or print_alerts:
        from qms_cli.exporter.monitoring import ALERTS, DASHBOARD

        sys.stdout.write((DASHBOARD if print_dashboard else ALERTS).read_text(encoding="utf-8"))
        return
    try:
        every = parse_duration(interval)
    except UsageError as e:
        raise UsageError(f"--interval: {e.message}") from None
    if every <= 0 or not 0 <= port < 65536:
        raise UsageError("--interval must be more than 0 and --port between 0 (any free port) and 65535")
    _say_project_problem(settings)
    take = partial(monitor.take, hostname=hostname, profiles=settings.profiles, hardware=hardware,
                   vram_limit=vram_limit, reserve=reserve, db=str(db) if db else None, queue=queue)
    if textfile is not None:
        from qms_cli.exporter.metrics import write_textfile

        if not textfile.endswith(".prom"):
            raise UsageError(f"--textfile {textfile!r}: node_exporter reads files ending in .prom")
        write_textfile(textfile, take())
        return
    gc.enable()  # a long-running server: collect cycles again (cli/entry.py turns it off for short commands)
    signal.signal(signal.SIGTERM, _stop)
    from qms_cli.exporter.metrics import serve
    from qms_cli.exporter.server import open_to_network, url
    from qms_cli.render import messages as m

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def ready(addr: str, bound: int) -> None:
        say(m.exporter_serving(url(addr, bound), interval))
        if open_to_network(addr):
            say(m.exporter_open_to_network(url(addr, bound)))

    from qms_cli.render.messages import machine

    try:
        serve(host, port, every, take, ready, lambda event: say(machine.refresh(event)))
    except OSError as e:
        raise UsageError(f"cannot listen on {url(host, port).removeprefix('http://').removesuffix('/metrics')} "
                         f"({e.strerror or e})") from None
    except KeyboardInterrupt:
        sys.stderr.write(m.EXPORTER_STOPPED + "\n")


def _say_project_problem(settings: Settings) -> None:
    """The exporter reports every quality, not the project's; a project file here that cannot be used is
    still said, once, so nobody takes its silence for the file being fine (issue 13)."""
    from qms_cli.project.file import project_problem

    problem = project_problem(None, settings.catalog().tiers.ids)
    if problem is not None:
        from qms_cli.render import messages as m

        sys.stderr.write(m.project_not_read(problem) + "\n")
        sys.stderr.flush()


def _stop(*_: Any) -> None:
    raise KeyboardInterrupt
