"""The project's quality setting: the Python API behind `qms init`, `set-quality` and `show`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms_cli.catalog.tiers import Tier, TierSet
from qms_cli.errors import DataError, UsageError
from qms_cli.project.atomic import write_atomic
from qms_cli.project.file import PROJECT_FILE, Project, find_project, read_project
from qms_cli.project.update import update_project
from qms_cli.values import Value


@dataclass(frozen=True, eq=False, repr=False)
class ProjectView(Value):
    """A project's quality as people and programs see it."""

    project: Project
    quality: Tier
    is_default: bool
    overrides: tuple[tuple[str, Tier], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "project": str(self.project.path),
            "name": self.project.name,
            "quality": {**self.quality.view(), "default": self.is_default},
            "overrides": [{"node": node, "quality": tier.view()} for node, tier in self.overrides],
            "created": self.project.created,
        }


@dataclass(frozen=True, eq=False, repr=False)
class QualityChange(Value):
    """What `set-quality` did."""

    view: ProjectView
    tier: Tier | None
    node: str | None
    previous: str | None
    changed: bool

    def as_json(self) -> dict[str, Any]:
        return {**self.view.as_json(), "changed": self.changed, "node": self.node, "previous": self.previous,
                "set": self.tier.view() if self.tier else None}


def view(tiers: TierSet, project: Project) -> ProjectView:
    quality = tiers.get(project.quality) if project.quality else tiers.default
    return ProjectView(project, quality, project.quality is None,
                       tuple((node, tiers.get(t)) for node, t in project.overrides.items()))


def show(tiers: TierSet, where: str | os.PathLike[str] | None = None) -> ProjectView:
    """The project's quality and per-node overrides."""
    return view(tiers, read_project(find_project(where), tiers.ids))


def set_quality(tiers: TierSet, quality: str, where: str | os.PathLike[str] | None = None,
                node: str | None = None) -> QualityChange:
    """Set the project's quality (or one node's override) to a tier given by id or name, any case."""
    from qms_cli.project import jsonedit

    tier = tiers.get(quality)
    path = ("quality",) if node is None else ("quality_overrides", _node(node))
    return _change(tiers, where, node, tier, lambda p: jsonedit.set_member(p.text, path, tier.id))


def clear_override(tiers: TierSet, node: str, where: str | os.PathLike[str] | None = None) -> QualityChange:
    """Remove one node's override (the node then follows the project's quality)."""
    from qms_cli.project import jsonedit

    node = _node(node)

    def change(p: Project) -> str:
        text = jsonedit.remove_member(p.text, ("quality_overrides", node))
        if len(p.overrides) == 1 and node in p.overrides:
            text = jsonedit.remove_member(text, ("quality_overrides",))
        return text

    return _change(tiers, where, node, None, change)


def _change(tiers: TierSet, where: str | os.PathLike[str] | None, node: str | None, tier: Tier | None,
            change: Any) -> QualityChange:
    path = find_project(where)
    previous: list[str | None] = []

    def recorded(p: Project) -> str:
        previous.append(p.quality if node is None else p.overrides.get(node))
        return str(change(p))

    after, changed = update_project(path, recorded, tiers.ids)
    return QualityChange(view(tiers, after), tier, node, previous[-1], changed)  # as last read, if read again


def _node(node: str) -> str:
    if not node.strip():
        raise UsageError("--node needs a node id, e.g. --node hero-shot")
    return node


def init_project(tiers: TierSet, folder: str | os.PathLike[str] = ".", name: str | None = None,
                 quality: str | None = None, force: bool = False) -> ProjectView:
    """Create `project.json` in `folder` (refusing to replace one unless `force`)."""
    tier = tiers.get(quality) if quality else tiers.default
    target = Path(folder)
    if target.suffix == ".json":
        target, file = target.parent, target
    else:
        file = target / PROJECT_FILE
    if file.exists() and not force:
        raise DataError(f"{file}: already exists; pass --force to replace it")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{target}: cannot create the folder ({e.strerror or e})") from None
    import json
    from datetime import datetime, timezone

    data = {"version": "1.0", "name": name or target.resolve().name or "project", "quality": tier.id,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "canvas": {}}
    write_atomic(file, json.dumps(data, indent=2, ensure_ascii=False) + "\n", exclusive=not force)
    return view(tiers, read_project(file, tiers.ids))
