"""The lab's tunnel path, proven without the agent (tests/lab/selftest.py).

A throwaway customer configuration brings both tunnels up through the NAT;
HTTPS from the gateway and from the LAN host reaches the landing zone, and
the replies come back through whichever tunnel set_return_tunnel() chose.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.lab import probes, selftest
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

BODY = '{"status":"OK","mode":"privatelink"}'


@pytest.fixture(scope="module")
def tunnels(lab: Lab) -> Iterator[Lab]:
    selftest.start(lab)
    try:
        yield lab
    finally:
        selftest.stop(lab)


def test_both_tunnels_are_up_behind_nat(tunnels: Lab) -> None:
    for number in (1, 2):
        (sa,) = tunnels.aws_sas(number)
        (ike,) = sa.values()
        assert ike["state"] == "ESTABLISHED"
        # The AWS side sees the NAT's public address, on the NAT-T port.
        assert ike["remote-host"] == "198.51.100.20"
        assert ike["remote-port"] == "4500"
        assert ike["remote-id"] == "198.51.100.20"
        assert ike["dh-group"] == "MODP_2048"


def test_aws_accepts_the_narrowed_primary(tunnels: Lab) -> None:
    (primary,) = probes.child_sas(tunnels, 1)
    assert primary["local-ts"] == ["10.0.0.0/16"]
    assert primary["remote-ts"] == ["192.168.10.0/24"]
    (standby,) = probes.child_sas(tunnels, 2)
    assert standby["local-ts"] == ["0.0.0.0/0"]
    assert standby["remote-ts"] == ["0.0.0.0/0"]


@pytest.mark.parametrize("ns", ["cgw", "lan"])
@pytest.mark.parametrize("number", [1, 2])
def test_health_check_through_the_tunnel(tunnels: Lab, ns: str, number: int) -> None:
    lab = tunnels
    lab.set_return_tunnel(number)
    other = 3 - number
    before = _return_counters(lab)
    sent_before = _aws_bytes(lab, 1, "bytes-in")

    reply = probes.https_get(lab, ns, "apis.dvsum.ai")

    assert (reply.status, reply.body) == (200, BODY)
    after = _return_counters(lab)
    assert after[number] > before[number], "no reply left through the chosen tunnel"
    assert after[other] == before[other], "a reply left through the other tunnel"
    # The customer side sends through the primary (narrower selectors).
    _eventually(lambda: _aws_bytes(lab, 1, "bytes-in") > sent_before)
    lab.set_return_tunnel(1)


def test_only_esp_in_udp_crosses_the_internet(tunnels: Lab) -> None:
    lines = probes.capture(
        tunnels,
        "nat",
        "out0",
        lambda: probes.https_get(tunnels, "lan", "apis.dvsum.ai"),
    )
    assert any("UDP-encap: ESP" in line for line in lines), lines
    inner = [line for line in lines if "10.0." in line or "192.168.10." in line]
    assert inner == []


def _return_counters(lab: Lab) -> dict[int, int]:
    """Packets the landing zone sent towards each AWS endpoint."""
    return {n: probes.tx_packets(lab, "lz", f"aws{n}") for n in (1, 2)}


def _aws_bytes(lab: Lab, number: int, key: str) -> int:
    return sum(int(child[key]) for child in probes.child_sas(lab, number))


def _eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
