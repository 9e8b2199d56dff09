"""systemd-resolved: DvSum's resolvers on the tunnel's link, for one domain.

A drop-in in resolved.conf.d cannot do this.  resolved sends every name
that no routing domain claims to its global servers too, whatever their
``Domains=``, so a global ``DNS=`` would hand every unrelated name to
DvSum.  Servers set on the link that carries the landing-zone route, with
the routing-only domain ``~dvsum.ai`` and ``DefaultRoute=no``, get that
domain and nothing else; resolved binds those queries to the link, so they
take the tunnel.  It keeps such settings in /run across its own restarts;
they go with the link.

Pure: the wanted settings, the ``resolvectl`` commands that make them, and
the parsing of what ``busctl --json=short get-property`` reports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

BUS_NAME = "org.freedesktop.resolve1"
LINK_INTERFACE = "org.freedesktop.resolve1.Link"
PROPERTIES = ("DNS", "Domains", "DefaultRoute", "ScopesMask")
SCOPE_DNS = 1  # ScopesMask bit: resolved does unicast DNS on this link


@dataclass(frozen=True)
class LinkDns:
    servers: tuple[str, ...]
    domains: tuple[str, ...]  # a routing-only domain as "~name"
    default_route: bool
    dns_scope: bool = False  # resolved really uses the servers


def wanted(domain: str, resolvers: Sequence[IPv4Address]) -> LinkDns:
    return LinkDns(tuple(str(r) for r in resolvers), (f"~{domain}",), False)


def settled(current: LinkDns, want: LinkDns) -> bool:
    """Whether the link carries exactly the settings we want."""
    return (current.servers, current.domains, current.default_route) == (
        want.servers,
        want.domains,
        want.default_route,
    )


def carries(current: LinkDns, domain: str) -> bool:
    """Whether the link routes ``domain`` (so it holds our settings)."""
    return f"~{domain}" in current.domains


def commands(link: str, want: LinkDns) -> list[list[str]]:
    default_route = "true" if want.default_route else "false"
    return [
        ["resolvectl", "dns", link, *want.servers],
        ["resolvectl", "domain", link, *want.domains],
        ["resolvectl", "default-route", link, default_route],
    ]


def object_path(ifindex: int) -> str:
    """The link's D-Bus object path (sd-bus escapes a leading digit)."""
    label = "".join(
        f"_{ord(c):02x}" if i == 0 else c for i, c in enumerate(str(ifindex))
    )
    return f"/org/freedesktop/resolve1/link/{label}"


def parse(output: str) -> LinkDns:
    """The link's settings from one JSON line per property, in PROPERTIES
    order (``busctl --json=short get-property``)."""
    values = [json.loads(line)["data"] for line in output.splitlines() if line]
    if len(values) != len(PROPERTIES):
        raise ValueError(f"expected {len(PROPERTIES)} properties, got {output!r}")
    dns, domains, default_route, scopes = values
    return LinkDns(
        servers=tuple(_address(family, raw) for family, raw in dns),
        domains=tuple(
            f"~{name}" if route_only else name for name, route_only in domains
        ),
        default_route=bool(default_route),
        dns_scope=bool(int(scopes) & SCOPE_DNS),
    )


def _address(family: int, raw: list[int]) -> str:
    data = bytes(raw)
    return str(IPv4Address(data) if family == 2 else IPv6Address(data))
