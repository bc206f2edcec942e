"""Exceptions that cross layers, each with the exit code DESIGN.md gives it."""

from __future__ import annotations


class QmsError(Exception):
    """An error qms explains in one line. Subclasses set the exit code."""

    exit_code = 70
    prefix = "Error: "  # how the one line on stderr starts

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class DataError(QmsError):
    """Invalid or unreadable data: a profile, a project file, a validation failure (exit 1)."""

    exit_code = 1


class UsageError(QmsError):
    """A bad option or value on the command line (exit 2)."""

    exit_code = 2


class Declined(QmsError):
    """qms would have to fall back and was told not to, or the user cancelled (exit 3)."""

    exit_code = 3


class Cancelled(Declined):
    """The person answered no at the prompt (exit 3): their choice, not an error, so no "Error:" prefix."""

    prefix = ""
