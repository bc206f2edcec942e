"""`qms validate`: check tier, model, hardware and project files; for CI jobs and pre-commit."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from typing import Annotated

import typer

from qms_cli.cli.common import settings


def validate(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(metavar="[PATH]...", help="Files or profile folders. Default: the active profiles.")] = None,  # noqa: E501
    kind: Annotated[str | None, typer.Option(metavar="KIND", help="tiers, models, hardware or project (default: from the file).")] = None,  # noqa: E501
    output: Annotated[str, typer.Option("--output", "-o", metavar="FORMAT", help="text or json.")] = "text",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --output json.")] = False,
) -> None:
    """Validate profiles and project files; exit 1 on any problem.

    Example: qms validate .qms/profiles project.json
    """
    from qms_cli.catalog.validate import validate_paths
    from qms_cli.errors import UsageError
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    if output not in ("text", "json"):
        raise UsageError(f"--output {output!r} is not a format; choose text or json")
    report = validate_paths(paths or [], kind, settings(ctx).profiles)
    if as_json or output == "json":
        emit_json(report.as_json())
    elif report.ok:
        emit_lines(messages.validation_ok(len(report.checked)))
    else:
        files = len({p.filename for p in report.problems})
        emit_lines(*(str(p) for p in report.problems), messages.validation_failed(len(report.problems), files))
    if not report.ok:
        raise typer.Exit(1)
