"""Load and validate the profiles: tiers, models and simulated machines.

Search path, first match per file: --profiles DIR, then $QMS_PROFILES (folders separated by the OS path
separator), then ./.qms/profiles, then the bundled set. A folder may hold only some files (say, a tiers.yaml
with a fourth tier); the rest come from further down the path.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qms_cli.catalog.cache import load_validated
from qms_cli.catalog.parsing import PROFILE_LIMIT, ParseError, parse_json, parse_yaml, read_text
from qms_cli.catalog.tiers import TierSet
from qms_cli.errors import DataError, UsageError
from qms_cli.paths import bundled
from qms_cli.units import GIB

if TYPE_CHECKING:
    from qms_cli.catalog.cards import CardTable
    from qms_cli.catalog.models import ModelSet
    from qms_cli.catalog.schemas import Problem
    from qms_cli.catalog.speed import Throughput

LOCAL_PROFILES = Path(".qms") / "profiles"


def profile_dirs(explicit: str | None = None) -> list[Path]:
    """The folders searched for profiles, in order."""
    dirs: list[Path] = []
    for origin, value in (("--profiles", explicit), ("QMS_PROFILES", os.environ.get("QMS_PROFILES"))):
        for part in (value or "").split(os.pathsep):
            if part:
                if not Path(part).is_dir():
                    raise UsageError(f"{origin}: {part!r} is not a folder; give a folder holding tiers.yaml, "
                                     "models.yaml or hardware/*.yaml")
                dirs.append(Path(part))
    if LOCAL_PROFILES.is_dir():
        dirs.append(LOCAL_PROFILES)
    dirs.append(bundled("profiles"))
    return dirs


def locate(dirs: list[Path], name: str) -> Path:
    """The first `name` on the search path."""
    for d in dirs:
        if (d / name).exists():  # a device or pipe by that name is found, then refused when read
            return d / name
    raise DataError(f"no {name} in {', '.join(map(str, dirs))}")


def summary(problems: list[Problem]) -> str:
    """One line for a runtime error: the first problem and how many more."""
    more = len(problems) - 1
    tail = f" (and {more} more; `qms validate` lists them all)" if more else ""
    return f"{problems[0]}{tail}"


def parse_document(text: str, filename: str) -> Any:
    """JSON for *.json, YAML otherwise; a ParseError says where it fails."""
    return parse_json(text, filename) if filename.endswith(".json") else parse_yaml(text, filename)


def schema_problems(data: Any, text: str, filename: str, kind: str) -> list[Problem]:
    """Schema errors of parsed data; for YAML each points at its line."""
    from qms_cli.catalog.parsing import positions
    from qms_cli.catalog.schemas import validate

    problems = validate(data, kind, filename)
    if problems and not filename.endswith(".json"):
        problems = validate(data, kind, filename, positions(text))
    return problems


def parse_problem(e: ParseError) -> Problem:
    """A parse error as a validation problem (compiler-style when it has a position)."""
    from qms_cli.catalog.schemas import Problem

    return Problem(e.filename, "$", e.problem, e.line, e.column, syntax=e.line is not None)


def check_document(text: str, filename: str, kind: str) -> tuple[Any, list[Problem]]:
    """(data, schema problems) of a document's text; a parse error is a single problem at `$`."""
    try:
        data = parse_document(text, filename)
    except ParseError as e:
        return None, [parse_problem(e)]
    return data, schema_problems(data, text, filename, kind)


def read_document(path: Path, kind: str) -> Any:
    """A profile or project file's validated data, or a DataError naming the first problem."""
    text = read_text(path, PROFILE_LIMIT)

    def parse_and_validate() -> Any:
        data, problems = check_document(text, str(path), kind)
        if problems:
            raise DataError(summary(problems))
        return data

    return load_validated(kind, text, parse_and_validate)


class Catalog:
    """The active tiers and models, where they came from, and the machines that can be simulated."""

    def __init__(self, tiers: dict[str, Any], models: dict[str, Any], sources: dict[str, Path],
                 dirs: tuple[Path, ...]) -> None:
        self.tiers = TierSet.from_data(tiers)
        self._models_data = models
        self.sources = sources
        self.dirs = dirs

    @cached_property
    def models(self) -> ModelSet:
        from qms_cli.catalog.models import ModelSet  # deferred: most commands only need the tiers

        return ModelSet.from_data(self._models_data)

    @cached_property
    def throughput(self) -> Throughput:
        """Reference throughputs (profiles/throughput.yaml) for estimates before calibration."""
        from qms_cli.catalog.speed import Throughput

        return Throughput.from_data(read_document(locate(list(self.dirs), "throughput.yaml"), "throughput"),
                                    self._cards)

    @cached_property
    def card_sizes(self) -> tuple[int, ...]:
        """The card sizes sold, in bytes, smallest first (profiles/cards.yaml `sizes_sold`), for the cards people
        are told of: read without building the card table (`qms tiers` names cards, it matches none)."""
        path, data = self._cards_document
        sold = [int(gb) for gb in data["sizes_sold"]]
        if sold != sorted(sold):
            raise DataError(f"{path}::$.sizes_sold: list the sizes smallest first")
        return tuple(gb * GIB for gb in sold)  # a 12 GB card is 12 GiB (DESIGN.md, sizes)

    def _cards(self) -> CardTable:
        """The card table (profiles/cards.yaml): read only when a card needs matching."""
        from qms_cli.catalog.cards import CardTable

        path, data = self._cards_document
        return CardTable(data, str(path))

    @cached_property
    def _cards_document(self) -> tuple[Path, dict[str, Any]]:
        """profiles/cards.yaml, validated, read once: its sizes and its card table both come from it."""
        path = locate(list(self.dirs), "cards.yaml")
        return path, read_document(path, "cards")

    def hardware_files(self) -> dict[str, Path]:
        """Simulated machine name -> its file (the first folder on the search path wins)."""
        return hardware_files(self.dirs)


def hardware_files(dirs: tuple[Path, ...] | list[Path]) -> dict[str, Path]:
    """Simulated machine name -> its file, in the folders of a search path (the first folder wins)."""
    found: dict[str, Path] = {}
    for d in dirs:
        for f in sorted((d / "hardware").glob("*.y*ml")):
            found.setdefault(f.stem, f)
    return found


def load_catalog(profiles: str | None = None) -> Catalog:
    """The active catalogue, validated: each file against its schema, and the pair for consistency.
    A pair seen before (same bytes, same schemas, same qms) comes from the cache."""
    dirs = profile_dirs(profiles)
    sources = {"tiers": locate(dirs, "tiers.yaml"), "models": locate(dirs, "models.yaml")}
    texts = {kind: read_text(path, PROFILE_LIMIT) for kind, path in sources.items()}

    def parse_and_check() -> Any:
        from qms_cli.catalog.semantics import check_models, check_tiers

        data = {}
        for kind, path in sources.items():
            data[kind], problems = check_document(texts[kind], str(path), kind)
            if problems:
                raise DataError(summary(problems))
        problems = (check_models(data["models"], str(sources["models"]))
                    + check_tiers(data["tiers"], data["models"], str(sources["tiers"])))
        if problems:
            raise DataError(summary(problems))
        return data

    data = load_validated("catalog", texts["tiers"] + "\0" + texts["models"], parse_and_check,
                          schemas=("tiers", "models", "common"))
    return Catalog(data["tiers"], data["models"], sources, tuple(dirs))
