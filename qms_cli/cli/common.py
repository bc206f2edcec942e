"""Options shared by commands, and the per-invocation settings the global options set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog


class Settings:
    """Global options (`qms --profiles DIR ...`)."""

    def __init__(self, profiles: str | None = None) -> None:
        self.profiles = profiles

    def catalog(self) -> Catalog:
        from qms_cli.catalog.load import load_catalog

        return load_catalog(self.profiles)


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for programs instead of text for people.")]
ProjectOpt = Annotated[
    str | None,
    typer.Option("--project", "-p", metavar="PATH",
                 help="project.json, or a folder holding it. Default: the nearest one from here up."),
]
