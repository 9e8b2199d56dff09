"""The lab's address plan: every address, name and namespace in one place.

All of these live only inside the lab's own network namespaces; nothing is
routed to the machine's real interfaces.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from types import MappingProxyType

LOG = logging.getLogger(__name__)

# Namespace short names, in the order up() creates them.
NAMESPACES = ("lan", "cgw", "nat", "inet", "aws1", "aws2", "lz")

# The namespaces that run a charon: the two AWS peers, and the customer
# gateway (started separately: the agent configures it).
AWS_PEERS = ("aws1", "aws2")


def _a(text: str) -> IPv4Address:
    return IPv4Address(text)


def _i(text: str) -> IPv4Interface:
    return IPv4Interface(text)


@dataclass(frozen=True)
class AwsTunnel:
    """One AWS VPN endpoint as the AWS configuration file describes it."""

    number: int
    outside: IPv4Address
    outside_cidr: IPv4Interface
    gateway: IPv4Address
    inet_side: IPv4Interface
    lz_link: IPv4Interface
    lz_peer: IPv4Interface
    customer_inside: IPv4Interface
    aws_inside: IPv4Address
    # An address of the endpoint inside the landing zone. kernel-libipsec
    # refuses a CHILD_SA unless the host owns an address inside its local
    # traffic selector, so a customer narrowing to 10.0.0.0/16 needs one.
    vpc_address: IPv4Address

    @property
    def ns(self) -> str:
        return f"aws{self.number}"


@dataclass(frozen=True)
class Addresses:
    """Every address of the lab topology (see tests/lab/topology.py)."""

    customer_cidr: IPv4Network
    landing_zone: IPv4Network
    lan_host: IPv4Interface
    cgw_lan: IPv4Interface
    cgw_wan: IPv4Interface
    nat_inside: IPv4Interface
    nat_outside: IPv4Interface
    inet_to_nat: IPv4Interface
    customer_public: IPv4Address
    tunnels: tuple[AwsTunnel, AwsTunnel]
    # Service name -> private address in the landing zone.
    services: Mapping[str, IPv4Address]
    resolvers: tuple[IPv4Address, IPv4Address]

    def tunnel(self, number: int) -> AwsTunnel:
        """Tunnel 1 or 2 (AWS's order in the configuration file)."""
        if number not in (1, 2):
            raise ValueError(f"tunnel number must be 1 or 2, not {number!r}")
        return self.tunnels[number - 1]


ADDRESSES = Addresses(
    customer_cidr=IPv4Network("192.168.10.0/24"),
    landing_zone=IPv4Network("10.0.0.0/16"),
    lan_host=_i("192.168.10.20/24"),
    cgw_lan=_i("192.168.10.1/24"),
    cgw_wan=_i("100.64.0.2/24"),
    nat_inside=_i("100.64.0.1/24"),
    nat_outside=_i("198.51.100.20/24"),
    inet_to_nat=_i("198.51.100.1/24"),
    customer_public=_a("198.51.100.20"),
    tunnels=(
        AwsTunnel(
            number=1,
            outside=_a("203.0.113.44"),
            outside_cidr=_i("203.0.113.44/29"),
            gateway=_a("203.0.113.41"),
            inet_side=_i("203.0.113.41/29"),
            lz_link=_i("172.16.1.1/30"),
            lz_peer=_i("172.16.1.2/30"),
            customer_inside=_i("169.254.61.18/30"),
            aws_inside=_a("169.254.61.17"),
            vpc_address=_a("10.0.255.1"),
        ),
        AwsTunnel(
            number=2,
            outside=_a("203.0.113.172"),
            outside_cidr=_i("203.0.113.172/29"),
            gateway=_a("203.0.113.169"),
            inet_side=_i("203.0.113.169/29"),
            lz_link=_i("172.16.2.1/30"),
            lz_peer=_i("172.16.2.2/30"),
            customer_inside=_i("169.254.140.6/30"),
            aws_inside=_a("169.254.140.5"),
            vpc_address=_a("10.0.255.2"),
        ),
    ),
    services=MappingProxyType(
        {
            "apis.dvsum.ai": _a("10.0.151.182"),
            "s3-storage.dvsum.ai": _a("10.0.150.69"),
            "socket-api.dvsum.ai": _a("10.0.157.107"),
        }
    ),
    resolvers=(_a("10.0.10.53"), _a("10.0.20.53")),
)
