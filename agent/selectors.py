"""Policy mode: each tunnel's CHILD_SA carries the selectors its plan gives.

The tunnel that should carry traffic has the narrow selectors (customer
CIDR <-> landing zone), which win over the other's 0/0 whatever the order
the SAs were made in.  Moving traffic is re-creating CHILD_SAs with other
selectors: make-before-break (the new CHILD_SA is initiated before the old
one is terminated; their selectors differ, so charon takes both for a
moment) and the tunnel that becomes active first, so there is never a
moment with no narrow policy, nor one with two.
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Network

from agent import sas as sas_mod
from agent.apply.vici import Charon
from agent.plan import Plan, TunnelPlan

LOG = logging.getLogger(__name__)

INITIATE_MS = 5000


def narrow_carrier(
    plan: Plan, states: dict[str, list[sas_mod.IkeState]], customer_cidr: IPv4Network
) -> TunnelPlan | None:
    """The tunnel whose installed CHILD_SA has the narrow selectors: the one
    that carries traffic to the landing zone in policy mode."""
    narrow = (str(customer_cidr),)
    for tunnel in plan.tunnels:
        sa = sas_mod.best(states[tunnel.name])
        if sa and sa.installed and any(c.local_ts == narrow for c in sa.children):
            return tunnel
    return None


def align(plan: Plan, charon: Charon) -> list[str]:
    """Re-create every installed CHILD_SA whose selectors differ from the
    plan's; returns what was re-created."""
    if plan.data_plane != "policy":
        return []
    states = sas_mod.ike_sas(charon, tuple(t.name for t in plan.tunnels))
    changed = []
    for tunnel in sorted(plan.tunnels, key=lambda t: not t.primary):
        sa = sas_mod.best(states[tunnel.name])
        if sa is None or not sa.installed:
            continue
        wanted = (
            tuple(str(n) for n in tunnel.local_ts),
            tuple(str(n) for n in tunnel.remote_ts),
        )
        children = [c for c in sa.children if c.name == tunnel.child]
        stale = [c for c in children if (c.local_ts, c.remote_ts) != wanted]
        if not stale:
            continue
        if len(stale) == len(children):
            for _ in charon.initiate(tunnel.child, tunnel.name, INITIATE_MS):
                pass
        for child in stale:
            charon.terminate_child(child.uniqueid)
        LOG.info("%s: CHILD_SA re-created as %s", tunnel.child, tunnel.role)
        changed.append(f"{tunnel.child} re-created as {tunnel.role}")
    return changed
