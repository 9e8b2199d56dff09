"""What the diagnosis rules read (``Seen``) and what they give (``Diagnosis``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.check.result import Item, Result


@dataclass(frozen=True)
class Diagnosis:
    check: str
    cause: str
    fix: str
    follows: str | None = None  # the earlier failing check that explains it
    guide: str | None = None  # the guide's troubleshooting row it matches

    def public(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "cause": self.cause,
            "fix": self.fix,
            "follows": self.follows,
            "guide": self.guide,
        }


@dataclass(frozen=True)
class Seen:
    """Every check's result by name, and facts about the whole run:
    customer_cidr, landing_zone, data_plane, local_id, counters (the bytes
    each tunnel moved while the network checks ran)."""

    results: Mapping[str, Result]
    facts: Mapping[str, Any]

    def failed(self, name: str) -> bool:
        result = self.results.get(name)
        return result is not None and not result.ok

    def items(self, name: str) -> tuple[Item, ...]:
        result = self.results.get(name)
        return result.items if result else ()

    def item_for(self, check: str, **match: Any) -> Item | None:
        """The first item of ``check`` whose facts have these values."""
        for item in self.items(check):
            if all(item.facts.get(k) == v for k, v in match.items()):
                return item
        return None


def names(items: tuple[Item, ...] | list[Item]) -> str:
    """'a', 'a and b', 'a, b and c': the targets of items, for a sentence."""
    targets = [i.target for i in items]
    if len(targets) <= 1:
        return "".join(targets)
    return ", ".join(targets[:-1]) + " and " + targets[-1]


def agree(items: tuple[Item, ...] | list[Item], one: str, many: str) -> str:
    """The verb that agrees with how many items a sentence names."""
    return one if len(items) == 1 else many
