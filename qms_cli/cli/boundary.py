"""The one error boundary: exceptions become exit codes (DESIGN.md) and one line on stderr, never a traceback.

0 ok · 1 invalid or unreadable data · 2 usage · 3 declined · 130 interrupted · 70 unexpected (the details go
to a log file whose path is printed).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import typer

from qms_cli.errors import QmsError

INTERNAL = 70
INTERRUPTED = 130


def run(build: Callable[[], typer.Typer], argv: list[str]) -> int:
    """Build the app and run it on `argv`; every outcome becomes an exit code."""
    try:
        command = typer.main.get_command(build())
        result = command.main(args=argv, prog_name="qms", standalone_mode=False)
        if result == INTERRUPTED:  # Typer turns Ctrl-C into an exit code of 130
            _say("Interrupted.")
        return result if isinstance(result, int) else 0
    except QmsError as e:
        _say(f"{e.prefix}{e.message}")
        if e.hint:
            _say(e.hint)
        return e.exit_code
    except typer.Exit as e:
        return int(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _say("Interrupted.")
        return INTERRUPTED
    except typer.TyperException as e:  # usage errors from option parsing
        show: Any = getattr(e, "show", None)
        show() if show else _say(f"Error: {e}")
        return int(getattr(e, "exit_code", 2))
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as e:
        return _internal(e, argv)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def _silence_stdout() -> None:
    """The reader went away (`qms tiers | head`): don't complain while Python flushes stdout on exit."""
    import contextlib
    import os

    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _internal(error: Exception, argv: list[str]) -> int:
    from qms_cli import __version__
    from qms_cli.paths import log_dir

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    details = (f"qms {__version__}, Python {sys.version.split()[0]}\n"
               f"argv: {argv}\n\n" + traceback.format_exc())
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{stamp}.log"
        path.write_text(details, encoding="utf-8")
        where = f"details were written to {path}"
    except OSError:
        where = "the details could not be saved; run again with QMS_LOG_DIR set to a writable folder"
    _say(f"Error: qms hit an unexpected problem ({type(error).__name__}: {error}); {where}. "
         "Please include that file when you report it.")
    return INTERNAL
