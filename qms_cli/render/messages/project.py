"""Words for people: a project.json that cannot be used (plain words first; `qms validate` and --json keep the
`file::$.path` form)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qms_cli.units import format_size

if TYPE_CHECKING:
    from qms_cli.project.file import ProjectProblem


# project.json that cannot be used (issue 13): plain words first; `qms validate` and --json keep the
# `file::$.path` form
def project_unusable(problem: ProjectProblem) -> str:
    """"…/project.json can't be used: its `quality_overrides` names a quality that does not exist, 'max'"."""
    return f"{problem.path} can't be used: {_project_reason(problem)}"


def project_not_marked(problem: ProjectProblem) -> str:
    """`qms tiers`: the project's quality cannot be marked."""
    return f"Note: {project_unusable(problem)}. No quality is marked as the project's."


def project_set_aside(problem: ProjectProblem) -> str:
    """plan, run, queue: the quality asked for is used; the project's could not be read."""
    return f"Note: {project_unusable(problem)}. Using the quality asked for instead."


def project_not_read(problem: ProjectProblem) -> str:
    """The exporter, which reports every quality, says the project it found is unusable."""
    return f"Note: {project_unusable(problem)}."


def _project_reason(p: ProjectProblem) -> str:
    where = f" (line {p.line}, column {p.column})" if p.line is not None else ""
    node = f" (node {p.node!r})" if p.node is not None else ""
    if p.kind == "unknown_quality":
        return (f"its `{p.field}` names a quality that does not exist, {p.value!r}{node}; "
                f"qualities: {', '.join(p.accepted)}")
    if p.kind == "invalid":
        if p.field == "quality_overrides" and p.node is None:
            return f"its `quality_overrides` must list nodes with a quality each, not {p.value}"
        whose = f"its `quality_overrides` must give node {p.node!r}" if p.node is not None else "its `quality` must be"
        return f"{whose} the id of a quality (lowercase letters, digits, '-', '_' or '.'), not {p.value}"
    if p.kind == "too_large":
        return f"it is larger than {format_size(p.limit or 0)}, the most qms reads from one file"
    if p.kind == "unreadable":
        return f"it cannot be read ({p.value or 'the system refused'})"
    if p.kind == "duplicate":
        return f"it gives the key {p.value!r} twice{where}"
    if p.kind == "not_an_object":
        return f"it must hold one object, {{…}}, not a {p.value}"
    return {"missing": "there is no such file",
            "folder": "it is a folder, not a file",
            "not_a_file": "it is not an ordinary file but a device, a pipe or a socket, which qms does not read",
            "not_utf8": f"it is not UTF-8 text{where}",
            "syntax": f"it is not valid JSON{where}",
            "comments": f"it has a comment{where}, and JSON files cannot have comments",
            "too_deep": "it is nested too deeply to read (lists and objects inside one another, hundreds deep)",
            "changing": "another program saved it each time qms was about to, so qms left it as that program "
                        "saved it; try again"}.get(p.kind, "it cannot be read")
