"""Check: the landing zone goes through the tunnel, with the MTU and MSS.

Three things, each an item: the agent's route to the landing zone as the
plan wants it; the kernel's routing decision for every service address
(which catches a more specific route or a rule that sends it elsewhere);
and the nftables clamp for forwarded SYNs.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from agent import profile
from agent.apply.netlink import RTPROT_DVSUM, Netlink, Route
from agent.apply.nft import Nft
from agent.check import lookup
from agent.check.context import Context
from agent.check.result import Findings, Item, failed, passed
from agent.errors import DvsumError
from agent.plan import Plan
from agent.render import nft


def check(ctx: Context) -> Findings:
    plan = ctx.plan
    with Netlink() as netlink:
        route = netlink.route(plan.route.destination)
    items = [_zone(plan, route)]
    device = _device(plan, route)
    for found in lookup.route_get(_targets(ctx)):
        items.append(_lookup(ctx, found, device))
    items.append(_mss(plan))
    bad = [i for i in items if not i.ok]
    summary = (
        "; ".join(f"{i.target}: {i.kind}" for i in bad)
        if bad
        else f"{plan.route.destination} dev {device} mtu {plan.route.mtu} "
        f"advmss {plan.route.advmss}; forwarded SYNs clamped to {plan.mss}"
    )
    return Findings(tuple(items), summary, {"device": device})


def _targets(ctx: Context) -> list[IPv4Address]:
    found = set(ctx.expected.values()) | set(ctx.resolvers)
    if not found:
        found = {next(ctx.config.landing_zone.hosts())}
    return sorted(found)


def _devices(plan: Plan) -> set[str]:
    """Devices the landing zone may leave by: ipsec0, or dvsum1/dvsum2."""
    if plan.interfaces:
        return {i.name for i in plan.interfaces}
    return {plan.route.device}


def _device(plan: Plan, route: Route | None) -> str:
    """The tunnel device traffic should leave by now."""
    if route is not None and route.device in _devices(plan):
        return route.device
    return plan.route.device


def _guide_note(plan: Plan) -> str:
    if plan.libipsec:
        return (
            f" (kernel-libipsec's TUN device: the guide's {profile.DVSUM.mtu}/"
            f"{profile.DVSUM.mss} are for XFRM interfaces)"
        )
    return ""


def _zone(plan: Plan, route: Route | None) -> Item:
    want = plan.route
    target = str(want.destination)
    facts = {
        "present": route is not None,
        "ours": route is not None and route.proto == RTPROT_DVSUM,
        "device": route.device if route else None,
        "source": str(route.source) if route and route.source else None,
        "mtu": route.mtu if route else None,
        "advmss": route.advmss if route else None,
        "want_mtu": want.mtu,
        "want_advmss": want.advmss,
        "want_device": want.device,
    }
    if route is None:
        return failed(target, "missing", f"no route to {target}", **facts)
    shown = (
        f"{target} dev {route.device} src {route.source} mtu {route.mtu} "
        f"advmss {route.advmss}"
    )
    if route.proto != RTPROT_DVSUM:
        return failed(
            target, "foreign", f"{shown}: not made by dvsum-vpn (proto "
            f"{route.proto})", **facts,
        )  # fmt: skip
    if route.device not in _devices(plan):
        return failed(
            target, "wrong_device", f"{shown}: expected dev {want.device}", **facts
        )
    if (route.mtu, route.advmss) != (want.mtu, want.advmss):
        return failed(
            target, "mtu_mss",
            f"{shown}: expected mtu {want.mtu} advmss {want.advmss}", **facts,
        )  # fmt: skip
    if route.source != want.source:
        return failed(
            target, "wrong_source", f"{shown}: expected src {want.source}", **facts
        )
    return passed(target, shown + _guide_note(plan), **facts)


def _lookup(ctx: Context, found: lookup.Lookup, device: str) -> Item:
    target = str(found.destination)
    facts = {
        "address": target,
        "device": found.device,
        "source": str(found.source) if found.source else None,
        "gateway": str(found.gateway) if found.gateway else None,
    }
    if found.error is not None:
        return failed(target, "unreachable", f"{target}: {found.error}", **facts)
    via = f" via {found.gateway}" if found.gateway else ""
    shown = f"{target} leaves by {found.device}{via} src {found.source}"
    if found.device != device:
        return failed(target, "bypass", f"{shown}, not the tunnel ({device})", **facts)
    cidr = ctx.config.customer_cidr
    if found.source is None or found.source not in cidr:
        return failed(
            target, "wrong_source",
            f"{shown}: AWS routes back only {cidr}", **facts,
        )  # fmt: skip
    return passed(target, shown, **facts)


def _mss(plan: Plan) -> Item:
    target = "MSS clamp"
    want = nft.rule_comments(plan)
    devices = ", ".join(plan.mss_devices)
    try:
        have = Nft().comments()
    except (ImportError, OSError, DvsumError) as err:
        return failed(target, "mss_unknown", f"cannot read nftables: {err}")
    if have is None:
        return failed(
            target, "mss_missing",
            f"no table {nft.FAMILY} {nft.TABLE}: forwarded SYNs are not clamped",
        )  # fmt: skip
    if tuple(have) != want:
        return failed(
            target, "mss_mismatch",
            f"table {nft.FAMILY} {nft.TABLE} has rules {list(have)}, "
            f"expected {list(want)}",
        )  # fmt: skip
    return passed(
        target, f"forwarded SYNs clamped to MSS {plan.mss} both ways on {devices}"
    )
