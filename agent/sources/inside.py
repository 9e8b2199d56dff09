"""The tunnels' inside addresses: where the IPsec tunnel's own ends live.

Each tunnel has a /30 in 169.254.0.0/16, outside the /30s AWS reserves,
whose two hosts are the customer's and AWS's ends; the BGP neighbour and
the static next hop, when printed, are AWS's end.  Some transit gateway
tunnels also have a /126 of IPv6 inside addresses next to the IPv4 ones.
"""

from __future__ import annotations

from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
)
from typing import Protocol

from agent.sources.raw import RawTunnel


class Reader(Protocol):
    """What a tunnel reader offers: its RAW, typed addresses, a way to note."""

    raw: RawTunnel

    def address(reader, key: str, required: bool = True) -> IPv4Address | None: ...

    def note(reader, key: str, message: str) -> None: ...


LINK_LOCAL = IPv4Network("169.254.0.0/16")
INSIDE_PREFIX = 30
INSIDE_IPV6_PREFIX = 126
# Inside CIDRs AWS refuses: the first six /30s and the one by the metadata
# address.
RESERVED = tuple(
    IPv4Network(cidr)
    for cidr in (
        "169.254.0.0/30",
        "169.254.1.0/30",
        "169.254.2.0/30",
        "169.254.3.0/30",
        "169.254.4.0/30",
        "169.254.5.0/30",
        "169.254.169.252/30",
    )
)


def ipv4(reader: Reader) -> tuple[IPv4Interface | None, IPv4Address | None]:
    """The customer's end with its /30, and AWS's end, each problem noted."""
    customer = reader.address("customer_inside_address")
    neighbor = reader.address("bgp_neighbor", required=False)
    next_hop = reader.address("next_hop", required=False)
    aws: IPv4Address | None
    if reader.raw.get("aws_inside_address") is None and neighbor is not None:
        aws = neighbor
    else:
        aws = reader.address("aws_inside_address")
    for key, other in (("bgp_neighbor", neighbor), ("next_hop", next_hop)):
        if other is not None and aws is not None and other != aws:
            reader.note(key, f"{other} is not the AWS inside address {aws}")
    prefix = _prefix(reader)
    if customer is None or prefix is None:
        return None, aws
    inside = IPv4Interface(f"{customer}/{prefix}")
    _check(reader, "customer_inside_address", customer, inside.network)
    if aws is not None:
        _check(reader, "aws_inside_address", aws, inside.network, customer)
    return inside, aws


def _prefix(reader: Reader) -> int | None:
    value = reader.raw.get("customer_inside_prefix")
    if value is None:
        return INSIDE_PREFIX
    text = str(value).strip()
    try:
        prefix = IPv4Network(f"0.0.0.0/{text}").prefixlen
    except ValueError:
        prefix = None
    if prefix != INSIDE_PREFIX:
        reader.note("customer_inside_prefix", f"expected a /30, got {value!r}")
        return None
    return prefix


def _check(
    reader: Reader,
    key: str,
    address: IPv4Address,
    net: IPv4Network,
    customer: IPv4Address | None = None,
) -> None:
    """Note what is wrong with an inside address of the /30 ``net``.

    ``customer`` is given for the AWS end, which must share the
    customer's /30 (whose reservation is then reported once, there).
    """
    if address not in LINK_LOCAL:
        reader.note(key, f"{address} is not in {LINK_LOCAL}")
    elif customer is None and net in RESERVED:
        reader.note(key, f"{address} is in {net}, which AWS reserves")
    elif customer is not None and customer in LINK_LOCAL and address not in net:
        reader.note(key, f"{address} is not in the customer's {net}")
    elif address == customer:
        reader.note(key, "the same as the customer inside address")
    elif address in (net.network_address, net.broadcast_address):
        reader.note(key, f"{address} is the network or broadcast address of {net}")


def ipv6(reader: Reader) -> tuple[IPv6Interface | None, IPv6Address | None]:
    """The IPv6 inside addresses some transit gateway tunnels also have:
    a /126 shared by both ends."""
    customer = reader.raw.get("customer_inside_ipv6_address")
    aws = reader.raw.get("aws_inside_ipv6_address")
    if customer is None and aws is None:
        return None, None
    prefix = str(reader.raw.get("customer_inside_ipv6_prefix", INSIDE_IPV6_PREFIX))
    try:
        inside = IPv6Interface(f"{str(customer).strip()}/{prefix.strip()}")
    except ValueError:
        reader.note(
            "customer_inside_ipv6_address",
            f"expected an IPv6 address and /{INSIDE_IPV6_PREFIX}, got "
            f"{customer!r} and {prefix!r}",
        )
        return None, None
    if inside.network.prefixlen != INSIDE_IPV6_PREFIX:
        reader.note(
            "customer_inside_ipv6_prefix",
            f"expected a /{INSIDE_IPV6_PREFIX}, got {prefix!r}",
        )
        return None, None
    try:
        aws_address = IPv6Address(str(aws).strip())
    except ValueError:
        reader.note("aws_inside_ipv6_address", f"expected an IPv6 address, got {aws!r}")
        return None, None
    if aws_address not in inside.network or aws_address == inside.ip:
        reader.note(
            "aws_inside_ipv6_address",
            f"{aws_address} is not the other end of the customer's {inside.network}",
        )
        return None, None
    return inside, aws_address
