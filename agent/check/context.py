"""What every check needs to know, gathered once before any of them runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from types import MappingProxyType

from agent.config import SERVICE_NAMES, Config
from agent.plan import Plan

# Each check's own budget, in seconds: no check may hold the run longer.
# The probes inside a check use shorter timeouts of their own.
CHECK_BUDGET = 3.0


@dataclass(frozen=True)
class Options:
    ca_file: Path | None = None  # None: the system CA store
    initiate: bool = True  # re-initiate a tunnel that is down, to see why


@dataclass(frozen=True)
class Context:
    config: Config
    plan: Plan
    options: Options
    names: tuple[str, ...] = SERVICE_NAMES

    @property
    def expected(self) -> Mapping[str, IPv4Address]:
        """The private address DvSum gave for each name (dns.names)."""
        return MappingProxyType(dict(self.config.dns.names))

    @property
    def resolvers(self) -> tuple[IPv4Address, ...]:
        """DvSum's resolvers, asked directly in forwarding mode."""
        if self.config.dns.mode != "forward":
            return ()
        return self.config.dns.resolvers
