"""The `qms` program's entry point.

A command creates many objects (modules, classes, the catalogue) and frees almost none before it exits: the
cyclic garbage collector would only rescan them, ~6% of a `qms plan`. It stays off for short commands;
reference counting still frees what they drop. A long-running command (a server, a worker) turns it back on
with `gc.enable()` when it starts serving.
"""

import gc

gc.disable()

from qms_cli.cli.app import main as _main  # noqa: E402 - after the collector is off


def main() -> int:
    """Run `qms` on the process's arguments; returns the exit code."""
    return _main()
