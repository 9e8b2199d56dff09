"""What is forwarded where, for commands that test it (``check``)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from agent.config import Config


@dataclass(frozen=True)
class Forwarding:
    domain: str
    resolvers: tuple[IPv4Address, ...]
    backend: str  # as configured: "auto" or a backend name


def forwarding(config: Config) -> Forwarding | None:
    """The configured forward, or None when ``dns.mode`` is not forward."""
    dns = config.dns
    if dns.mode != "forward":
        return None
    return Forwarding(dns.domain, dns.resolvers, dns.backend)
