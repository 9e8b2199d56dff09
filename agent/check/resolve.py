"""Check: each service name resolves to its private address in the landing zone.

First as every program on this machine resolves it (getaddrinfo: the hosts
file, then DNS, as nsswitch.conf says), which is what the gateway agent
will do; then, in forwarding mode, by asking each of DvSum's resolvers
directly, through the tunnel.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from agent.apply import files
from agent.check import bounded
from agent.check.context import Context
from agent.check.result import OK, Findings, Item, failed, passed
from agent.render import hosts

RESOLVE_TIMEOUT = 2.0
QUERY_TIMEOUT = 1.5

# RFC 1918: what the guide calls a private address.  Anything else a
# service name resolves to is reached over the internet, not the tunnel.
PRIVATE = tuple(
    IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def check(ctx: Context) -> Findings:
    text = _read_hosts(ctx)
    system, direct = bounded.call_all(
        [
            functools.partial(_system_items, ctx, text),
            functools.partial(
                ask_resolvers,
                ctx.resolvers, ctx.names, ctx.config.landing_zone, ctx.expected,
            ),
        ],
        RESOLVE_TIMEOUT + 0.5,
    )  # fmt: skip
    items = list(system.value or []) + list(direct.value or [])
    if system.error is not None:
        raise system.error
    if direct.error is not None:
        raise direct.error
    bad = [i for i in items if not i.ok]
    if bad:
        summary = "; ".join(i.detail for i in bad)
    else:
        summary = ", ".join(f"{i.target} {i.facts['address']}" for i in items[:3])
        if ctx.resolvers:
            summary += f"; both resolvers answer ({len(items) - 3} queries)"
    return Findings(tuple(items), summary)


def _system_items(ctx: Context, text: str | None) -> list[Item]:
    """Every name through getaddrinfo, at once."""
    block = dict(hosts.present(text) or ()) if text is not None else {}
    shadows = dict(hosts.shadowing(text, ctx.config.dns.names)) if text else {}
    outcomes = bounded.call_all(
        [functools.partial(_getaddrinfo, name) for name in ctx.names],
        RESOLVE_TIMEOUT,
    )
    items = []
    for name, outcome in zip(ctx.names, outcomes, strict=True):
        facts: dict[str, Any] = {
            "name": name,
            "via": "system",
            "mode": ctx.config.dns.mode,
            "hosts_file": str(ctx.config.paths.hosts),
            "hosts_block": text is not None and hosts.present(text) is not None,
            "block_address": str(block[name]) if name in block else None,
            "shadowed_by": shadows.get(name),
        }
        items.append(_system_item(ctx, name, outcome, facts))
    return items


def classify(
    address: IPv4Address, zone: IPv4Network, expected: IPv4Address | None
) -> str:
    if not any(address in net for net in PRIVATE):
        return "public"
    if address not in zone:
        return "outside_zone"
    if expected is not None and address != expected:
        return "mismatch"
    return OK


def _read_hosts(ctx: Context) -> str | None:
    try:
        return files.read_text(ctx.config.paths.hosts)
    except OSError:
        return None


def _getaddrinfo(name: str) -> list[IPv4Address]:
    found = socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)
    out: list[IPv4Address] = []
    for *_, sockaddr in found:
        address = IPv4Address(sockaddr[0])
        if address not in out:
            out.append(address)
    return out


def _system_item(
    ctx: Context,
    name: str,
    outcome: bounded.Outcome[list[IPv4Address]],
    facts: dict[str, Any],
) -> Item:
    expected = ctx.expected.get(name)
    facts["expected"] = str(expected) if expected else None
    if not outcome.done:
        return failed(
            name, "timeout",
            f"{name}: the system resolver gave no answer in {RESOLVE_TIMEOUT:g} s",
            **facts,
        )  # fmt: skip
    if isinstance(outcome.error, socket.gaierror):
        kind = "unresolved" if outcome.error.errno == socket.EAI_NONAME else "error"
        return failed(name, kind, f"{name}: {outcome.error.strerror}", **facts)
    if outcome.error is not None or not outcome.value:
        return failed(name, "error", f"{name}: {outcome.error}", **facts)
    address = outcome.value[0]
    facts["address"] = str(address)
    facts["addresses"] = [str(a) for a in outcome.value]
    kind = classify(address, ctx.config.landing_zone, expected)
    return _item(
        name,
        kind,
        address,
        expected=expected,
        zone=ctx.config.landing_zone,
        facts=facts,
    )


def _item(
    target: str,
    kind: str,
    address: IPv4Address,
    *,
    expected: IPv4Address | None,
    zone: IPv4Network,
    facts: dict[str, Any],
) -> Item:
    said = {
        OK: f"{target} -> {address}",
        "public": f"{target} -> {address}, a public address, not DvSum's private one",
        "outside_zone": f"{target} -> {address}, outside the landing zone {zone}",
        "mismatch": f"{target} -> {address}, but DvSum gave {expected}",
    }[kind]
    if kind == OK:
        return passed(target, said, **facts)
    return failed(target, kind, said, **facts)


def ask_resolvers(
    resolvers: Sequence[IPv4Address],
    names: Sequence[str],
    zone: IPv4Network,
    expected: dict[str, IPv4Address] | Any,
) -> list[Item]:
    """Ask every resolver for every name at once, over UDP, through the tunnel."""
    pairs = [(r, n) for r in resolvers for n in names]
    outcomes = bounded.call_all(
        [functools.partial(_query, r, n) for r, n in pairs], QUERY_TIMEOUT + 0.5
    )
    items = []
    for (resolver, name), outcome in zip(pairs, outcomes, strict=True):
        target = f"{name} @{resolver}"
        facts: dict[str, Any] = {"name": name, "via": "resolver",
                                 "resolver": str(resolver)}  # fmt: skip
        if not outcome.done or isinstance(outcome.error, dns.exception.Timeout):
            items.append(failed(
                target, "resolver_timeout",
                f"{target}: no answer in {QUERY_TIMEOUT:g} s", **facts,
            ))  # fmt: skip
            continue
        if outcome.error is not None or outcome.value is None:
            items.append(failed(target, "error", f"{target}: {outcome.error}",
                                **facts))  # fmt: skip
            continue
        rcode, addresses = outcome.value
        if rcode != "NOERROR" or not addresses:
            items.append(failed(
                target, "resolver_refused",
                f"{target}: {rcode}{'' if addresses else ', no A record'}", **facts,
            ))  # fmt: skip
            continue
        facts["address"] = str(addresses[0])
        want = expected.get(name)
        kind = classify(addresses[0], zone, want)
        items.append(
            _item(target, kind, addresses[0], expected=want, zone=zone, facts=facts)
        )
    return items


def _query(resolver: IPv4Address, name: str) -> tuple[str, list[IPv4Address]]:
    query = dns.message.make_query(name, "A")
    reply = dns.query.udp(query, str(resolver), timeout=QUERY_TIMEOUT)
    addresses = [
        IPv4Address(item.address)
        for rrset in reply.answer
        if rrset.rdtype == dns.rdatatype.A
        for item in rrset
    ]
    return dns.rcode.to_text(reply.rcode()), addresses
