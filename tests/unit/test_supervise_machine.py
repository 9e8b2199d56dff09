"""The supervisor's pure parts: tunnel state machine, choice, backoff."""

from __future__ import annotations

import pytest

from agent.supervise.backoff import Backoff
from agent.supervise.choice import FLAP_WINDOW, STABLE, Chooser
from agent.supervise.machine import (
    ALLOWED,
    IllegalTransition,
    Sa,
    State,
    TunnelMachine,
)


def machine(state: State = State.DOWN, fall: int = 3, rise: int = 3) -> TunnelMachine:
    m = TunnelMachine(1, fall, rise)
    m.state = state
    return m


def healthy(number: int, since: float = 0.0) -> TunnelMachine:
    m = TunnelMachine(number, 3, 3)
    m.state, m.healthy_since = State.HEALTHY, since
    return m


def with_state(number: int, state: State) -> TunnelMachine:
    m = TunnelMachine(number, 3, 3)
    m.state = state
    return m


def test_down_connecting_up_healthy_by_probes() -> None:
    m = machine()
    t = m.step(Sa.CONNECTING, None, True, 1.0)
    assert t is not None and (t.old, t.new) == (State.DOWN, State.CONNECTING)
    t = m.step(Sa.INSTALLED, None, True, 2.0)
    assert t is not None and t.new is State.UP
    assert m.step(Sa.INSTALLED, None, True, 2.1) is None  # no probe: no evidence
    assert m.step(Sa.INSTALLED, True, True, 2.5) is None
    assert m.step(Sa.INSTALLED, True, True, 3.0) is None
    t = m.step(Sa.INSTALLED, True, True, 3.5)
    assert t is not None and t.new is State.HEALTHY and m.healthy_since == 3.5


def test_unprobed_tunnel_becomes_healthy_when_its_sa_stays_up() -> None:
    m = machine(State.UP)
    for at in (1.0, 2.0):
        assert m.step(Sa.INSTALLED, None, False, at) is None
    t = m.step(Sa.INSTALLED, None, False, 3.0)
    assert t is not None and t.new is State.HEALTHY and "SA stayed up" in t.reason


def test_fall_failed_probes_in_a_row_make_it_failing() -> None:
    m = machine(State.HEALTHY)
    assert m.step(Sa.INSTALLED, False, True, 1.0) is None
    assert m.step(Sa.INSTALLED, False, True, 1.5) is None
    t = m.step(Sa.INSTALLED, False, True, 2.0)
    assert t is not None and t.new is State.FAILING and "3 failed" in t.reason


def test_a_good_probe_resets_the_fall_count() -> None:
    m = machine(State.HEALTHY)
    for ok in (False, False, True, False, False):
        assert m.step(Sa.INSTALLED, ok, True, 1.0) is None
    assert m.state is State.HEALTHY


def test_failing_recovers_on_an_answered_probe_and_ends_when_the_sa_goes() -> None:
    m = machine(State.FAILING)
    assert m.step(Sa.INSTALLED, False, True, 1.0) is None
    t = m.step(Sa.INSTALLED, True, True, 2.0)
    assert t is not None and t.new is State.UP
    m.state = State.FAILING
    t = m.step(Sa.NONE, None, True, 3.0)
    assert t is not None and t.new is State.DOWN


def test_sa_gone_from_any_state_is_down() -> None:
    for state in (State.CONNECTING, State.UP, State.HEALTHY, State.FAILING):
        t = machine(state).step(Sa.NONE, None, True, 1.0)
        assert t is not None and t.new is State.DOWN


def test_transitions_outside_the_table_are_refused() -> None:
    m = machine(State.DOWN)
    with pytest.raises(IllegalTransition):
        m._go(State.HEALTHY, "skipping UP", 1.0)
    for state, targets in ALLOWED.items():
        assert state not in targets


def test_chooser_stays_on_a_usable_active_tunnel() -> None:
    chooser = Chooser(primary=1, active=1, failback="hold-down", hold_down=60)
    machines = {1: with_state(1, State.UP), 2: healthy(2)}
    assert chooser.choose(machines, 10.0) is None


