"""The JSON's ``TunnelOptions`` -> the model's :class:`TunnelOptions`.

Options are matched to the XML's tunnels by outside address, never by
position.  This is the shape layer: values must be what AWS's API allows
(``ikev1``/``ikev2``, lifetimes in AWS's ranges, actions AWS knows).
Algorithm names are only checked to look like AWS's (``AES128-GCM-16``);
which of them strongSwan and DvSum accept is :mod:`agent.requirements`'s
business.  A pre-shared key the XML lacks is taken from here; one that
differs from the XML's is a problem, named without showing either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from agent.model import TunnelOptions
from agent.psk import psk_problem
from agent.sources.raw import RawTunnel

Note = Callable[[str, str], None]

IKE_VERSIONS = ("ikev1", "ikev2")
DPD_TIMEOUT_ACTIONS = ("clear", "none", "restart")
STARTUP_ACTIONS = ("add", "start")
LINK_LOCAL = IPv4Network("169.254.0.0/16")

# AWS's constraints on each number (ModifyVpnTunnelOptions).
RANGES = {
    "phase1_lifetime_seconds": (900, 28800),
    "phase2_lifetime_seconds": (900, 3600),
    "rekey_margin_time_seconds": (60, 1800),
    "rekey_fuzz_percentage": (0, 100),
    "replay_window_size": (64, 2048),
    "dpd_timeout_seconds": (30, 2**31 - 1),
}

_ALGORITHM = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
_NUMBER = re.compile(r"[0-9]{1,9}")


def read(
    raw_options: Any,
    tunnels: Sequence[tuple[str, IPv4Address | None, RawTunnel]],
    note: Note,
) -> dict[int, TunnelOptions]:
    """Options by tunnel index; ``tunnels`` holds each tunnel's path prefix,
    AWS outside address (None when invalid) and RAW."""
    if not isinstance(raw_options, list):
        return {}
    if len(raw_options) > len(tunnels) + 8:
        note("tunnel_options", f"expected one per tunnel, found {len(raw_options)}")
        return {}
    by_address = {
        address: index
        for index, (_, address, _) in enumerate(tunnels)
        if address is not None
    }
    known = ", ".join(str(a) for a in by_address) or "none"
    found: dict[int, TunnelOptions] = {}
    for position, item in enumerate(raw_options):
        where = f"tunnel_options[{position}].outside_ip_address"
        value = item.get("outside_ip_address") if isinstance(item, dict) else None
        if value is None:
            note(where, "missing: options are matched to tunnels by it")
            continue
        try:
            address = IPv4Address(str(value).strip())
        except ValueError:
            note(where, f"expected an IPv4 address, got {value!r}")
            continue
        index = by_address.get(address)
        if index is None:
            note(where, f"{address} names no tunnel of the XML ({known})")
        elif index in found:
            note(where, f"{address} has options twice")
        else:
            prefix, _, raw_tunnel = tunnels[index]
            found[index] = _Reader(f"{prefix}options.", note).options(item, raw_tunnel)
    return found


class _Reader:
    def __init__(self, prefix: str, note: Note) -> None:
        self.prefix = prefix
        self._note = note

    def note(self, key: str, message: str) -> None:
        self._note(self.prefix + key, message)

    def options(self, item: dict[str, Any], raw_tunnel: RawTunnel) -> TunnelOptions:
        self.psk(item.get("pre_shared_key"), raw_tunnel)
        self.inside(item, raw_tunnel)
        return TunnelOptions(
            ike_versions=self.choices(item, "ike_versions", IKE_VERSIONS),
            phase1_encryption_algorithms=self.names(
                item, "phase1_encryption_algorithms"
            ),
            phase1_integrity_algorithms=self.names(item, "phase1_integrity_algorithms"),
            phase1_dh_group_numbers=self.numbers(item, "phase1_dh_group_numbers"),
            phase2_encryption_algorithms=self.names(
                item, "phase2_encryption_algorithms"
            ),
            phase2_integrity_algorithms=self.names(item, "phase2_integrity_algorithms"),
            phase2_dh_group_numbers=self.numbers(item, "phase2_dh_group_numbers"),
            phase1_lifetime_seconds=self.integer(item, "phase1_lifetime_seconds"),
            phase2_lifetime_seconds=self.integer(item, "phase2_lifetime_seconds"),
            rekey_margin_time_seconds=self.integer(item, "rekey_margin_time_seconds"),
            rekey_fuzz_percentage=self.integer(item, "rekey_fuzz_percentage"),
            replay_window_size=self.integer(item, "replay_window_size"),
            dpd_timeout_seconds=self.integer(item, "dpd_timeout_seconds"),
            dpd_timeout_action=self.choice(
                item, "dpd_timeout_action", DPD_TIMEOUT_ACTIONS
            ),
            startup_action=self.choice(item, "startup_action", STARTUP_ACTIONS),
            tunnel_inside_cidr=self.inside_cidr(item),
        )

    def values(self, item: dict[str, Any], key: str) -> list[str] | None:
        value = item.get(key)
        if not value:
            return None  # absent or empty: AWS's default
        if not isinstance(value, list):
            self.note(key, f"expected a list of values, got {value!r}")
            return None
        return [str(v).strip() for v in value]

    def choices(
        self, item: dict[str, Any], key: str, allowed: tuple[str, ...]
    ) -> tuple[str, ...] | None:
        values = self.values(item, key)
        if values is None:
            return None
        out = []
        for value in values:
            if value.lower() in allowed:
                out.append(value.lower())
            else:
                self.note(key, f"expected {' or '.join(allowed)}, got {value!r}")
        return tuple(out)

    def names(self, item: dict[str, Any], key: str) -> tuple[str, ...] | None:
        values = self.values(item, key)
        if values is None:
            return None
        out = []
        for value in values:
            if _ALGORITHM.fullmatch(value.upper()):
                out.append(value.upper())
            else:
                self.note(key, f"expected an AWS algorithm name, got {value!r}")
        return tuple(out)

    def numbers(self, item: dict[str, Any], key: str) -> tuple[int, ...] | None:
        values = self.values(item, key)
        if values is None:
            return None
        out = []
        for value in values:
            if _NUMBER.fullmatch(value):
                out.append(int(value))
            else:
                self.note(key, f"expected a DH group number, got {value!r}")
        return tuple(out)

    def integer(self, item: dict[str, Any], key: str) -> int | None:
        value = item.get(key)
        if value is None:
            return None
        low, high = RANGES[key]
        text = str(value).strip()
        if not _NUMBER.fullmatch(text):
            self.note(key, f"expected {low} to {high}, got {value!r}")
            return None
        number = int(text)
        if not low <= number <= high:
            self.note(key, f"expected {low} to {high}, got {number}")
            return None
        return number

    def choice(
        self, item: dict[str, Any], key: str, allowed: tuple[str, ...]
    ) -> str | None:
        value = item.get(key)
        if value is None:
            return None
        text = str(value).strip().lower()
        if text not in allowed:
            self.note(key, f"expected {', '.join(allowed)}, got {value!r}")
            return None
        return text

    def inside_cidr(self, item: dict[str, Any]) -> IPv4Network | None:
        value = item.get("tunnel_inside_cidr")
        if value is None:
            return None
        try:
            network = IPv4Network(str(value).strip())
        except ValueError:
            self.note("tunnel_inside_cidr", f"expected a /30 CIDR, got {value!r}")
            return None
        if network.prefixlen != 30 or not network.subnet_of(LINK_LOCAL):
            self.note(
                "tunnel_inside_cidr", f"expected a /30 in {LINK_LOCAL}, got {network}"
            )
            return None
        return network

    def inside(self, item: dict[str, Any], raw_tunnel: RawTunnel) -> None:
        """The XML's inside addresses must lie in the JSON's inside CIDRs."""
        pairs = (
            ("tunnel_inside_cidr", "customer_inside_address", IPv4Network, IPv4Address),
            (
                "tunnel_inside_ipv6_cidr",
                "customer_inside_ipv6_address",
                IPv6Network,
                IPv6Address,
            ),
        )
        for key, raw_key, network_type, address_type in pairs:
            cidr, address = item.get(key), raw_tunnel.get(raw_key)
            if cidr is None or address is None:
                continue
            try:
                network = network_type(str(cidr).strip())
                inside = address_type(str(address).strip())
            except ValueError:
                continue  # each is reported on its own
            if inside not in network:
                self.note(key, f"{network} does not hold the XML's {raw_key} {inside}")

    def psk(self, value: Any, raw_tunnel: RawTunnel) -> None:
        if value is None:
            return
        text = str(value)
        problem = psk_problem(text)
        if problem:
            self.note("pre_shared_key", problem)
        elif raw_tunnel.get("psk") is None:
            raw_tunnel["psk"] = text
        elif raw_tunnel["psk"] != text:
            self.note(
                "pre_shared_key",
                "differs from the XML's pre_shared_key for this tunnel: the JSON "
                "contradicts itself, ask DvSum for a fresh copy",
            )
