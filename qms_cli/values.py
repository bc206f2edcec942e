"""`Value`: equality, hash and repr for frozen dataclasses, shared instead of generated per class.

`@dataclass(frozen=True)` generates six methods per class with `exec`, ~0.6 ms a class on Python 3.11: over
the ~20 value types on `qms plan`'s path that was a tenth of its start-up. Declared as
`@dataclass(frozen=True, eq=False, repr=False)` on top of `Value`, a class generates only its constructor
and the frozen guards, and takes these three from here.
"""

from __future__ import annotations

from typing import Any


class Value:
    """Mixin for frozen dataclasses declared with eq=False, repr=False."""

    __slots__ = ()
    __dataclass_fields__: dict[str, Any]

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return f"{type(self).__name__}({fields})"
