"""The kernel's answer to 'how would a packet to X leave?' (``ip route get``).

A seam of its own over pyroute2: the check asks the routing decision for
each service address, which a dump of the main table cannot tell (a more
specific route, a policy rule, another table).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from agent.apply.iproute import IPRoute, NetlinkError


@dataclass(frozen=True)
class Lookup:
    destination: IPv4Address
    device: str | None
    source: IPv4Address | None
    gateway: IPv4Address | None
    error: str | None = None  # ENETUNREACH and the like


def route_get(destinations: list[IPv4Address]) -> list[Lookup]:
    with IPRoute() as ipr:
        names = {
            link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()
        }
        return [_one(ipr, names, destination) for destination in destinations]


def _one(ipr: IPRoute, names: dict[int, str], destination: IPv4Address) -> Lookup:
    try:
        (msg,) = ipr.route("get", dst=str(destination))
    except NetlinkError as err:
        return Lookup(destination, None, None, None, error=str(err))
    oif = msg.get_attr("RTA_OIF")
    src = msg.get_attr("RTA_PREFSRC")
    gateway = msg.get_attr("RTA_GATEWAY")
    return Lookup(
        destination=destination,
        device=names.get(oif) if oif is not None else None,
        source=IPv4Address(src) if src else None,
        gateway=IPv4Address(gateway) if gateway else None,
    )
