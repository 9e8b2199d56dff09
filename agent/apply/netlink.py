"""Routes and links over rtnetlink (pyroute2), in ip(8)'s words.

Routes the agent installs carry its own ``proto`` number, so ``down`` can
tell them from anything an operator added by hand.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

from agent.apply.iproute import IPRoute, NetlinkError
from agent.errors import ApplyError
from agent.plan import InterfacePlan, RoutePlan

LOG = logging.getLogger(__name__)

# rtm_protocol of our routes ("proto 213" in `ip route`); unassigned in
# /etc/iproute2/rt_protos.
RTPROT_DVSUM = 213
RT_TABLE_MAIN = 254


@dataclass(frozen=True)
class Route:
    destination: IPv4Network
    device: str | None
    source: IPv4Address | None
    mtu: int | None
    advmss: int | None
    proto: int


class Netlink:
    def __init__(self) -> None:
        self._ipr = IPRoute()

    def close(self) -> None:
        self._ipr.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- links and addresses ----------------------------------------------

    def link_index(self, name: str) -> int | None:
        found = self._ipr.link_lookup(ifname=name)
        return int(found[0]) if found else None

    def link_name(self, index: int) -> str | None:
        try:
            (link,) = self._ipr.get_links(index)
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                return None
            raise
        return str(link.get_attr("IFLA_IFNAME"))

    def link_mtu(self, name: str) -> int | None:
        index = self.link_index(name)
        if index is None:
            return None
        (link,) = self._ipr.get_links(index)
        return int(link.get_attr("IFLA_MTU"))

    def addresses(self) -> list[IPv4Address]:
        """Every IPv4 address on this machine, in kernel order."""
        return [
            IPv4Address(msg.get_attr("IFA_ADDRESS"))
            for msg in self._ipr.get_addr(family=2)
        ]

    # -- XFRM interfaces (route-based mode) -------------------------------

    def interface(self, name: str) -> dict[str, Any] | None:
        """An XFRM interface's kind, if_id, MTU, state and IPv4 addresses."""
        index = self.link_index(name)
        if index is None:
            return None
        (link,) = self._ipr.get_links(index)
        info = link.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
        data = info.get_attr("IFLA_INFO_DATA") if info is not None else None
        if_id = data.get_attr("IFLA_XFRM_IF_ID") if data is not None else None
        addresses = [
            IPv4Interface(f"{msg.get_attr('IFA_ADDRESS')}/{msg['prefixlen']}")
            for msg in self._ipr.get_addr(family=2, index=index)
        ]
        return {
            "kind": kind,
            "if_id": if_id,
            "mtu": int(link.get_attr("IFLA_MTU")),
            "up": bool(link["flags"] & 1),
            "addresses": addresses,
        }

    def ensure_interface(self, plan: InterfacePlan) -> bool:
        """Create or correct one XFRM interface; return whether it changed."""
        changed = False
        current = self.interface(plan.name)
        if current is not None and (
            current["kind"] != "xfrm" or current["if_id"] != plan.if_id
        ):
            raise ApplyError(
                f"netlink: {plan.name} exists but is not an XFRM interface with "
                f"if_id {plan.if_id}; remove it or rename ours"
            )
        try:
            if current is None:
                lo = self.link_index("lo")
                self._ipr.link(
                    "add", ifname=plan.name, kind="xfrm",
                    xfrm_link=lo, xfrm_if_id=plan.if_id,
                )  # fmt: skip
                LOG.info("%s: XFRM interface created if_id=%d", plan.name, plan.if_id)
                current = self.interface(plan.name)
                assert current is not None
                changed = True
            index = self.link_index(plan.name)
            if current["mtu"] != plan.mtu:
                self._ipr.link("set", index=index, mtu=plan.mtu)
                changed = True
            if plan.address not in current["addresses"]:
                self._ipr.addr(
                    "add", index=index, address=str(plan.address.ip),
                    prefixlen=plan.address.network.prefixlen,
                )  # fmt: skip
                changed = True
            changed |= _sysctl(plan.name, "rp_filter", "2")
            changed |= _sysctl(plan.name, "disable_policy", "1")
            if not current["up"]:
                self._ipr.link("set", index=index, state="up")
                changed = True
        except NetlinkError as err:
            raise ApplyError(
                f"netlink: {plan.name}: {errno.errorcode.get(err.code, err.code)}: "
                f"{err}"
            ) from err
        if changed:
            LOG.info(
                "%s: up mtu=%d address=%s rp_filter=loose",
                plan.name, plan.mtu, plan.address,
            )  # fmt: skip
        return changed

    def delete_interface(self, name: str) -> bool:
        """Delete ``name`` if it is an XFRM interface."""
        current = self.interface(name)
        if current is None or current["kind"] != "xfrm":
            return False
        try:
            self._ipr.link("del", index=self.link_index(name))
        except NetlinkError as err:
            if err.code == errno.ENODEV:
                return False
            raise ApplyError(f"netlink: delete {name}: {err}") from err
        LOG.info("%s: XFRM interface removed", name)
        return True

    # -- routes ------------------------------------------------------------

    def route(self, destination: IPv4Network) -> Route | None:
        """Our table-main route to exactly ``destination``, if any."""
        # A dump of the main table, filtered here: with ``dst`` pyroute2
        # would ask for a route lookup (RTM_GETROUTE without NLM_F_DUMP).
        for msg in self._ipr.get_routes(family=2, table=RT_TABLE_MAIN):
            if msg["dst_len"] != destination.prefixlen:
                continue
            if msg.get_attr("RTA_DST") != str(destination.network_address):
                continue
            return self._decode(destination, msg)
        return None

    def _decode(self, destination: IPv4Network, msg: Any) -> Route:
        oif = msg.get_attr("RTA_OIF")
        src = msg.get_attr("RTA_PREFSRC")
        metrics = msg.get_attr("RTA_METRICS")
        mtu = advmss = None
        if metrics is not None:
            mtu = metrics.get_attr("RTAX_MTU")
            advmss = metrics.get_attr("RTAX_ADVMSS")
        return Route(
            destination=destination,
            device=self.link_name(oif) if oif is not None else None,
            source=IPv4Address(src) if src else None,
            mtu=mtu,
            advmss=advmss,
            proto=int(msg["proto"]),
        )

    def ensure_route(self, plan: RoutePlan) -> bool:
        """Make the route match ``plan``; return whether anything changed."""
        want = Route(
            plan.destination, plan.device, plan.source, plan.mtu, plan.advmss,
            RTPROT_DVSUM,
        )  # fmt: skip
        current = self.route(plan.destination)
        if current == want:
            return False
        if current is not None and current.proto != RTPROT_DVSUM:
            raise ApplyError(
                f"netlink: {plan.destination} already has a route that dvsum-vpn "
                f"did not make (dev {current.device}); remove it, or route the "
                "landing zone yourself and keep the agent out of it"
            )
        oif = self.link_index(plan.device)
        if oif is None:
            raise ApplyError(
                f"netlink: route {plan.destination}: no device {plan.device}"
            )
        try:
            self._ipr.route(
                "replace",
                dst=str(plan.destination),
                oif=oif,
                prefsrc=str(plan.source),
                proto=RTPROT_DVSUM,
                table=RT_TABLE_MAIN,
                metrics={"mtu": plan.mtu, "advmss": plan.advmss},
            )
        except NetlinkError as err:
            if err.code == errno.EINVAL and plan.source not in self.addresses():
                raise ApplyError(
                    f"netlink: route {plan.destination}: its source address "
                    f"{plan.source} is no longer on this machine (source_address)"
                ) from err
            raise ApplyError(
                f"netlink: route {plan.destination} dev {plan.device}: "
                f"{errno.errorcode.get(err.code, err.code)}: {err}"
            ) from err
        LOG.info(
            "route: %s dev %s src %s mtu %d advmss %d installed",
            plan.destination, plan.device, plan.source, plan.mtu, plan.advmss,
        )  # fmt: skip
        return True

    def delete_route(self, destination: IPv4Network) -> bool:
        """Delete the route to ``destination`` if it is ours."""
        current = self.route(destination)
        if current is None or current.proto != RTPROT_DVSUM:
            return False
        try:
            self._ipr.route(
                "del", dst=str(destination), proto=RTPROT_DVSUM, table=RT_TABLE_MAIN
            )
        except NetlinkError as err:
            if err.code == errno.ESRCH:
                return False
            raise ApplyError(f"netlink: delete route {destination}: {err}") from err
        LOG.info("route: %s removed", destination)
        return True

    def rules(self) -> list[dict[str, Any]]:
        """IPv4 policy rules as {table, fwmark, priority} (for charon's
        table 220)."""
        return [
            {
                "table": msg.get_attr("FRA_TABLE"),
                "fwmark": msg.get_attr("FRA_FWMARK"),
                "priority": msg.get_attr("FRA_PRIORITY"),
            }
            for msg in self._ipr.get_rules(family=2)
        ]

    def replace_rules(self, table: int, priority: int, fwmark: int) -> None:
        """Leave exactly one rule ``fwmark FWMARK lookup TABLE`` at
        ``priority``.  The kernel cannot delete a rule by "no mark" (mark 0
        means any), so every rule of ``table`` at ``priority`` goes, then the
        marked one comes back."""
        try:
            while any(
                r["table"] == table and r["priority"] == priority for r in self.rules()
            ):
                self._ipr.rule("del", family=2, table=table, priority=priority)
            self._ipr.rule(
                "add", family=2, table=table, priority=priority, fwmark=fwmark
            )
        except NetlinkError as err:
            raise ApplyError(f"netlink: rules of table {table}: {err}") from err


def _sysctl(device: str, key: str, value: str) -> bool:
    """Set net.ipv4.conf.DEVICE.KEY; return whether it changed."""
    path = Path("/proc/sys/net/ipv4/conf", device, key)
    try:
        if path.read_text().strip() == value:
            return False
        path.write_text(value + "\n")
    except OSError as err:
        raise ApplyError(f"sysctl: {path}: {err.strerror}") from err
    return True
