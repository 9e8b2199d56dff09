"""Check: TCP 443 opens on each service's private address (the guide's nc -zv).

How a connect fails is the signal: a timeout means the packets went
nowhere (or nothing came back), a reset means they crossed the tunnel and
reached a host where nothing listens, an ICMP unreachable names a hop
without a route.
"""

from __future__ import annotations

import errno
import functools
import socket
import time
from collections.abc import Sequence
from ipaddress import IPv4Address

from agent.check import bounded
from agent.check.result import Item, failed, passed

CONNECT_TIMEOUT = 2.0
PORT = 443

ERRNO_KINDS = {
    errno.ECONNREFUSED: "refused",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENETUNREACH: "unreachable",
    errno.ETIMEDOUT: "timeout",
    errno.ECONNRESET: "refused",
}


def connect(address: IPv4Address, timeout: float = CONNECT_TIMEOUT) -> float:
    """Open and close one TCP connection; seconds it took to connect."""
    start = time.monotonic()
    with socket.create_connection((str(address), PORT), timeout=timeout):
        return time.monotonic() - start


def failure_kind(error: BaseException | None) -> str:
    """The word for a failed connect (or TLS/HTTP exchange on top of it)."""
    if error is None or isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, OSError) and error.errno in ERRNO_KINDS:
        return ERRNO_KINDS[error.errno]
    return "error"


def describe(kind: str, error: BaseException | None, timeout: float) -> str:
    return {
        "timeout": f"no answer in {timeout:g} s",
        "refused": "refused (TCP reset)",
        "unreachable": f"unreachable ({getattr(error, 'strerror', error)})",
    }.get(kind, str(error))


def probe(targets: Sequence[tuple[str, IPv4Address]]) -> list[Item]:
    """One item per (name, address): connect to all of them at once."""
    outcomes = bounded.call_all(
        [functools.partial(connect, address) for _, address in targets],
        CONNECT_TIMEOUT + 0.3,
    )
    items = []
    for (name, address), outcome in zip(targets, outcomes, strict=True):
        target = f"{address}:{PORT}"
        facts = {"name": name, "address": str(address)}
        if outcome.done and outcome.error is None and outcome.value is not None:
            items.append(passed(
                target, f"{target} ({name}) open in {outcome.value * 1000:.0f} ms",
                **facts,
            ))  # fmt: skip
            continue
        kind = failure_kind(outcome.error)
        said = describe(kind, outcome.error, CONNECT_TIMEOUT)
        items.append(failed(target, kind, f"{target} ({name}): {said}", **facts))
    return items
