"""A pre-shared key that never prints itself."""

from __future__ import annotations


class Secret:
    """Holds a secret string; ``repr``/``str`` never show it.

    Only :meth:`reveal` returns the value, so every place that hands a key
    to charon or a 0600 file is easy to find with grep.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret is not serialisable")
