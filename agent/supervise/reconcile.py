"""The one owner of everything the agent makes on the machine.

``resync`` re-applies the whole desired state for the chosen active tunnel
(files, charon's connections and secrets, interfaces, route, MSS rule, DNS
edit, selectors); ``repair`` is the cheap part that someone else may undo
(route, interfaces, MSS rule, DNS edit) and runs whenever netlink or the
hosts file says something moved, and twice a second in any case.  Both
reuse ``up``'s idempotent steps, so applying twice changes nothing and
never flaps a tunnel.

The desired state is ``plan.build`` with the active tunnel as the preferred
one: in route mode the route names its interface; in policy mode its
CHILD_SA carries the narrow selectors that win over the other's 0/0.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from agent import host as host_mod
from agent import preference, selectors
from agent import sas as sas_mod
from agent.apply.netlink import Netlink
from agent.apply.nft import Nft
from agent.apply.vici import Charon
from agent.errors import ConfigError
from agent.inputs import Inputs
from agent.plan import Host, Plan, TunnelPlan, build, interface_name
from agent.render import nft
from agent.supervise.machine import Sa
from agent.up import (
    step_charon_settings,
    step_connections,
    step_dns,
    step_files,
    step_record,
)

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Observed:
    """One tunnel as charon reports it."""

    sa: Sa
    ike: sas_mod.IkeState | None
    packets_in: int
    packets_out: int


class Reconciler:
    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.netlink = Netlink()
        self.charon: Charon | None = None
        self.host: Host = host_mod.probe(inputs.config, self.netlink)
        self._hosts_stamp: tuple[int, int, int] | None = None
        self._nft_listing: str | None = None
        self._nft_script: str | None = None

    def close(self) -> None:
        self.netlink.close()
        if self.charon is not None:
            self.charon.close()

    # -- charon ----------------------------------------------------------------

    def vici(self) -> Charon:
        """The command session, reconnected after charon went away."""
        if self.charon is None:
            self.charon = Charon(self.inputs.config.vici_uri)
        return self.charon

    def drop_vici(self) -> None:
        if self.charon is not None:
            self.charon.close()
            self.charon = None

    # -- the desired state -----------------------------------------------------

    def preferred(self) -> int:
        """The tunnel traffic should use while healthy: ``prefer``, else primary."""
        prefer = preference.read(self.inputs.config.paths.state_dir)
        plan = build(self.inputs.config, self.inputs.connection, self.host, prefer)
        return plan.active.number

    def plan(self, active: int) -> Plan:
        return build(self.inputs.config, self.inputs.connection, self.host, active)

    def reload(self, inputs: Inputs) -> None:
        """Take ``inputs`` if a plan can be built from them for either
        active tunnel; otherwise raise and keep the running ones."""
        old, new = self.inputs.config, inputs.config
        for field, before, after in (
            ("paths", old.paths, new.paths),
            ("landing_zone", old.landing_zone, new.landing_zone),
        ):
            if before != after:
                raise ConfigError(
                    f"{field}: changed while running; what the agent made under "
                    "the old value would stay behind: stop the service, run "
                    "`dvsum-vpn down`, then start it again"
                )
        host = host_mod.probe(inputs.config, self.netlink)
        prefer = preference.read(inputs.config.paths.state_dir)
        for active in (prefer, 1, 2):
            build(inputs.config, inputs.connection, host, active)
        self.inputs, self.host = inputs, host

    # -- what is there -----------------------------------------------------------

    def observe(self, plan: Plan) -> dict[int, Observed]:
        names = tuple(t.name for t in plan.tunnels)
        states = sas_mod.ike_sas(self.vici(), names)
        out = {}
        for tunnel in plan.tunnels:
            sa = sas_mod.best(states[tunnel.name])
            if sa is None:
                out[tunnel.number] = Observed(Sa.NONE, None, 0, 0)
                continue
            kind = Sa.INSTALLED if sa.installed else Sa.CONNECTING
            if not sa.installed and sa.state not in ("CONNECTING", "ESTABLISHED"):
                kind = Sa.NONE
            child = next((c for c in sa.children if c.name == tunnel.child), None)
            out[tunnel.number] = Observed(
                kind, sa, child.packets_in if child else 0,
                child.packets_out if child else 0,
            )  # fmt: skip
        return out

    def carrier(self, plan: Plan) -> int | None:
        """The tunnel that carries traffic now, as the machine is set up."""
        if plan.data_plane == "route":
            route = self.netlink.route(plan.route.destination)
            for tunnel in plan.tunnels:
                if route and route.device == interface_name(tunnel.number):
                    return tunnel.number
            return None
        states = sas_mod.ike_sas(self.vici(), tuple(t.name for t in plan.tunnels))
        carrier = selectors.narrow_carrier(
            plan, states, self.inputs.config.customer_cidr
        )
        return carrier.number if carrier else None

    # -- changes -----------------------------------------------------------------

    def resync(self, plan: Plan) -> list[str]:
        """Everything, for ``plan``; returns what had to change."""
        charon = self.vici()
        changed = []
        step_files(plan, self.inputs, charon)
        step_charon_settings(plan, self.netlink)
        before = set(charon.conns())
        step_connections(plan, charon)
        missing = {t.name for t in plan.tunnels} - before
        if missing:
            changed.append(f"connections loaded: {', '.join(sorted(missing))}")
        changed += self.repair(plan, force=True)
        changed += self.align_children(plan)
        changed += self.sweep_duplicates(plan)
        step_record(plan, self.inputs)
        return changed

    def repair(self, plan: Plan, force: bool = False) -> list[str]:
        """Put back the parts someone may have removed; what was put back."""
        changed = []
        for interface in plan.interfaces:
            if self.netlink.ensure_interface(interface):
                changed.append(f"interface {interface.name}")
        if self.netlink.ensure_route(plan.route):
            changed.append(f"route {plan.route.destination} dev {plan.route.device}")
        # The whole table, not only its rules' comments: a changed clamp or
        # an added chain must go too.  What it looked like right after our
        # last replace is the reference.
        table = Nft()
        listing = table.listing()
        script = nft.render(plan)
        if listing is None or (listing, script) != (
            self._nft_listing,
            self._nft_script,
        ):
            known = self._nft_listing is not None
            table.replace(script)
            self._nft_listing, self._nft_script = table.listing(), script
            if known or listing is None:
                changed.append("MSS rule")
        # The hosts block or the resolver's forward: step_dns compares first
        # and reloads a resolver only when its edit had to be written again.
        if step_dns(plan, self.inputs):
            changed.append(f"DNS edit ({plan.dns.mode})")
        self._hosts_stamp = _stamp(self.inputs.config.paths.hosts)
        return changed

    def hosts_moved(self) -> bool:
        """The hosts file changed since the last repair looked at it."""
        return _stamp(self.inputs.config.paths.hosts) != self._hosts_stamp

    def align_children(self, plan: Plan) -> list[str]:
        """Policy mode: selectors as the plan gives them (agent.selectors)."""
        return selectors.align(plan, self.vici())

    def sweep_duplicates(self, plan: Plan) -> list[str]:
        """More than one IKE_SA towards one AWS endpoint: keep the best."""
        charon = self.vici()
        states = sas_mod.ike_sas(charon, tuple(t.name for t in plan.tunnels))
        changed = []
        for tunnel in plan.tunnels:
            keep = sas_mod.best(states[tunnel.name])
            for sa in states[tunnel.name]:
                if keep is not None and sa.uniqueid != keep.uniqueid:
                    if sa.state == "CONNECTING" and not keep.installed:
                        continue
                    charon.terminate_ike_id(sa.uniqueid)
                    changed.append(f"{tunnel.name}: duplicate IKE_SA #{sa.uniqueid}")
        return changed

    def initiate(self, tunnel: TunnelPlan) -> None:
        for _ in self.vici().initiate(tunnel.child, tunnel.name, timeout_ms=-1):
            pass

    def terminate(self, tunnel: TunnelPlan, ike: sas_mod.IkeState) -> None:
        """Drop a dead tunnel's IKE_SA at once, without waiting for the peer."""
        self.vici().terminate_ike_id(ike.uniqueid, timeout_ms=0)


def _stamp(path: os.PathLike[str]) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
