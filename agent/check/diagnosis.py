"""Diagnosis: for each failing check, the likely cause and the fix.

Causes come from what the checks saw (item kinds and facts: SA states,
charon's lines, resolved addresses, route lookups, counters), never from
the check's name alone.  A failure that an earlier layer explains (no
tunnel, so no TCP; a wrong DNS answer, so the wrong certificate) is said
to follow from it, and the cause named is that layer's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.check import rules_path, rules_service, rules_tunnel
from agent.check.result import Item, Result
from agent.check.seen import Diagnosis, Seen

# Checks in layer order: a failure can only follow from one listed earlier.
ORDER = ("tunnels", "route", "dns", "tcp", "mtu", "tls", "https", "websocket")

# Route kinds that keep packets out of the tunnel.
ROUTE_BLOCKING = {"missing", "foreign", "wrong_device", "bypass", "unreachable",
                  "wrong_source"}  # fmt: skip
# How a TLS-based check fails when large packets vanish after connecting.
STALLS = {"handshake_timeout", "reply_timeout"}


def diagnose(
    results: Sequence[Result], facts: Mapping[str, Any]
) -> tuple[Diagnosis, ...]:
    seen = Seen({r.name: r for r in results}, facts)
    out: list[Diagnosis] = []
    for result in results:
        if result.ok:
            continue
        roots = [i for i in result.failures if explained_by(seen, result, i) is None]
        if not roots:
            out.append(_follows(seen, result, out))
            continue
        rule = RULES[result.name]
        out.append(rule(seen, result, roots))
    return tuple(out)


def _follows(seen: Seen, result: Result, done: list[Diagnosis]) -> Diagnosis:
    """Every failure of ``result`` is explained by earlier ones: name the
    root cause, the one whose own diagnosis follows from nothing."""
    earliest = min(
        (explained_by(seen, result, i) or result.name for i in result.failures),
        key=ORDER.index,
    )
    first = next((d for d in done if d.check == earliest), None)
    if first is None:  # cannot happen: an explaining check has failed
        return Diagnosis(result.name, f"follows from {earliest}", "", earliest)
    root = next((d for d in done if d.check == first.follows), first)
    return Diagnosis(
        result.name,
        f"follows from {root.check}: {root.cause}",
        f"fix {root.check} first: {root.fix}",
        follows=root.check,
        guide=root.guide,
    )


def explained_by(seen: Seen, result: Result, item: Item) -> str | None:
    """The earliest failing check whose failure accounts for ``item``."""
    for earlier in ORDER[: ORDER.index(result.name)]:
        if seen.failed(earlier) and _explains(seen, earlier, result.name, item):
            return earlier
    return None


def _explains(seen: Seen, earlier: str, check: str, item: Item) -> bool:
    before = seen.results[earlier]
    name = item.facts.get("name")
    address = item.facts.get("address")
    # The system resolver reads the hosts file: no tunnel is needed for it.
    needs_tunnel = check != "dns" or item.facts.get("via") == "resolver"
    if earlier == "tunnels":
        return needs_tunnel and no_tunnel(before)
    if earlier == "route":
        return needs_tunnel and any(i.kind in ROUTE_BLOCKING for i in before.failures)
    if earlier == "dns":
        return check in ("tls", "https", "websocket") and any(
            i.facts.get("name") == name and i.facts.get("via") == "system"
            for i in before.failures
        )
    if earlier == "tcp":
        return any(i.facts.get("address") == address for i in before.failures)
    if earlier == "mtu":
        return item.kind in STALLS and "too_big" in before.kinds()
    if earlier in ("tls", "https"):
        return any(i.facts.get("name") == name for i in before.failures) and (
            item.kind not in ("closed", "not_found", "unexpected_status")
        )
    return False


def no_tunnel(tunnels: Result) -> bool:
    """No tunnel carries traffic: charon down, or neither SA installed."""
    tunnel_items = [i for i in tunnels.items if i.target.startswith("dvsum-tunnel")]
    return not any(i.ok for i in tunnel_items)


RULES = {
    "tunnels": rules_tunnel.tunnels,
    "route": rules_path.route,
    "dns": rules_service.dns,
    "tcp": rules_path.tcp,
    "mtu": rules_path.mtu,
    "tls": rules_service.tls,
    "https": rules_service.https,
    "websocket": rules_service.websocket,
}
