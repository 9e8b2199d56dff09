"""What ``status`` says about DNS: the mode, and whether our edit holds."""

from __future__ import annotations

from typing import Any

from agent.apply import files
from agent.config import Config
from agent.dns import owned, resolved, resolved_link
from agent.dns.forward import body, conf_path
from agent.errors import DvsumError
from agent.plan import Plan
from agent.render import hosts


def describe(plan: Plan, config: Config) -> dict[str, Any]:
    """Never raises: a resolver that cannot be asked is reported as such."""
    dns = plan.dns
    data: dict[str, Any] = {"mode": dns.mode}
    if dns.mode == "hosts":
        text = files.read_text(config.paths.hosts) or ""
        data["edit"] = str(config.paths.hosts)
        data["present"] = hosts.present(text) == tuple(plan.hosts)
        return data
    if dns.mode != "forward":
        return data
    data.update(
        backend=dns.backend,
        domain=dns.domain,
        resolvers=[str(r) for r in dns.resolvers],
        edit=None,
        present=False,
        problem=None,
    )
    if dns.backend is None:
        data["problem"] = "no resolver found on this machine (dns.backend auto)"
    elif dns.backend == "systemd-resolved":
        data["edit"] = link = plan.route.device
        try:
            current = resolved_link.read(link)
        except DvsumError as err:
            data["problem"] = str(err)
            return data
        want = resolved.wanted(dns.domain, dns.resolvers)
        data["present"] = current is not None and resolved.settled(current, want)
        if data["present"] and current is not None and not current.dns_scope:
            data["problem"] = f"resolved does not use {link}'s servers"
    else:
        path = conf_path(config.paths, dns.backend)
        data["edit"] = str(path)
        data["present"] = owned.present(path, body(dns))
    return data


def format_line(data: dict[str, Any]) -> str:
    mode = data["mode"]
    if mode == "none":
        return "dns: none (left alone)"
    state = "in place" if data.get("present") else "MISSING"
    if mode == "hosts":
        return f"dns: hosts block in {data['edit']}: {state}"
    line = (
        f"dns: forward {data['domain']} -> {', '.join(data['resolvers'])} "
        f"via {data['backend'] or 'no resolver'}"
    )
    if data["edit"]:
        line += f" ({data['edit']}): {state}"
    if data["problem"]:
        line += f"; {data['problem']}"
    return line
