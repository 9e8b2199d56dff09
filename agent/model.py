"""The desired-state model every input format is normalised into.

An AWS configuration file, whatever its layout, becomes one ``Connection``
of ``Tunnel``s keyed by the AWS outside address.  Every backend reads only
these frozen dataclasses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
)
from typing import Any

from agent.secret import Secret


class Routing(enum.StrEnum):
    STATIC = "static"
    BGP = "bgp"


@dataclass(frozen=True)
class Printed:
    """Algorithms and timers as the AWS file printed them (None: not said).

    AWS's text and XML downloads print the account defaults (IKEv1 when
    downloaded that way, DH group 2) whatever the tunnel really allows, so
    these values are facts about the file, not requirements.
    """

    ike_version: int | None = None
    ike_encryption: str | None = None
    ike_integrity: str | None = None
    ike_dh_groups: tuple[int, ...] = ()
    ike_lifetime: int | None = None
    esp_encryption: str | None = None
    esp_integrity: str | None = None
    esp_dh_groups: tuple[int, ...] = ()
    esp_lifetime: int | None = None
    dpd_delay: int | None = None
    dpd_retries: int | None = None
    mtu: int | None = None
    mss: int | None = None


@dataclass(frozen=True)
class TunnelOptions:
    """The tunnel's real options, from ``describe-vpn-connections`` JSON.

    Named as AWS's ``TunnelOptions`` fields (snake_case); algorithm lists
    keep AWS's values (``AES128``, ``SHA2-256``, ``ikev2``).  None means
    the JSON did not say, which for AWS means its default.  Unlike
    :class:`Printed`, these are what AWS's side of the tunnel accepts.
    """

    ike_versions: tuple[str, ...] | None = None
    phase1_encryption_algorithms: tuple[str, ...] | None = None
    phase1_integrity_algorithms: tuple[str, ...] | None = None
    phase1_dh_group_numbers: tuple[int, ...] | None = None
    phase2_encryption_algorithms: tuple[str, ...] | None = None
    phase2_integrity_algorithms: tuple[str, ...] | None = None
    phase2_dh_group_numbers: tuple[int, ...] | None = None
    phase1_lifetime_seconds: int | None = None
    phase2_lifetime_seconds: int | None = None
    rekey_margin_time_seconds: int | None = None
    rekey_fuzz_percentage: int | None = None
    replay_window_size: int | None = None
    dpd_timeout_seconds: int | None = None
    dpd_timeout_action: str | None = None
    startup_action: str | None = None
    tunnel_inside_cidr: IPv4Network | None = None


@dataclass(frozen=True)
class Tunnel:
    aws_outside_address: IPv4Address
    customer_outside_address: IPv4Address
    customer_inside_cidr: IPv4Interface
    aws_inside_address: IPv4Address
    psk: Secret | None = field(default=None, compare=False)
    aws_asn: int | None = None
    bgp_hold_time: int | None = None
    printed: Printed = Printed()
    # Optional facts some layouts carry; not part of the public JSON, which
    # is the same whatever the layout.
    options: TunnelOptions | None = None
    customer_inside_ipv6_cidr: IPv6Interface | None = None
    aws_inside_ipv6_address: IPv6Address | None = None

    def public(self) -> dict[str, Any]:
        """The tunnel as JSON-ready data, without its secret."""
        return {
            "aws_outside_address": str(self.aws_outside_address),
            "customer_outside_address": str(self.customer_outside_address),
            "customer_inside_cidr": str(self.customer_inside_cidr),
            "aws_inside_address": str(self.aws_inside_address),
            "aws_asn": self.aws_asn,
            "bgp_hold_time": self.bgp_hold_time,
            "psk_present": self.psk is not None,
        }


@dataclass(frozen=True)
class Connection:
    """One AWS Site-to-Site VPN connection: always two tunnels."""

    layout: str
    vpn_connection_id: str | None
    routing: Routing
    customer_asn: int | None
    tunnels: tuple[Tunnel, ...]

    def tunnel(self, aws_outside_address: IPv4Address) -> Tunnel:
        for tunnel in self.tunnels:
            if tunnel.aws_outside_address == aws_outside_address:
                return tunnel
        raise KeyError(str(aws_outside_address))

    def by_address(self) -> tuple[Tunnel, ...]:
        """Tunnels in ascending AWS outside address: the agent's numbering.

        ``dvsum-tunnel1`` is the first of these.  AWS does not keep the
        order of tunnels between downloads, so file order means nothing.
        """
        return tuple(sorted(self.tunnels, key=lambda t: t.aws_outside_address))

    def public(self) -> dict[str, Any]:
        """The connection as JSON-ready data, without secrets."""
        return {
            "vpn_connection_id": self.vpn_connection_id,
            "routing": self.routing.value,
            "customer_asn": self.customer_asn,
            "tunnels": [t.public() for t in self.by_address()],
        }
