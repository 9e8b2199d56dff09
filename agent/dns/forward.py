"""Forward mode, applied: our edit in place and the resolver reloaded.

``ensure`` is idempotent and cheap when nothing changed (one file read;
for systemd-resolved one stat, and a D-Bus read when that moved or every
``REVERIFY`` seconds), so the supervisor can call it every second to put
back an edit someone removed.  It reloads the resolver only
after it changed something, and puts the old text back when the resolver
refuses the new one, so a failed reload is retried on the next call.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from agent.config import Paths
from agent.dns import dnsmasq, owned, reload, resolved, resolved_link, unbound
from agent.errors import DvsumError, TransientError
from agent.plan import DnsPlan, Plan

LOG = logging.getLogger(__name__)

RENDERERS = {"dnsmasq": dnsmasq.render, "unbound": unbound.render}
REVERIFY = 30.0

# link -> (stamp, monotonic time) when it was last seen holding our settings
_seen: dict[str, tuple[resolved_link.Stamp, float]] = {}


def conf_path(paths: Paths, backend: str) -> Path:
    return paths.dnsmasq_conf if backend == "dnsmasq" else paths.unbound_conf


def body(dns: DnsPlan) -> str:
    """What goes in the file or block of a file-based backend."""
    return RENDERERS[dns.backend or ""](dns.domain, dns.resolvers)


def tunnel_links(plan: Plan) -> tuple[str, ...]:
    """Every link the landing-zone route may name; the active one first."""
    names = [plan.route.device, *(i.name for i in plan.interfaces)]
    return tuple(dict.fromkeys(names))


def ensure(plan: Plan, paths: Paths) -> bool:
    """Make the forward hold; whether anything changed."""
    dns = plan.dns
    if dns.backend is None:
        raise TransientError(
            "dns: forward mode, but dns.backend is auto and no single "
            "systemd-resolved, dnsmasq or unbound answers on port 53 here; "
            "start your resolver or set dns.backend"
        )
    if dns.backend == "systemd-resolved":
        return _link(plan)
    return _file(dns, conf_path(paths, dns.backend))


def _file(dns: DnsPlan, path: Path) -> bool:
    backend = dns.backend or ""
    change = owned.ensure(path, body(dns))
    if change is None:
        return False
    try:
        reload.check(backend, dns.reload_command)
        reload.reload(backend, dns.reload_command)
    except DvsumError:
        owned.undo(change)
        raise
    LOG.info(
        "%s: forwards %s to %s (%s)",
        backend, dns.domain, " ".join(map(str, dns.resolvers)), path,
    )  # fmt: skip
    return True


def _link(plan: Plan) -> bool:
    dns = plan.dns
    link = plan.route.device
    want = resolved.wanted(dns.domain, dns.resolvers)
    if _unchanged(link):
        return False
    current = resolved_link.read(link)
    if current is None:
        raise TransientError(f"systemd-resolved: no link {link} yet")
    if resolved.settled(current, want):
        _remember(link)
        return False
    resolved_link.apply(link, want)
    for other in tunnel_links(plan)[1:]:
        if other != link:
            stale = resolved_link.read(other)
            if stale is not None and resolved.carries(stale, dns.domain):
                resolved_link.revert(other)
    resolved_link.flush()
    after = resolved_link.read(link)
    if after is not None and not after.dns_scope:
        resolved_link.revert(link)
        raise TransientError(
            f"systemd-resolved: resolved does not use servers set on {link}: "
            "the link needs to be up with an address of global scope"
        )
    _remember(link)
    return True


def _unchanged(link: str) -> bool:
    """Whether the link's settings were seen right recently and nothing
    that marks a change has moved since."""
    seen = _seen.get(link)
    if seen is None or time.monotonic() - seen[1] > REVERIFY:
        return False
    return resolved_link.stamp(link) == seen[0]


def _remember(link: str) -> None:
    mark = resolved_link.stamp(link)
    if mark is None:
        _seen.pop(link, None)
    else:
        _seen[link] = (mark, time.monotonic())
