"""``status``: each tunnel's IKE and CHILD state, who carries traffic."""

from __future__ import annotations

from typing import Any

from agent import sas as sas_mod
from agent import selectors
from agent.apply.netlink import RTPROT_DVSUM, Netlink
from agent.apply.vici import Charon
from agent.dns import report
from agent.inputs import Inputs
from agent.plan import Plan, interface_name
from agent.supervise import presence
from agent.up import plan_for


def carrier(
    plan: Plan,
    installed: dict[str, bool],
    device: str | None,
    narrow: str | None = None,
) -> str | None:
    """The tunnel that carries traffic to the landing zone now.

    Policy mode: the tunnel whose installed CHILD_SA has the narrow
    selectors (``narrow``: the primary's, or the one ``dvsum-vpn run``
    moved traffic to) wins, the other's 0/0 otherwise.  Route mode: the tunnel whose
    interface the route names, when its SA is installed.
    """
    if plan.data_plane == "route":
        for tunnel in plan.tunnels:
            if device == interface_name(tunnel.number) and installed[tunnel.name]:
                return tunnel.name
        return None
    if narrow is not None and installed.get(narrow):
        return narrow
    ordered = sorted(plan.tunnels, key=lambda t: not t.primary)
    for tunnel in ordered:
        if installed[tunnel.name]:
            return tunnel.name
    return None


def collect(inputs: Inputs) -> dict[str, Any]:
    with Netlink() as netlink, Charon(inputs.config.vici_uri) as charon:
        plan = plan_for(inputs, netlink)
        states = sas_mod.ike_sas(charon, tuple(t.name for t in plan.tunnels))
        route = netlink.route(plan.route.destination)
        interfaces = {i.name: netlink.interface(i.name) for i in plan.interfaces}
    dns = report.describe(plan, inputs.config)
    tunnels = []
    installed: dict[str, bool] = {}
    carrying = selectors.narrow_carrier(plan, states, inputs.config.customer_cidr)
    narrow = carrying.name if carrying else None
    for tunnel in plan.tunnels:
        sa = sas_mod.best(states[tunnel.name])
        installed[tunnel.name] = bool(sa and sa.installed)
        child = sa.children[0] if sa and sa.children else None
        tunnels.append(
            {
                "name": tunnel.name,
                "role": tunnel.role,
                "aws_outside_address": str(tunnel.tunnel.aws_outside_address),
                "ike_state": sa.state if sa else "DOWN",
                "ike_sas": len(states[tunnel.name]),
                "established_seconds": sa.established_s if sa else None,
                "child_state": child.state if child else "DOWN",
                "bytes_in": child.bytes_in if child else 0,
                "bytes_out": child.bytes_out if child else 0,
                "packets_in": child.packets_in if child else 0,
                "packets_out": child.packets_out if child else 0,
            }
        )
    ours = route is not None and route.proto == RTPROT_DVSUM
    devices = {plan.route.device, *interfaces}
    return {
        "data_plane": plan.data_plane,
        "libipsec": plan.libipsec,
        "preferred": plan.active.name,
        "active": carrier(
            plan, installed, route.device if ours and route else None, narrow
        ),
        "tunnels": tunnels,
        "route": {
            "destination": str(plan.route.destination),
            "present": ours and route is not None and route.device in devices,
            "ours": ours,
            "device": route.device if route else None,
            "source": str(route.source) if route and route.source else None,
            "mtu": route.mtu if route else None,
            "advmss": route.advmss if route else None,
        },
        "interfaces": [
            {
                "name": name,
                "present": info is not None,
                "if_id": info["if_id"] if info else None,
                "mtu": info["mtu"] if info else None,
                "up": info["up"] if info else False,
                "addresses": [str(a) for a in info["addresses"]] if info else [],
            }
            for name, info in interfaces.items()
        ],
        "dns": dns,
        "supervisor": _supervisor(inputs),
    }


def _supervisor(inputs: Inputs) -> dict[str, Any] | None:
    """``dvsum-vpn run``'s own view, when it runs."""
    run_dir = inputs.config.paths.run_dir
    if presence.running(run_dir) is None:
        return None
    return presence.view(run_dir) or None


def format_text(data: dict[str, Any]) -> str:
    active = data["active"] or "none"
    lines = [
        f"data plane: {data['data_plane']}"
        + (" (kernel-libipsec)" if data["libipsec"] else ""),
        f"active: {active} (preferred: {data['preferred']})",
    ]
    for t in data["tunnels"]:
        lines.append(
            f"{t['name']} ({t['role']}, {t['aws_outside_address']}): "
            f"IKE {t['ike_state']}, CHILD {t['child_state']}, "
            f"in {t['bytes_in']} B / out {t['bytes_out']} B"
        )
    for i in data["interfaces"]:
        if i["present"]:
            lines.append(
                f"{i['name']}: xfrm if_id {i['if_id']} mtu {i['mtu']} "
                f"{'up' if i['up'] else 'DOWN'} {' '.join(i['addresses'])}"
            )
        else:
            lines.append(f"{i['name']}: missing")
    r = data["route"]
    if r["present"]:
        lines.append(
            f"route: {r['destination']} dev {r['device']} src {r['source']} "
            f"mtu {r['mtu']} advmss {r['advmss']}"
        )
    elif r["device"] and not r.get("ours"):
        lines.append(
            f"route: {r['destination']} dev {r['device']} is not dvsum-vpn's "
            "(another route to the landing zone; `up` refuses to replace it)"
        )
    else:
        lines.append(f"route: {r['destination']} missing")
    lines.append(report.format_line(data["dns"]))
    sup = data.get("supervisor")
    if sup:
        lines.append(f"supervisor (pid {sup.get('pid')}): {sup.get('status')}")
    else:
        lines.append("supervisor: not running (dvsum-vpn run / the dvsum-vpn service)")
    return "\n".join(lines)
