"""`qms completion SHELL`: tab completion of commands, options and qualities for bash, zsh and fish (Typer's)."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from enum import Enum
from typing import Annotated

import typer

COMPLETE_VAR = "_QMS_COMPLETE"  # set by the shell's completion function when it asks qms for candidates


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")],
    install: Annotated[bool, typer.Option("--install", help="Add it to the shell's start-up file instead of "
                                                            "printing it.")] = False,
) -> None:
    """Print or install tab completion for bash, zsh or fish.

    Example: qms completion bash >> ~/.bashrc
    """
    from typer._completion_shared import get_completion_script
    from typer._completion_shared import install as install_script

    from qms_cli.render import messages
    from qms_cli.render.output import emit_lines

    if install:
        _, path = install_script(shell=shell.value, prog_name="qms", complete_var=COMPLETE_VAR)
        emit_lines(messages.completion_installed(str(path)))
        return
    emit_lines(get_completion_script(prog_name="qms", complete_var=COMPLETE_VAR, shell=shell.value))

