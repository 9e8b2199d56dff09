"""``down``'s part: take the forward out, give the resolver back its
configuration as it was, and have it read that again."""

from __future__ import annotations

import logging
from pathlib import Path

from agent import state
from agent.config import Config
from agent.dns import detect, owned, reload, resolved, resolved_link
from agent.dns.forward import conf_path
from agent.errors import DvsumError
from agent.host import LIBIPSEC_DEVICE
from agent.plan import Plan, interface_name
from agent.state import DnsApplied

LOG = logging.getLogger(__name__)

# Links a forward through systemd-resolved can have been put on.
TUNNEL_LINKS = (interface_name(1), interface_name(2), LIBIPSEC_DEVICE)


def record(plan: Plan, config: Config) -> DnsApplied | None:
    """What ``up`` writes down about the forward it made."""
    dns = plan.dns
    if dns.mode != "forward" or dns.backend is None:
        return None
    if dns.backend == "systemd-resolved":
        edit = plan.route.device
    else:
        edit = str(conf_path(config.paths, dns.backend))
    return DnsApplied(dns.backend, edit, dns.domain, dns.reload_command)


def drop_superseded(plan: Plan, config: Config) -> bool:
    """Take out the forward the last ``up`` made when the plan no longer
    wants it there (another mode, backend, file or domain); whether it did.

    A move of systemd-resolved's link with the active tunnel is not one:
    the forward step moves it itself.
    """
    applied = state.read(config.paths.state_dir)
    previous = applied.dns if applied is not None else None
    if previous is None:
        return False
    if _still_wanted(previous, record(plan, config)):
        return False
    LOG.info("dns: the forward in %s is no longer wanted", previous.edit)
    return remove(previous)


def _still_wanted(previous: DnsApplied, current: DnsApplied | None) -> bool:
    if current is None:
        return False
    if (previous.backend, previous.domain) != (current.backend, current.domain):
        return False
    return current.backend == "systemd-resolved" or previous.edit == current.edit


def fallback(config: Config) -> DnsApplied | None:
    """The forward config.yaml describes, for a ``down`` with no record."""
    dns = config.dns
    if dns.mode != "forward":
        return None
    backend = dns.backend if dns.backend != "auto" else detect.detect().backend
    if backend is None:
        return None
    if backend == "systemd-resolved":
        edit = TUNNEL_LINKS[0]
    else:
        edit = str(conf_path(config.paths, backend))
    return DnsApplied(backend, edit, dns.domain, dns.reload_command)


def remove(done: DnsApplied) -> bool:
    """Undo the forward; whether there was anything to undo."""
    if done.backend == "systemd-resolved":
        return _links(done)
    change = owned.remove(Path(done.edit))
    if change is None:
        return False
    try:
        reload.reload(done.backend, done.reload_command)
    except DvsumError:
        owned.undo(change)
        raise
    return True


def _links(done: DnsApplied) -> bool:
    reverted = False
    for link in dict.fromkeys((done.edit, *TUNNEL_LINKS)):
        current = resolved_link.read(link)
        if current is not None and resolved.carries(current, done.domain):
            resolved_link.revert(link)
            reverted = True
    if reverted:
        resolved_link.flush()
    return reverted
