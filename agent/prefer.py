"""``dvsum-vpn prefer 1|2|auto``: move traffic to one tunnel on purpose.

For announced AWS maintenance, for example.  The choice is saved first
(``agent.preference``).  When the dvsum-vpn service runs, that is all: it
owns the route and the selectors, follows the choice and ``prefer`` waits
until it has.  Otherwise ``prefer`` applies it without taking the other
tunnel down:

- route mode: the landing-zone route moves to the chosen XFRM interface;
- policy mode: the chosen tunnel's CHILD_SA is re-created with the narrow
  selectors and the other's with 0/0, make-before-break (agent.selectors).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from agent import preference, selectors
from agent import sas as sas_mod
from agent.apply.netlink import Netlink
from agent.apply.vici import Charon
from agent.errors import TransientError
from agent.inputs import Inputs
from agent.plan import Plan
from agent.supervise import presence
from agent.up import plan_for, step_connections, step_dns

LOG = logging.getLogger(__name__)


# Seconds `prefer` waits for a running dvsum-vpn service to move traffic.
DAEMON_WAIT = 15.0


class NotEstablished(TransientError):
    exit_code = 6


def prefer(inputs: Inputs, number: int | None, say: Callable[[str], None]) -> Plan:
    config = inputs.config
    preference.write(config.paths.state_dir, number)
    if presence.running(config.paths.run_dir) is not None:
        return _through_daemon(inputs, number, say)
    with Netlink() as netlink, Charon(config.vici_uri) as charon:
        plan = plan_for(inputs, netlink)
        target = plan.active
        states = sas_mod.ike_sas(charon, (target.name,))[target.name]
        sa = sas_mod.best(states)
        LOG.info("prefer: %s -> %s", "auto" if number is None else number, target.name)
        if sa is None or not sa.installed:
            raise NotEstablished(
                f"{target.name} is not established; the preference is saved: "
                "`dvsum-vpn up` (or the dvsum-vpn service) applies it once it is"
            )
        if plan.data_plane == "route":
            netlink.ensure_route(plan.route)
            # systemd-resolved holds the forward on the route's link.
            step_dns(plan, inputs)
        else:
            step_connections(plan, charon)
            selectors.align(plan, charon)
        say(f"traffic to {plan.route.destination} now prefers {target.name}")
        return plan


def _through_daemon(
    inputs: Inputs, number: int | None, say: Callable[[str], None]
) -> Plan:
    """The service runs: it owns the selectors and the route.  The saved
    preference is all it needs; wait until it has moved traffic."""
    config = inputs.config
    with Netlink() as netlink:
        plan = plan_for(inputs, netlink)
    target = plan.active
    deadline = time.monotonic() + DAEMON_WAIT
    while time.monotonic() < deadline:
        view = presence.view(config.paths.run_dir)
        if view.get("primary") == target.number and view.get("active") == target.number:
            say(
                f"traffic to {plan.route.destination} now prefers {target.name} "
                "(moved by the dvsum-vpn service)"
            )
            return plan
        time.sleep(0.2)
    raise NotEstablished(
        f"the preference for {target.name} is saved; the dvsum-vpn service keeps "
        f"traffic where it is until {target.name} is up (see `dvsum-vpn status`)"
    )
