from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest

from qms_cli.values import Value


@dataclass(frozen=True, eq=False, repr=False)
class Point(Value):
    x: int
    y: int = 0


@dataclass(frozen=True, eq=False, repr=False)
class Other(Value):
    x: int
    y: int = 0


def test_values_compare_hash_and_print_by_fields() -> None:
    assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(2, 1)
    assert Point(1) != Other(1) and Point(1) != (1, 0)
    assert len({Point(1, 2), Point(1, 2), Point(3)}) == 2
    assert repr(Point(1, y=5)) == "Point(x=1, y=5)"
    with pytest.raises(FrozenInstanceError):
        Point(1).x = 2  # type: ignore[misc]
