"""One tunnel's health as an explicit state machine.

Pure: the daemon feeds it samples (the SA state charon reports and, where
the tunnel carries probes, a probe result) and logs the transitions it
returns.  Hysteresis: ``rise`` good samples in a row make an UP tunnel
HEALTHY, ``fall`` bad ones make it FAILING.

    DOWN ──► CONNECTING ──► UP ──► HEALTHY
      ▲          │          │  ╲      │
      └──────────┴──────────┴───► FAILING ──► DOWN
                            ▲         │
                            └─────────┘ (a probe answered again)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class State(enum.Enum):
    DOWN = "down"  # no IKE_SA at all
    CONNECTING = "connecting"  # an IKE_SA is being set up
    UP = "up"  # CHILD_SA installed, health not proven yet
    HEALTHY = "healthy"  # installed and passing its probes
    FAILING = "failing"  # installed but declared dead; being torn down


ALLOWED: dict[State, frozenset[State]] = {
    State.DOWN: frozenset({State.CONNECTING, State.UP}),
    State.CONNECTING: frozenset({State.UP, State.DOWN}),
    State.UP: frozenset({State.HEALTHY, State.FAILING, State.DOWN, State.CONNECTING}),
    State.HEALTHY: frozenset({State.FAILING, State.DOWN, State.CONNECTING}),
    State.FAILING: frozenset({State.DOWN, State.CONNECTING, State.UP}),
}


class Sa(enum.Enum):
    """What charon says about the tunnel's SAs."""

    NONE = "none"
    CONNECTING = "connecting"
    INSTALLED = "installed"


@dataclass(frozen=True)
class Transition:
    number: int
    old: State
    new: State
    reason: str
    at: float


class IllegalTransition(RuntimeError):
    pass


class TunnelMachine:
    """Tunnel ``number``'s state; ``probed`` says whether probes judge it."""

    def __init__(self, number: int, fall: int, rise: int) -> None:
        self.number = number
        self.fall = fall
        self.rise = rise
        self.state = State.DOWN
        self.since = 0.0
        self.healthy_since: float | None = None
        self.good = 0
        self.bad = 0

    def step(
        self, sa: Sa, probe: bool | None, probed: bool, now: float
    ) -> Transition | None:
        """Feed one sample.  ``probe`` None: no probe result in it; a tunnel
        that is not ``probed`` counts each installed sample as good."""
        if sa is Sa.NONE:
            return self._go(State.DOWN, "no SA", now)
        if sa is Sa.CONNECTING:
            if self.state is State.CONNECTING:
                return None
            return self._go(State.CONNECTING, "IKE_SA connecting", now)
        if self.state in (State.DOWN, State.CONNECTING):
            return self._go(State.UP, "CHILD_SA installed", now)
        if self.state is State.FAILING:
            if probe is True:
                return self._go(State.UP, "a probe was answered again", now)
            return None
        if probe is None and probed:
            return None
        if probe is False:
            self.bad, self.good = self.bad + 1, 0
        else:
            self.good, self.bad = self.good + 1, 0
        if self.bad >= self.fall:
            return self._go(State.FAILING, f"{self.bad} failed probes in a row", now)
        if self.state is State.UP and self.good >= self.rise:
            why = f"{self.good} good probes in a row" if probed else "SA stayed up"
            return self._go(State.HEALTHY, why, now)
        return None

    def _go(self, new: State, reason: str, now: float) -> Transition | None:
        old = self.state
        if new is old:
            return None
        if new not in ALLOWED[old]:
            raise IllegalTransition(f"tunnel {self.number}: {old.value} -> {new.value}")
        self.state, self.since = new, now
        self.good = self.bad = 0
        self.healthy_since = now if new is State.HEALTHY else None
        return Transition(self.number, old, new, reason, now)

    @property
    def usable(self) -> bool:
        return self.state in (State.UP, State.HEALTHY)
