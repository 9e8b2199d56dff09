"""unbound: a forward zone for one domain, to DvSum's resolvers.

``forward-first: no`` keeps the names on DvSum's resolvers even when both
fail (no public answer instead).  DvSum's zone is private and unsigned, so
it is declared insecure (a validating unbound would otherwise fail it) and
allowed to hold private addresses (``private-address`` filters).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address


def render(domain: str, resolvers: Sequence[IPv4Address]) -> str:
    lines = [
        "server:",
        f'    domain-insecure: "{domain}"',
        f'    private-domain: "{domain}"',
        "",
        f"# {domain} and every name under it go to DvSum's resolvers through",
        "# the tunnel; every other name keeps its current path.",
        "forward-zone:",
        f'    name: "{domain}"',
        *(f"    forward-addr: {address}" for address in resolvers),
        "    forward-first: no",
    ]
    return "\n".join(lines) + "\n"
