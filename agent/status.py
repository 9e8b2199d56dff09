"""``status``: each tunnel's IKE and CHILD state, who carries traffic."""

from __future__ import annotations

from typing import Any

from agent import sas as sas_mod
from agent.apply.netlink import Netlink
from agent.apply.vici import Charon
from agent.inputs import Inputs
from agent.plan import Plan
from agent.up import plan_for


def carrier(plan: Plan, installed: dict[str, bool]) -> str | None:
    """The tunnel that carries traffic to the landing zone now.

    Policy mode: the primary's narrower selectors win while its CHILD_SA is
    installed, the standby's 0/0 otherwise.  Route mode: the tunnel whose
    interface the route names, when its SA is installed.
    """
    if plan.data_plane == "route":
        for tunnel in plan.tunnels:
            if plan.route.device == f"dvsum{tunnel.number}" and installed[tunnel.name]:
                return tunnel.name
        return None
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
    tunnels = []
    installed: dict[str, bool] = {}
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
    return {
        "data_plane": plan.data_plane,
        "libipsec": plan.libipsec,
        "active": carrier(plan, installed),
        "tunnels": tunnels,
        "route": {
            "destination": str(plan.route.destination),
            "present": route is not None and route.device == plan.route.device,
            "device": route.device if route else None,
            "source": str(route.source) if route and route.source else None,
            "mtu": route.mtu if route else None,
            "advmss": route.advmss if route else None,
        },
    }


def format_text(data: dict[str, Any]) -> str:
    active = data["active"] or "none"
    lines = [
        f"data plane: {data['data_plane']}"
        + (" (kernel-libipsec)" if data["libipsec"] else ""),
        f"active: {active}",
    ]
    for t in data["tunnels"]:
        lines.append(
            f"{t['name']} ({t['role']}, {t['aws_outside_address']}): "
            f"IKE {t['ike_state']}, CHILD {t['child_state']}, "
            f"in {t['bytes_in']} B / out {t['bytes_out']} B"
        )
    r = data["route"]
    if r["present"]:
        lines.append(
            f"route: {r['destination']} dev {r['device']} src {r['source']} "
            f"mtu {r['mtu']} advmss {r['advmss']}"
        )
    else:
        lines.append(f"route: {r['destination']} missing")
    return "\n".join(lines)
