"""When to try a dead tunnel again: at once, then 1, 2, 4 … up to 30 s."""

from __future__ import annotations

FIRST = 1.0
CAP = 30.0


class Backoff:
    def __init__(self, first: float = FIRST, cap: float = CAP) -> None:
        self.first = first
        self.cap = cap
        self.attempts = 0
        self.next_at = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def tried(self, now: float) -> float:
        """Note an attempt at ``now``; returns the delay before the next."""
        delay = min(self.first * 2 ** max(self.attempts - 1, 0), self.cap)
        delay = 0.0 if self.attempts == 0 else delay
        self.attempts += 1
        self.next_at = now + max(delay, self.first)
        return self.next_at - now

    def reset(self) -> None:
        self.attempts = 0
        self.next_at = 0.0
