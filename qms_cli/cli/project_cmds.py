"""`qms init`, `qms set-quality`, `qms show`: the project's quality."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from typing import Annotated, Any

import typer

from qms_cli.cli.common import JsonOpt, ProjectOpt, settings
from qms_cli.cli.probe_cmd import HardwareOpt, ReserveOpt, VramLimitOpt


def tier_names(incomplete: str) -> list[str]:
    """Tab completion of a quality (qms completion): the tier ids in use; runs only when the shell asks."""
    from qms_cli.catalog.load import load_catalog
    from qms_cli.errors import QmsError

    try:
        ids = load_catalog().tiers.ids
    except (QmsError, OSError):  # a broken profile must not break the shell; qms reports it when run
        return []
    return [t for t in ids if t.startswith(incomplete.casefold())]


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
    from qms_cli.project.quality import init_project
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    view = init_project(settings(ctx).catalog().tiers, folder, name, quality, force)
    if as_json:
        emit_json(view.as_json())
    else:
        emit_lines(messages.project_created(str(view.project.path), view.project.name, view.quality))


def set_quality(
    ctx: typer.Context,
    tier: Annotated[str | None, typer.Argument(metavar="TIER", help="Tier id or name, any case: low, Standard, HIGH…",
                                               autocompletion=tier_names)] = None,
    project: ProjectOpt = None,
    node: Annotated[str | None, typer.Option(metavar="ID", help="Set (or clear) one node's own quality.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the node's own quality (needs --node).")] = False,
    vram_limit: VramLimitOpt = None,
    reserve: ReserveOpt = None,
    hardware: HardwareOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set the project's quality, or one node's.

    Example: qms set-quality high --node hero-shot
    """
    from qms_cli.errors import UsageError
    from qms_cli.project import quality
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    catalog = settings(ctx).catalog()
    tiers = catalog.tiers
    resources = _machine(catalog, vram_limit, reserve, hardware)  # before the change: a bad --hardware changes nothing
    if clear:
        if node is None or tier is not None:
            raise UsageError("--clear removes one node's quality: use `qms set-quality --clear --node ID`")
        change = quality.clear_override(tiers, node, project)
    elif tier is None:
        raise UsageError(f"name a quality; choose one of: {tiers.choices()}")
    else:
        change = quality.set_quality(tiers, tier, project, node)
    shown = change.tier or change.view.quality
    here = _here(catalog, resources, shown)
    if as_json:
        emit_json({**change.as_json(), "here": _here_json(here, shown)})
    elif change.tier is None:
        emit_lines(messages.override_cleared(change.node or "", change.view.quality, change.changed),
                   *_times(here, tiers, shown))
    elif node is None:
        emit_lines(messages.quality_set(change.tier, change.changed), *_times(here, tiers, shown))
    else:
        emit_lines(messages.override_set(node, change.tier, change.view.quality, change.changed),
                   *_times(here, tiers, shown))


def show(ctx: typer.Context, project: ProjectOpt = None, vram_limit: VramLimitOpt = None, reserve: ReserveOpt = None,
         hardware: HardwareOpt = None, as_json: JsonOpt = False) -> None:
    """Show the project's quality and the nodes that use their own.

    Example: qms show --project posters/
    """
    from qms_cli.project.quality import show as show_project
    from qms_cli.render import messages
    from qms_cli.render.output import emit_json, emit_lines

    catalog = settings(ctx).catalog()
    view = show_project(catalog.tiers, project)
    here = _here(catalog, _machine(catalog, vram_limit, reserve, hardware), view.quality)
    if as_json:
        emit_json({**view.as_json(), "here": _here_json(here, view.quality)})
        return
    lines = [messages.project_heading(view.project.name, str(view.project.path)),
             messages.project_quality(view.quality, view.is_default), *_times(here, catalog.tiers, view.quality)]
    if view.overrides:
        lines += [messages.NODES_HEADING, *(messages.node_quality(n, t) for n, t in view.overrides)]
    emit_lines(*lines)


def _machine(catalog: Any, vram_limit: str | None, reserve: str | None, hardware: str | None) -> Any:
    from qms_cli.hardware import probe

    return probe(vram_limit, reserve, hardware, catalog)


def _here(catalog: Any, resources: Any, tier: Any) -> Any:
    """How each function of the tier shown runs here: the same routing as `qms plan` and `qms tiers`."""
    from qms_cli.plan.listing import on_this_machine
    from qms_cli.render.messages import machine
    from qms_cli.render.output import emit_lines

    here, _, problems = on_this_machine(catalog, resources, only=tier.id)
    # a calibration or history that could not be read, as `qms tiers` says it
    emit_lines(*machine.notices(problems), err=True)
    return here


def _here_json(here: Any, tier: Any) -> dict[str, Any]:
    return {fn: h.as_json() for fn, h in here[tier.id].items()}


def _times(here: Any, tiers: Any, tier: Any) -> list[str]:
    from qms_cli.render.tiers import times_line

    return [times_line(here, tiers, tier)]
