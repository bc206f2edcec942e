"""`qms init`, `qms set-quality`, `qms show`: the project's quality."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from typing import Annotated

import typer

from qms_cli.cli.common import JsonOpt, ProjectOpt, settings


def init(
    ctx: typer.Context,
    folder: Annotated[str, typer.Argument(metavar="[DIR]", help="Folder for project.json (created if needed).")] = ".",
    name: Annotated[str | None, typer.Option(help="Project name. Default: the folder's name.")] = None,
    quality: Annotated[str | None, typer.Option(metavar="TIER", help="Starting quality. Default: the tier set's default.")] = None,  # noqa: E501
    force: Annotated[bool, typer.Option("--force", help="Replace an existing project.json.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create project.json with a quality setting.

    Example: qms init posters --name "Spring posters" --quality standard
    """
    from qms_cli.quality import init_project
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    view = init_project(settings(ctx).catalog().tiers, folder, name, quality, force)
    if as_json:
        emit_json(view.as_json())
    else:
        emit_lines(messages.project_created(str(view.project.path), view.project.name, view.quality))


def set_quality(
    ctx: typer.Context,
    tier: Annotated[str | None, typer.Argument(metavar="TIER", help="Tier id or name, any case: low, Standard, HIGH…")] = None,  # noqa: E501
    project: ProjectOpt = None,
    node: Annotated[str | None, typer.Option(metavar="ID", help="Set (or clear) one node's own quality.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the node's own quality (needs --node).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set the project's quality, or one node's.

    Example: qms set-quality high --node hero-shot
    """
    from qms_cli import quality
    from qms_cli.errors import UsageError
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    tiers = settings(ctx).catalog().tiers
    if clear:
        if node is None or tier is not None:
            raise UsageError("--clear removes one node's quality: use `qms set-quality --clear --node ID`")
        change = quality.clear_override(tiers, node, project)
    elif tier is None:
        raise UsageError(f"name a quality; choose one of: {tiers.choices()}")
    else:
        change = quality.set_quality(tiers, tier, project, node)
    if as_json:
        emit_json(change.as_json())
    elif change.tier is None:
        emit_lines(messages.override_cleared(change.node or "", change.view.quality, change.changed))
    elif node is None:
        emit_lines(messages.quality_set(change.tier, change.changed))
    else:
        emit_lines(messages.override_set(node, change.tier, change.view.quality, change.changed))


def show(ctx: typer.Context, project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """Show the project's quality and the nodes that use their own.

    Example: qms show --project posters/
    """
    from qms_cli.quality import show as show_project
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    view = show_project(settings(ctx).catalog().tiers, project)
    if as_json:
        emit_json(view.as_json())
        return
    lines = [messages.project_heading(view.project.name, str(view.project.path)),
             messages.project_quality(view.quality, view.is_default)]
    if view.overrides:
        lines += [messages.NODES_HEADING, *(messages.node_quality(n, t) for n, t in view.overrides)]
    emit_lines(*lines)
