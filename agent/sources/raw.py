"""The RAW shape every layout parser fills, and the text helpers they share.

A parser only reads: it turns a file into a plain dict of strings and
checks nothing.  :mod:`agent.sources.build` validates it.

``{"vpn_connection_id": str | None, "routing": "static" | "bgp",
"customer_asn": str | None, "tunnels": [RawTunnel, ...]}``, tunnels in file
order.  A RawTunnel holds the keys in ``TUNNEL_KEYS``, each absent when the
file does not say it; every value is a string except ``ike_dh_groups`` and
``esp_dh_groups`` (lists of strings as printed) and ``line`` (an int: the
1-based line where the tunnel starts, when the layout makes it cheap).
``bgp_neighbor`` is the BGP neighbour, when the file prints it apart from
the VGW's inside address.
"""

from __future__ import annotations

import re
from typing import Any

Raw = dict[str, Any]
RawTunnel = dict[str, Any]

# Keys whose printed value is a number (labels sometimes add units).
NUMBER_KEYS = frozenset(
    {"ike_lifetime", "esp_lifetime", "dpd_delay", "dpd_retries", "mss", "mtu",
     "aws_asn", "bgp_hold_time"}
)  # fmt: skip

TUNNEL_KEYS = (
    "aws_outside_address",
    "customer_outside_address",
    "customer_inside_address",
    "customer_inside_prefix",
    "aws_inside_address",
    "bgp_neighbor",
    "psk",
    "aws_asn",
    "bgp_hold_time",
    "ike_version",
    "ike_encryption",
    "ike_integrity",
    "ike_dh_groups",
    "ike_lifetime",
    "esp_encryption",
    "esp_integrity",
    "esp_dh_groups",
    "esp_lifetime",
    "dpd_delay",
    "dpd_retries",
    "mtu",
    "mss",
)

_UNIT = re.compile(r"(\d+)\s*(?:seconds?|secs?|s|bytes?)?(?:\s*\(.*\))?", re.I)


def new_raw() -> Raw:
    return {
        "vpn_connection_id": None,
        "routing": "static",
        "customer_asn": None,
        "tunnels": [],
    }


def label(text: str) -> str:
    """A printed label, normalised: lower case, no "(...)", single spaces."""
    text = re.sub(r"\(.*?\)", " ", text)
    return " ".join(text.lower().split())


def number(value: str) -> str:
    """``"28800 seconds (8 hours)"`` -> ``"28800"``; anything else unchanged."""
    match = _UNIT.fullmatch(value.strip())
    return match.group(1) if match else value.strip()


def put_inside(tunnel: RawTunnel, side: str, value: str) -> None:
    """Store an inside address printed as ``169.254.88.2/30`` for ``side``.

    ``side`` is ``"customer"`` or ``"aws"``; only the customer's prefix is
    kept, since build checks the AWS address lies in the customer's /30.
    """
    address, _, prefix = value.strip().partition("/")
    tunnel[f"{side}_inside_address"] = address.strip()
    if side == "customer" and prefix:
        tunnel["customer_inside_prefix"] = prefix.strip()


def line_of(text: str, offset: int) -> int:
    """The 1-based line holding character ``offset`` of ``text``."""
    return text.count("\n", 0, offset) + 1


def is_placeholder(value: str) -> bool:
    """``<provided securely — not in this file>`` and the like."""
    value = value.strip()
    return not value or (value.startswith("<") and value.endswith(">"))
