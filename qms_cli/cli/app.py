"""The Typer app: global options, the command list, and `main()` behind the one error boundary.

Commands are registered lazily: `qms show` imports and builds only `show` (Typer introspects every
registered function at start, ~1 ms each); `qms --help` and unknown commands build them all.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from qms_cli import __version__
from qms_cli.cli.common import Settings

HELP = """Quality tiers for generative media.

Choose Low, Standard or High; qms maps the choice to a model configuration that runs on this machine and
explains, in plain words, any step down it has to take."""

# name -> "module:function", in the order `qms --help` lists them.
COMMANDS: dict[str, str] = {
    "plan": "qms_cli.cli.plan_cmd:plan",
    "tiers": "qms_cli.cli.tiers_cmd:tiers",
    "show": "qms_cli.cli.project_cmds:show",
    "set-quality": "qms_cli.cli.project_cmds:set_quality",
    "init": "qms_cli.cli.project_cmds:init",
    "validate": "qms_cli.cli.validate_cmd:validate",
    "probe": "qms_cli.cli.probe_cmd:probe",
    "bench": "qms_cli.cli.bench_cmd:bench",
    "run": "qms_cli.cli.run_cmd:run",
    "record": "qms_cli.cli.run_cmd:record",
    "accuracy": "qms_cli.cli.history_cmd:accuracy",
    "stats": "qms_cli.cli.history_cmd:stats",
    "history": "qms_cli.cli.history_cmd:app",
    "exporter": "qms_cli.cli.exporter_cmd:exporter",
    "queue": "qms_cli.cli.queue_cmd:app",
    "completion": "qms_cli.cli.completion_cmd:completion",
}
_GLOBAL_WITH_VALUE = ("--profiles",)


def command_function(name: str) -> Callable[..., Any]:
    module, attr = COMMANDS[name].split(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return fn  # a command function, or a Typer group (qms history)


def docstring_lines(fn: Any) -> list[str]:
    text = fn.info.help if isinstance(fn, typer.Typer) else fn.__doc__
    return inspect.cleandoc(text or "").splitlines()


def example(fn: Any) -> str:
    """The `Example:` line of a command's docstring (a group: its first command's)."""
    if isinstance(fn, typer.Typer):
        return example(fn.registered_commands[0].callback)
    for line in docstring_lines(fn):
        if line.startswith("Example: "):
            return line.removeprefix("Example: ")
    raise AssertionError(f"{fn.__name__} has no 'Example:' line in its docstring")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qms {__version__}")
        raise typer.Exit()


def _global(
    ctx: typer.Context,
    profiles: Annotated[str | None, typer.Option(
        "--profiles", metavar="DIR",
        help="Profiles folder searched first (then $QMS_PROFILES, ./.qms/profiles, the bundled set).")] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = Settings(profiles=profiles)


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every command, or with just `only`."""
    names = [only] if only else list(COMMANDS)
    functions = {name: command_function(name) for name in names}
    # "\b" keeps click from re-wrapping the examples block.
    epilog = None if only else "\b\nExamples:\n" + "\n".join(f"  {example(fn)}" for fn in functions.values())
    app = typer.Typer(
        name="qms", help=HELP, epilog=epilog,
        rich_markup_mode=None,  # plain help: Rich's import would double the start-up time of `qms --help`
        pretty_exceptions_enable=False, add_completion=False, no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    )
    app.callback()(_global)
    for name, fn in functions.items():
        if isinstance(fn, typer.Typer):
            app.add_typer(fn, name=name, short_help=docstring_lines(fn)[0])
        else:
            app.command(name, short_help=docstring_lines(fn)[0])(fn)
    return app


def invoked_command(args: list[str]) -> str | None:
    """The command `args` name, if it is one of ours (skipping global options and their values)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _GLOBAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run `qms` with `argv` (default: the process's arguments); returns the exit code."""
    from qms_cli.cli.boundary import run

    args = sys.argv[1:] if argv is None else list(argv)
    if "_QMS_COMPLETE" in os.environ:  # the shell asks for candidates (qms completion): every command, Typer's way
        from typer._completion_classes import completion_init

        completion_init()
        return run(build_app, args)
    return run(lambda: build_app(invoked_command(args)), args)
