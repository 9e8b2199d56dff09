"""dnsmasq: the options that send one domain to DvSum's resolvers.

``server=/DOMAIN/ADDRESS`` sends DOMAIN and every name under it to
ADDRESS, and nothing else; one line per resolver, so dnsmasq fails over to
the second when the first does not answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address


def render(domain: str, resolvers: Sequence[IPv4Address]) -> str:
    lines = [
        f"# {domain} and every name under it go to DvSum's resolvers through",
        "# the tunnel; every other name keeps its current path.",
        *(f"server=/{domain}/{address}" for address in resolvers),
        "# DvSum's answers are private addresses: accept them even where",
        "# stop-dns-rebind is on.",
        f"rebind-domain-ok=/{domain}/",
    ]
    return "\n".join(lines) + "\n"
