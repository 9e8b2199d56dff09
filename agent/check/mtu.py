"""Check: a full-size packet with DF set crosses the tunnel (and comes back).

Full size is the route's MTU (1400 over kernel-libipsec, 1436 on an XFRM
interface).  Small and full-size echoes go out together; when only the
small one returns, a second and third round of sizes find the largest
that passes.  When the service does not answer ping at all, an HTTPS
request padded to several full-size segments stands in for it.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from agent.check import icmp, tls
from agent.check.result import Item, failed, passed

ROUND = 0.5  # seconds to wait for one round of echoes
FIRST_TRIES = 2  # rounds of small + full before judging
STEPS = 12  # sizes per refining round
PAD = 3  # full-size segments of padding in the HTTPS fallback
HTTPS_TIMEOUT = 0.9  # each of the fallback's two requests


def probe(name: str, address: IPv4Address, mtu: int, ca_file: Path | None) -> Item:
    target = f"{address} ({name})"
    facts = {"name": name, "address": str(address), "mtu": mtu}
    try:
        pinger = icmp.Pinger(address)
    except PermissionError:
        return failed(target, "not_permitted", "raw ICMP needs root", **facts)
    with pinger:
        answered: set[int] = set()
        for _ in range(FIRST_TRIES):
            answered |= pinger.sizes_answered((icmp.SMALLEST, mtu), ROUND)
            if mtu in answered:
                return passed(
                    target, f"{mtu}-byte packets with DF cross the tunnel to "
                    f"{address} and back", method="icmp", largest=mtu, **facts,
                )  # fmt: skip
            if answered:
                break
        if not answered:
            return _by_https(name, address, mtu, ca_file, facts)
        largest = _largest(pinger, icmp.SMALLEST, mtu)
        return failed(
            target, "too_big",
            f"{mtu}-byte packets with DF are lost, small ones pass; the largest "
            f"that passed: {largest} bytes"
            + (f"; a router reported MTU {pinger.frag_needed}"
               if pinger.frag_needed else ""),
            method="icmp", largest=largest, frag_needed=pinger.frag_needed, **facts,
        )  # fmt: skip


def _largest(pinger: icmp.Pinger, good: int, bad: int) -> int:
    """Narrow [good, bad) in two rounds of STEPS sizes each."""
    for _ in range(2):
        if bad - good <= 1:
            break
        step = max(1, (bad - good) // (STEPS + 1))
        sizes = list(range(good + step, bad, step))[:STEPS]
        answered = pinger.sizes_answered(sizes, ROUND)
        if answered:
            good = max(answered)
        bad = min([s for s in sizes if s > good] + [bad])
    return good


def _by_https(
    name: str,
    address: IPv4Address,
    mtu: int,
    ca_file: Path | None,
    facts: dict[str, Any],
) -> Item:
    """No ping reply: does a request of several full-size segments get
    answered where a small one is?"""
    target = f"{address} ({name})"
    pad = {"X-Dvsum-Check-Padding": "p" * (PAD * mtu)}
    try:
        tls.exchange(name, address, ca_file, "/health-check", timeout=HTTPS_TIMEOUT)
    except tls.Failure as err:
        return failed(
            target, "no_path", f"no ping reply from {address}, and HTTPS fails "
            f"too: {err}", method="https", **facts,
        )  # fmt: skip
    try:
        tls.exchange(
            name, address, ca_file, "/health-check", headers=pad, timeout=HTTPS_TIMEOUT
        )
    except tls.Failure as err:
        return failed(
            target, "too_big", f"no ping reply from {address}; a small HTTPS "
            f"request is answered, one of {PAD} full-size segments is not ({err})",
            method="https", largest=None, frag_needed=None, **facts,
        )  # fmt: skip
    return passed(
        target, f"no ping reply from {address}; an HTTPS request of {PAD} "
        f"full-size ({mtu}-byte) segments is answered", method="https", **facts,
    )  # fmt: skip
