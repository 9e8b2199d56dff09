"""What a check found: items (one per tunnel, name or address) and a result.

An item's ``kind`` is a fixed word for what happened (``ok``, ``timeout``,
``refused``, ``auth_failed``, ...); the diagnosis reads kinds and facts,
people read ``detail``.  Nothing here ever holds a pre-shared key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OK = "ok"


@dataclass(frozen=True)
class Item:
    target: str  # what was probed: a tunnel, a name, an address
    kind: str  # OK, or the word for what went wrong
    detail: str  # one line for people
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.kind == OK

    def public(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "kind": self.kind,
            "detail": self.detail,
            "facts": dict(self.facts),
        }


def passed(target: str, detail: str, **facts: Any) -> Item:
    return Item(target, OK, detail, facts)


def failed(target: str, kind: str, detail: str, **facts: Any) -> Item:
    if kind == OK:
        raise ValueError("a failed item needs a kind other than ok")
    return Item(target, kind, detail, facts)


@dataclass(frozen=True)
class Findings:
    """What one check returns: its items and a one-line summary."""

    items: tuple[Item, ...]
    summary: str
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    name: str
    items: tuple[Item, ...]
    summary: str
    seconds: float
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.items) and all(item.ok for item in self.items)

    @property
    def failures(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if not item.ok)

    def kinds(self) -> set[str]:
        return {item.kind for item in self.failures}

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "summary": self.summary,
            "items": [item.public() for item in self.items],
            "facts": dict(self.facts),
        }
