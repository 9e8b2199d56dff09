"""Which tunnel carries traffic: the primary while it is healthy.

Pure.  The active tunnel changes only when it stops being usable (DOWN,
CONNECTING, FAILING) and the other one is (HEALTHY preferred), or, with
``failback = hold-down``, when the primary has been HEALTHY for
``hold_down`` seconds again.  ``never`` leaves traffic on the
standby until that one fails or the operator runs ``dvsum-vpn prefer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.supervise.machine import State, TunnelMachine


@dataclass(frozen=True)
class Decision:
    active: int
    reason: str


# After probes moved traffic into a tunnel, probes failing there too within
# this many seconds mean the probe target, not the tunnels, is the problem:
# traffic stays (no ping-pong that tears down both tunnels in turn).
FLAP_WINDOW = 60.0


class Chooser:
    def __init__(self, primary: int, active: int, failback: str, hold_down: float):
        self.primary = primary
        self.active = active
        self.failback = failback
        self.hold_down = hold_down
        self.moved_by_probes: tuple[int, float] | None = None
        self.damped = False

    def choose(self, machines: dict[int, TunnelMachine], now: float) -> Decision | None:
        """A new active tunnel and why, or None to stay."""
        current = machines[self.active]
        self.damped = False
        if current.usable:
            return self._failback(machines, now)
        if current.state is State.FAILING and self._flapping(now):
            self.damped = True
            return None
        others = [m for n, m in sorted(machines.items()) if n != self.active]
        others.sort(key=lambda m: m.state is not State.HEALTHY)
        for other in others:
            if other.usable:
                why = f"tunnel {self.active} is {current.state.value}"
                if current.state is State.FAILING:
                    self.moved_by_probes = (other.number, now)
                return self._move(other.number, why)
        return None

    def _flapping(self, now: float) -> bool:
        moved = self.moved_by_probes
        return (
            moved is not None
            and moved[0] == self.active
            and (now - moved[1] < FLAP_WINDOW)
        )

    def _failback(
        self, machines: dict[int, TunnelMachine], now: float
    ) -> Decision | None:
        if self.active == self.primary or self.failback == "never":
            return None
        primary = machines[self.primary]
        since = primary.healthy_since
        held = since is not None and now - since >= self.hold_down
        if primary.state is State.HEALTHY and held:
            return self._move(
                self.primary,
                f"primary healthy for {self.hold_down:g} s (failback hold-down)",
            )
        return None

    def _move(self, number: int, reason: str) -> Decision:
        self.active = number
        return Decision(number, reason)
