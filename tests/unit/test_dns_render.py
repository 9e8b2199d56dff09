"""The forward's pure half: the text each resolver gets, the commands for
systemd-resolved, and what resolved reports back."""

from __future__ import annotations

import json
from ipaddress import IPv4Address

import pytest

from agent.dns import block, dnsmasq, resolved, unbound
from tests.unit.conftest import golden

RESOLVERS = (IPv4Address("10.0.10.53"), IPv4Address("10.0.20.53"))

# A customer's own dnsmasq.conf, without a final newline.
DNSMASQ_CONF = "# the LAN's resolver\ninterface=lan0\ncache-size=1000"


def test_dnsmasq_file():
    golden(
        "dns-dnsmasq.conf", block.wanted(None, dnsmasq.render("dvsum.ai", RESOLVERS))
    )


def test_unbound_file():
    golden(
        "dns-unbound.conf", block.wanted(None, unbound.render("dvsum.ai", RESOLVERS))
    )


def test_a_file_that_is_not_ours_gets_a_block_and_keeps_every_byte():
    text = block.wanted(DNSMASQ_CONF, dnsmasq.render("dvsum.ai", RESOLVERS))
    golden("dns-dnsmasq-block.conf", text)
    assert block.undone(text) == DNSMASQ_CONF
    crlf = DNSMASQ_CONF.replace("\n", "\r\n")
    merged = block.wanted(crlf, dnsmasq.render("dvsum.ai", RESOLVERS))
    assert block.undone(merged) == crlf


def test_our_own_file_is_removed_whole():
    text = block.wanted(None, unbound.render("dvsum.ai", RESOLVERS))
    assert block.ours(text)
    assert block.undone(text) is None


def test_resolved_gets_a_routing_only_domain_and_no_default_route():
    want = resolved.wanted("dvsum.ai", RESOLVERS)
    assert resolved.commands("dvsum1", want) == [
        ["resolvectl", "dns", "dvsum1", "10.0.10.53", "10.0.20.53"],
        ["resolvectl", "domain", "dvsum1", "~dvsum.ai"],
        ["resolvectl", "default-route", "dvsum1", "false"],
    ]


def _busctl(dns, domains, default_route, scopes):
    values = [("a(iay)", dns), ("a(sb)", domains), ("b", default_route), ("t", scopes)]
    return "".join(json.dumps({"type": t, "data": d}) + "\n" for t, d in values)


def test_resolved_link_settings_are_read_from_busctl_json():
    out = _busctl(
        [[2, [10, 0, 10, 53]], [2, [10, 0, 20, 53]]], [["dvsum.ai", True]], False, 1
    )
    current = resolved.parse(out)
    assert current == resolved.LinkDns(
        ("10.0.10.53", "10.0.20.53"), ("~dvsum.ai",), False, dns_scope=True
    )
    assert resolved.settled(current, resolved.wanted("dvsum.ai", RESOLVERS))
    assert resolved.carries(current, "dvsum.ai")


BOTH = [[2, [10, 0, 10, 53]], [2, [10, 0, 20, 53]]]


@pytest.mark.parametrize(
    "out",
    [
        _busctl(BOTH[:1], [["dvsum.ai", True]], False, 1),  # one server
        _busctl(BOTH, [["dvsum.ai", False]], False, 1),  # a search domain
        _busctl(BOTH, [["dvsum.ai", True]], True, 1),  # a default route
        _busctl([], [], True, 0),  # nothing
    ],
)
def test_a_link_with_other_settings_is_not_settled(out):
    current = resolved.parse(out)
    assert not resolved.settled(current, resolved.wanted("dvsum.ai", RESOLVERS))


def test_link_object_path_escapes_the_leading_digit_like_sd_bus():
    assert resolved.object_path(5) == "/org/freedesktop/resolve1/link/_35"
    assert resolved.object_path(12) == "/org/freedesktop/resolve1/link/_312"
