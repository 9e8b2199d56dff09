"""``dvsum-vpn prefer 1|2|auto``: move traffic to one tunnel on purpose.

For announced AWS maintenance, for example.  The choice is saved first
(``agent.preference``), then applied without touching the other tunnel:

- route mode: the landing-zone route moves to the chosen XFRM interface;
- policy mode: the chosen tunnel's CHILD_SA is re-created with the primary's
  narrow selectors, which makes its policy the one that carries traffic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from agent import preference
from agent import sas as sas_mod
from agent.apply.netlink import Netlink
from agent.apply.vici import Charon
from agent.errors import TransientError
from agent.inputs import Inputs
from agent.plan import Plan
from agent.up import plan_for, step_connections, step_dns

LOG = logging.getLogger(__name__)


class NotEstablished(TransientError):
    exit_code = 6


def prefer(inputs: Inputs, number: int | None, say: Callable[[str], None]) -> Plan:
    preference.write(inputs.config.paths.state_dir, number)
    with Netlink() as netlink, Charon(inputs.config.vici_uri) as charon:
        plan = plan_for(inputs, netlink)
        target = plan.active
        states = sas_mod.ike_sas(charon, (target.name,))[target.name]
        sa = sas_mod.best(states)
        LOG.info("prefer: %s -> %s", "auto" if number is None else number, target.name)
        if sa is None or not sa.installed:
            raise NotEstablished(
                f"{target.name} is not established; the preference is saved and "
                "takes effect once it is (see `dvsum-vpn status`)"
            )
        if plan.data_plane == "route":
            netlink.ensure_route(plan.route)
            # systemd-resolved holds the forward on the route's link.
            step_dns(plan, inputs)
        else:
            step_connections(plan, charon)
            _recreate_child(charon, target.name, target.child, sa)
        say(f"traffic to {plan.route.destination} now prefers {target.name}")
        return plan


def _recreate_child(charon: Charon, ike: str, child: str, sa: sas_mod.IkeState) -> None:
    """Re-create ``child`` on its IKE_SA, so it carries the new selectors."""
    for old in sa.children:
        if old.name == child:
            charon.terminate_child(old.uniqueid)
    for _ in charon.initiate(child, ike, timeout_ms=10000):
        pass
    LOG.info("%s: CHILD_SA re-created with the primary's selectors", child)
