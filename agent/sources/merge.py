"""Give a connection the PSKs that came apart from the AWS file.

Keys are AWS outside addresses, or ``tunnel1``/``tunnel2`` for the tunnels
as the agent numbers them: by AWS outside address, the lower one first
(never by the file's order, which AWS does not keep).  A key given apart wins over the
file's, with a warning naming the tunnel's address; a tunnel left without
a key keeps ``psk=None`` (the caller decides whether that is an error).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from ipaddress import IPv4Address

from agent.errors import InputError
from agent.model import Connection
from agent.psk import POSITIONS, PskKey, psk_problem
from agent.secret import Secret

LOG = logging.getLogger(__name__)


def with_psks(connection: Connection, psks: Mapping[PskKey, Secret]) -> Connection:
    resolved = _resolve(connection, psks)
    tunnels = []
    for index, tunnel in enumerate(connection.tunnels):
        given = resolved.get(index)
        if given is None:
            tunnels.append(tunnel)
            continue
        if tunnel.psk is not None and tunnel.psk != given:
            LOG.warning(
                "%s: the PSK given apart differs from the AWS file's; using "
                "the one given apart",
                tunnel.aws_outside_address,
            )
        tunnels.append(dataclasses.replace(tunnel, psk=given))
    return dataclasses.replace(connection, tunnels=tuple(tunnels))


def _resolve(
    connection: Connection, psks: Mapping[PskKey, Secret]
) -> dict[int, Secret]:
    """Tunnel index -> PSK; InputError for a key naming no tunnel, a key
    breaking AWS's rule, or two keys giving one tunnel different PSKs."""
    addresses = [t.aws_outside_address for t in connection.tunnels]
    resolved: dict[int, Secret] = {}
    problems: list[tuple[str, str]] = []
    for key, secret in psks.items():
        if not isinstance(key, IPv4Address) and key not in POSITIONS:
            # The key may be a misplaced PSK: never show it.
            problems.append(("psks", "a key is not an address, tunnel1 or tunnel2"))
            continue
        path = f"psks[{key}]"
        index = _index(key, addresses)
        problem = psk_problem(secret.reveal())
        if index is None:
            known = ", ".join(map(str, addresses))
            problems.append((path, f"names no tunnel of this connection ({known})"))
        elif problem:
            problems.append((path, problem))
        elif resolved.setdefault(index, secret) != secret:
            problems.append(
                (path, f"another key gives {addresses[index]} a different PSK")
            )
    if problems:
        count = len(problems)
        raise InputError(
            f"the PSKs have {count} problem{'s' if count > 1 else ''}", tuple(problems)
        )
    return resolved


def _index(key: PskKey, addresses: list[IPv4Address]) -> int | None:
    if isinstance(key, IPv4Address):
        return addresses.index(key) if key in addresses else None
    position = POSITIONS.index(key)
    if position >= len(addresses):
        return None
    return addresses.index(sorted(addresses)[position])