def test_chooser_fails_over_to_a_healthy_tunnel_first() -> None:
    chooser = Chooser(primary=1, active=1, failback="hold-down", hold_down=60)
    machines = {1: with_state(1, State.FAILING), 2: healthy(2)}
    decision = chooser.choose(machines, 10.0)
    assert decision is not None and decision.active == 2
    assert "tunnel 1 is failing" in decision.reason


def test_chooser_takes_an_up_tunnel_when_nothing_is_healthy() -> None:
    chooser = Chooser(primary=1, active=1, failback="hold-down", hold_down=60)
    machines = {1: with_state(1, State.DOWN), 2: with_state(2, State.UP)}
    decision = chooser.choose(machines, 10.0)
    assert decision is not None and decision.active == 2


def test_chooser_keeps_a_dead_active_when_the_other_is_dead_too() -> None:
    chooser = Chooser(primary=1, active=1, failback="hold-down", hold_down=60)
    machines = {1: with_state(1, State.FAILING), 2: with_state(2, State.CONNECTING)}
    assert chooser.choose(machines, 10.0) is None


def test_failback_waits_for_the_hold_down() -> None:
    chooser = Chooser(primary=1, active=2, failback="hold-down", hold_down=30)
    machines = {1: healthy(1, since=100.0), 2: healthy(2)}
    assert chooser.choose(machines, 129.9) is None
    decision = chooser.choose(machines, 130.0)
    assert decision is not None and decision.active == 1
    assert "hold-down" in decision.reason


def test_failback_never_stays_on_the_standby() -> None:
    chooser = Chooser(primary=1, active=2, failback="never", hold_down=0)
    machines = {1: healthy(1, since=0.0), 2: healthy(2)}
    assert chooser.choose(machines, 1e6) is None


def test_probes_failing_on_both_tunnels_in_turn_do_not_ping_pong() -> None:
    chooser = Chooser(primary=1, active=1, failback="hold-down", hold_down=5)
    machines = {1: with_state(1, State.FAILING), 2: healthy(2)}
    decision = chooser.choose(machines, 10.0)
    assert decision is not None and decision.active == 2
    machines = {1: healthy(1), 2: with_state(2, State.FAILING)}
    assert chooser.choose(machines, 12.0) is None and chooser.damped
    later = chooser.choose(machines, 10.0 + FLAP_WINDOW)
    assert later is not None and later.active == 1


def test_a_tunnel_that_went_down_moves_traffic_even_right_after_a_probe_move() -> None:
    chooser = Chooser(primary=1, active=1, failback="hold-down", hold_down=5)
    chooser.choose({1: with_state(1, State.FAILING), 2: healthy(2)}, 10.0)
    decision = chooser.choose({1: healthy(1), 2: with_state(2, State.DOWN)}, 11.0)
    assert decision is not None and decision.active == 1


def test_backoff_first_at_once_then_doubling_to_a_cap() -> None:
    backoff = Backoff(first=1.0, cap=8.0)
    assert backoff.due(0.0)
    delays = [backoff.tried(0.0) for _ in range(6)]
    assert delays == [1.0, 1.0, 2.0, 4.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.due(0.0) and backoff.attempts == 0


def test_a_primary_failing_again_soon_after_failback_doubles_the_hold_down() -> None:
    chooser = Chooser(primary=1, active=2, failback="hold-down", hold_down=60)
    machines = {1: healthy(1, since=0.0), 2: healthy(2)}
    assert chooser.choose(machines, 60.0) is not None  # failback at 60 s
    machines = {1: with_state(1, State.FAILING), 2: healthy(2)}
    decision = chooser.choose(machines, 63.0)
    assert decision is not None and decision.active == 2
    assert "next failback hold-down 120 s" in decision.reason
    machines = {1: healthy(1, since=70.0), 2: healthy(2)}
    assert chooser.choose(machines, 70.0 + 119) is None
    decision = chooser.choose(machines, 70.0 + 120)
    assert decision is not None and decision.active == 1


def test_a_failback_that_holds_resets_the_hold_down() -> None:
    chooser = Chooser(primary=1, active=2, failback="hold-down", hold_down=60)
    chooser.hold_factor, chooser.failed_back_at = 4, None
    machines = {1: healthy(1, since=0.0), 2: healthy(2)}
    assert chooser.choose(machines, 240.0) is not None
    assert chooser.choose(machines, 240.0 + STABLE) is None
    assert chooser.effective_hold_down == 60
