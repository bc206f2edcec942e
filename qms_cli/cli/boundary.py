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
        _say(f"{e.prefix}{_words(e)}")
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


def _words(error: QmsError) -> str:
    """The error's line for people: a project file that cannot be used is told in plain words."""
    problem = getattr(error, "problem", None)
    if problem is not None:
        from qms_cli.render.messages import project_unusable

        return project_unusable(problem)
    return error.message


def _say(line: str) -> None:
    from qms_cli.redact import text

    sys.stderr.write(text(line) + "\n")


def _silence_stdout() -> None:
    """The reader went away (`qms tiers | head`): don't complain while Python flushes stdout on exit."""
    import contextlib
    import os

    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _internal(error: Exception, argv: list[str]) -> int:
    from qms_cli import __version__, redact

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    details = redact.text(f"qms {__version__}, Python {sys.version.split()[0]}\n"
                          f"argv: {redact.argv(argv)}\n\n" + traceback.format_exc())
    try:
        path = _write_log(f"crash-{stamp}.log", details)
        where = f"details were written to {path}"
    except (OSError, QmsError):
        where = "the details could not be saved; run again with QMS_LOG_DIR set to a writable folder"
    _say(f"Error: qms hit an unexpected problem ({type(error).__name__}: {error}); {where}. "
         "Please include that file when you report it.")
    return INTERNAL


def _write_log(name: str, details: str) -> Any:
    """A log only its owner can read (0600, in a 0700 folder when qms makes it): it may hold paths and names."""
    import os

    from qms_cli.paths import log_dir

    folder = log_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(fd, 0o600)  # an older file of that name keeps its mode otherwise
        f.write(details)
    return path
