"""``render --root DIR``: every file ``up`` would write, under DIR.

Reads the machine (addresses, the current hosts file) and writes only
below DIR; what ``up`` does over netlink and nftables is printed instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.apply import files
from agent.apply.netlink import Netlink
from agent.dns import block, forward, resolved
from agent.inputs import Inputs
from agent.plan import Plan
from agent.render import charon, hosts, nft, swanctl
from agent.up import plan_for


def contents(plan: Plan, inputs: Inputs) -> dict[Path, tuple[str, int]]:
    """Path -> (text, mode) of every file ``up`` writes."""
    paths = inputs.config.paths
    out = {
        paths.swanctl_conf: (swanctl.render(plan), 0o600),
        paths.charon_dropin: (charon.render(plan.libipsec), 0o644),
    }
    if plan.hosts:
        current = files.read_text(paths.hosts) or ""
        out[paths.hosts] = (hosts.merge(current, plan.hosts), 0o644)
    dns = plan.dns
    if dns.mode == "forward" and dns.backend in forward.RENDERERS:
        path = forward.conf_path(paths, dns.backend or "")
        text = block.wanted(files.read_text(path), forward.body(dns))
        out[path] = (text, 0o644)
    return out


def intents(plan: Plan) -> str:
    r = plan.route
    return (
        f"# route (netlink)\n{r.destination} dev {r.device} src {r.source} "
        f"mtu {r.mtu} advmss {r.advmss} proto 213\n"
        f"# nftables\n{nft.render(plan)}" + _resolved(plan)
    )


def _resolved(plan: Plan) -> str:
    dns = plan.dns
    if dns.mode != "forward" or dns.backend != "systemd-resolved":
        return ""
    want = resolved.wanted(dns.domain, dns.resolvers)
    lines = [" ".join(argv) for argv in resolved.commands(plan.route.device, want)]
    return "# systemd-resolved (D-Bus)\n" + "\n".join(lines) + "\n"


def write(inputs: Inputs, root: Path, say: Callable[[str], None]) -> list[Path]:
    with Netlink() as netlink:
        plan = plan_for(inputs, netlink)
    written = []
    for path, (text, mode) in contents(plan, inputs).items():
        target = root / path.relative_to(path.anchor)
        files.write_atomic(target, text, mode)
        written.append(target)
    print(intents(plan), end="")
    return written
