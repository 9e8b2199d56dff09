"""The agent when something outside it is wrong: a silent AWS endpoint, an
operator's own route to the landing zone."""

from __future__ import annotations

import json
import time

import pytest

from tests.lab.agent_run import agent, bring_up, take_down
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

DROP_IKE = (
    "table inet lab_silence { chain c { type filter hook prerouting "
    "priority -300; udp dport { 500, 4500 } drop; }; }"
)


def test_one_silent_endpoint_times_out_with_6_and_the_other_carries(lab: Lab) -> None:
    lab.exec("aws2", "nft", DROP_IKE)
    try:
        start = time.monotonic()
        done = bring_up(lab, timeout=5)
        elapsed = time.monotonic() - start
        assert done.returncode == 6, done.stderr
        assert elapsed < 20, elapsed
        assert "not established after 5 s: dvsum-tunnel2" in done.stderr
        status = json.loads(agent(lab, "status", "--json").stdout)
        assert status["active"] == "dvsum-tunnel1"
        assert status["route"]["present"] is True
        # down is what one runs when a peer is dead: it must still succeed.
        done = agent(lab, "down")
        assert done.returncode == 0, done.stderr
    finally:
        lab.exec("aws2", "nft", "delete", "table", "inet", "lab_silence")
        take_down(lab)


def test_an_operators_own_route_is_never_replaced(lab: Lab) -> None:
    lab.exec("cgw", "ip", "route", "add", "10.0.0.0/16", "via", "192.168.10.20")
    try:
        done = bring_up(lab, timeout=10)
        assert done.returncode == 5, done.stderr
        assert "10.0.0.0/16 already has a route that dvsum-vpn did not make" in (
            done.stderr
        )
        route = lab.exec("cgw", "ip", "route", "show", "10.0.0.0/16").stdout
        assert route.startswith("10.0.0.0/16 via 192.168.10.20")
        agent(lab, "down")
        route = lab.exec("cgw", "ip", "route", "show", "10.0.0.0/16").stdout
        assert route.startswith("10.0.0.0/16 via 192.168.10.20")
    finally:
        lab.exec("cgw", "ip", "route", "del", "10.0.0.0/16", check=False)
        take_down(lab)
