"""The RAW shape every layout parser fills, and the text helpers they share.

A parser only reads: it turns a file into a plain dict of strings and
checks nothing.  :mod:`agent.sources.build` validates it.

``{"vpn_connection_id": str | None, "routing": "static" | "bgp",
"customer_asn": str | None, "tunnels": [RawTunnel, ...]}``, tunnels in file
order, and optionally ``"tunnel_options"`` (the JSON's ``TunnelOptions``, a
list of RawOptions) and ``"lines"`` (key -> line of the connection-level
keys).

A RawTunnel holds the keys in ``TUNNEL_KEYS``, each absent when the file
does not say it; every value is a string except ``ike_dh_groups`` and
``esp_dh_groups`` (lists of strings as printed), ``line`` (an int: the
1-based line where the tunnel starts) and ``lines`` (key -> the 1-based
line the key was read from), both present when the layout makes them
cheap.  ``bgp_neighbor`` is the BGP neighbour and ``next_hop`` the static
next hop, when the file prints them apart from the AWS inside address.

A RawOptions holds ``OPTION_KEYS`` (AWS's ``TunnelOptions`` names in
snake_case): strings, or lists of strings for the algorithm lists.
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
    "customer_inside_ipv6_address",
    "customer_inside_ipv6_prefix",
    "aws_inside_ipv6_address",
    "bgp_neighbor",
    "next_hop",
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

# TunnelOptions fields: lists of values, then single values.
OPTION_LISTS = (
    "ike_versions",
    "phase1_encryption_algorithms",
    "phase1_integrity_algorithms",
    "phase1_dh_group_numbers",
    "phase2_encryption_algorithms",
    "phase2_integrity_algorithms",
    "phase2_dh_group_numbers",
)
OPTION_VALUES = (
    "outside_ip_address",
    "tunnel_inside_cidr",
    "tunnel_inside_ipv6_cidr",
    "pre_shared_key",
    "phase1_lifetime_seconds",
    "phase2_lifetime_seconds",
    "rekey_margin_time_seconds",
    "rekey_fuzz_percentage",
    "replay_window_size",
    "dpd_timeout_seconds",
    "dpd_timeout_action",
    "startup_action",
)
OPTION_KEYS = OPTION_LISTS + OPTION_VALUES

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
    An IPv6 address (AWS prints those next to the IPv4 ones for some
    transit gateway connections) goes to the ``*_inside_ipv6_*`` keys.
    """
    address, _, prefix = value.strip().partition("/")
    kind = "inside_ipv6" if ":" in address else "inside"
    tunnel[f"{side}_{kind}_address"] = address.strip()
    if side == "customer" and prefix:
        tunnel[f"customer_{kind}_prefix"] = prefix.strip()


def line_of(text: str, offset: int) -> int:
    """The 1-based line holding character ``offset`` of ``text``."""
    return text.count("\n", 0, offset) + 1


def is_placeholder(value: str) -> bool:
    """``<provided securely — not in this file>`` and the like."""
    value = value.strip()
    return not value or (value.startswith("<") and value.endswith(">"))


class LineTracker:
    """Remembers on which line each key of a RAW dict was last set.

    ``before`` snapshots the dict; ``after`` records ``lineno`` for every
    key that was added or changed since, in the dict's ``lines``.
    """

    def __init__(self, target: dict[str, Any]) -> None:
        self.target = target
        self.snapshot: dict[str, Any] = {}

    def before(self) -> None:
        self.snapshot = dict(self.target)

    def after(self, lineno: int) -> None:
        changed = [
            key
            for key, value in self.target.items()
            if key not in ("line", "lines", "tunnels")
            and (key not in self.snapshot or self.snapshot[key] is not value)
        ]
        if changed:
            lines = self.target.setdefault("lines", {})
            for key in changed:
                lines[key] = lineno


def open_tunnel(raw: Raw, lineno: int) -> tuple[RawTunnel, LineTracker]:
    """Start the next tunnel at ``lineno``: its RAW dict and line tracker."""
    tunnel: RawTunnel = {"line": lineno}
    raw["tunnels"].append(tunnel)
    return tunnel, LineTracker(tunnel)
