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

# A primary that fails again within FLAP_WINDOW of a failback (its SA looked
# fine, its path did not) doubles the hold-down before the next one, up to
# MAX_HOLD_DOWN; a failback that holds for STABLE seconds resets it.
MAX_HOLD_DOWN = 3600.0
STABLE = 600.0


class Chooser:
    def __init__(self, primary: int, active: int, failback: str, hold_down: float):
        self.primary = primary
        self.active = active
        self.failback = failback
        self.hold_down = hold_down
        self.moved_by_probes: tuple[int, float] | None = None
        self.damped = False
        self.hold_factor = 1
        self.failed_back_at: float | None = None

    @property
    def effective_hold_down(self) -> float:
        return min(self.hold_down * self.hold_factor, MAX_HOLD_DOWN)

    def choose(self, machines: dict[int, TunnelMachine], now: float) -> Decision | None:
        """A new active tunnel and why, or None to stay."""
        current = machines[self.active]
        self.damped = False
        if current.usable:
            back = self.failed_back_at
            if back is not None and now - back >= STABLE:
                self.hold_factor, self.failed_back_at = 1, None
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
                    why += self._penalise(now)
                return self._move(other.number, why)
        return None

    def _penalise(self, now: float) -> str:
        """The primary failed again soon after a failback: hold longer."""
        back = self.failed_back_at
        if self.active != self.primary or back is None or now - back >= FLAP_WINDOW:
            return ""
        self.hold_factor *= 2
        self.failed_back_at = None
        return (
            f" {now - back:.0f} s after failing back; next failback hold-down "
            f"{self.effective_hold_down:g} s"
        )

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
        hold = self.effective_hold_down
        if primary.state is State.HEALTHY and since is not None and now - since >= hold:
            self.failed_back_at = now
            return self._move(
                self.primary, f"primary healthy for {hold:g} s (failback hold-down)"
            )
        return None

    def _move(self, number: int, reason: str) -> Decision:
        self.active = number
        return Decision(number, reason)
