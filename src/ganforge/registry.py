"""Name -> object registries that feed the CLI choices and error messages.

Every built-in (loss, dataset, model preset, metric, feature extractor) registers
through the same public call as user code, so ``list_*`` is always complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ganforge.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A validated mapping from lowercase names to objects of one kind.

    >>> r = Registry("colour", str); r.register("red", "#f00"); r.get("red")
    '#f00'
    """

    def __init__(self, kind: str, expected: type | tuple[type, ...] | None = None) -> None:
        self.kind = kind
        self._expected = expected
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T, *, overwrite: bool = False) -> T:
        if not isinstance(name, str) or not name or name.strip() != name:
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if name != name.lower() or " " in name:
            raise ValueError(f"{self.kind} name {name!r} must be lowercase without spaces")
        if self._expected is not None and not isinstance(obj, self._expected):
            raise TypeError(
                f"{self.kind} {name!r} must be a {_type_names(self._expected)}, "
                f"got {type(obj).__name__}"
            )
        if name in self._items and not overwrite:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj
        return obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ConfigError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def decorator(self, name: str) -> Callable[[T], T]:
        def wrap(obj: T) -> T:
            self.register(name, obj)
            return obj

        return wrap


def _type_names(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__
