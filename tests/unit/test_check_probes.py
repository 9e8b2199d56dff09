"""The pieces of check that need no network: bounded calls, address
classes, health bodies, ICMP packets, connect errors, the MTU search, the
counter deltas."""

from __future__ import annotations

import errno
import socket
import struct
import threading
import time
from ipaddress import IPv4Address, IPv4Network

import pytest

from agent.check import bounded, icmp, mtu, resolve, runner, tcp, web

ZONE = IPv4Network("10.0.0.0/16")


def test_a_stuck_call_is_abandoned_at_the_deadline():
    release = threading.Event()
    start = time.monotonic()
    fast, stuck = bounded.call_all([lambda: 1, lambda: release.wait(30)], 0.2)
    waited = time.monotonic() - start
    release.set()
    assert (fast.done, fast.value) == (True, 1)
    assert (stuck.done, stuck.value, stuck.error) == (False, None, None)
    assert waited < 5  # not the 30 s the stuck call would take


def test_an_exception_is_handed_back_not_raised():
    def boom() -> int:
        raise OSError(errno.ECONNREFUSED, "refused")

    (outcome,) = bounded.call_all([boom], 1)
    assert outcome.done
    assert isinstance(outcome.error, OSError)


@pytest.mark.parametrize(
    ("address", "expected", "kind"),
    [
        ("10.0.151.182", "10.0.151.182", "ok"),
        ("10.0.151.182", None, "ok"),
        ("52.94.1.1", None, "public"),
        ("192.0.2.10", None, "public"),  # TEST-NET: not RFC 1918, not ours
        ("192.168.1.5", None, "outside_zone"),
        ("10.1.0.5", None, "outside_zone"),
        ("10.0.0.9", "10.0.151.182", "mismatch"),
    ],
)
def test_resolved_address_classes(address, expected, kind):
    want = IPv4Address(expected) if expected else None
    assert resolve.classify(IPv4Address(address), ZONE, want) == kind


@pytest.mark.parametrize(
    ("name", "body", "kind"),
    [
        ("apis.dvsum.ai", '{"status":"OK","mode":"privatelink"}', "ok"),
        ("apis.dvsum.ai", '{"mode":"privatelink","status":"OK","v":2}', "ok"),
        ("apis.dvsum.ai", '{"status":"OK"}', "body"),
        ("apis.dvsum.ai", '{"status":"OK","mode":"public"}', "not_privatelink"),
        ("s3-storage.dvsum.ai", '{"status":"OK"}', "ok"),
        ("s3-storage.dvsum.ai", '["OK"]', "body"),
        ("socket-api.dvsum.ai", "OK", "body"),
    ],
)
def test_health_bodies(name, body, kind):
    assert web.body_kind(name, body) == kind


def test_echo_request_makes_a_packet_of_the_size_asked_with_a_valid_checksum():
    packet = icmp.echo_request(0x1234, 7, 1400)
    assert len(packet) + 20 == 1400
    assert struct.unpack("!BBxxHH", packet[:8]) == (8, 0, 0x1234, 7)
    assert icmp.checksum(packet) == 0


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (None, "timeout"),
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
        (OSError(errno.EACCES, "Permission denied"), "error"),
    ],
)
def test_connect_failure_kinds(error, kind):
    assert tcp.failure_kind(error) == kind


def test_tcp_open_and_refused_on_loopback(monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as listening:
        monkeypatch.setattr(tcp, "PORT", listening.getsockname()[1])
        (item,) = tcp.probe([("apis.dvsum.ai", IPv4Address("127.0.0.1"))])
        assert item.kind == "ok"
    (item,) = tcp.probe([("apis.dvsum.ai", IPv4Address("127.0.0.1"))])
    assert item.kind == "refused"
    assert item.detail.endswith("(apis.dvsum.ai): refused (TCP reset)")


class FakePinger:
    """Answers every size up to ``path`` (a path MTU black hole above it)."""

    def __init__(self, path: int) -> None:
        self.path = path
        self.rounds: list[list[int]] = []

    def sizes_answered(self, sizes, timeout):
        self.rounds.append(list(sizes))
        return {s for s in sizes if s <= self.path}


def test_the_largest_size_is_found_in_two_rounds():
    pinger = FakePinger(1326)
    largest = mtu._largest(pinger, 64, 1400)  # type: ignore[arg-type]
    assert len(pinger.rounds) == 2
    assert all(len(sizes) <= mtu.STEPS for sizes in pinger.rounds)
    assert 1326 - 16 <= largest <= 1326


def test_counter_deltas_only_for_the_same_sa():
    before = {"dvsum-tunnel1": {"sa": 4, "bytes_in": 100, "bytes_out": 50,
                                "packets_in": 1, "packets_out": 1},
              "dvsum-tunnel2": {"sa": 5, "bytes_in": 0, "bytes_out": 0,
                                "packets_in": 0, "packets_out": 0}}  # fmt: skip
    after = {"dvsum-tunnel1": {"sa": 4, "bytes_in": 900, "bytes_out": 750,
                               "packets_in": 9, "packets_out": 8},
             "dvsum-tunnel2": {"sa": 6, "bytes_in": 10, "bytes_out": 10,
                               "packets_in": 1, "packets_out": 1}}  # fmt: skip
    assert runner._delta(before, after) == {
        "dvsum-tunnel1": {"bytes_in": 800, "bytes_out": 700, "packets_in": 8,
                          "packets_out": 7},
    }  # fmt: skip
    assert runner._delta(None, after) == {}
