"""Check: both tunnels' IKE and CHILD SAs, and which one carries traffic.

A tunnel that is not up is initiated once more (unless the operator said
not to), with a short timeout, and charon's log lines for that attempt say
why it fails: the peer's AUTHENTICATION_FAILED or NO_PROPOSAL_CHOSEN, or
silence after our IKE_SA_INIT.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from agent import sas as sas_mod
from agent import status
from agent.apply.netlink import RTPROT_DVSUM, Netlink
from agent.apply.vici import Charon
from agent.check import bounded, ikelog
from agent.check.context import Context
from agent.check.result import Findings, Item, failed, passed
from agent.errors import AccessError, DvsumError, TransientError
from agent.plan import TunnelPlan
from agent.up import step_charon_settings

LOG = logging.getLogger(__name__)

VICI_TIMEOUT = 1.5
INITIATE_MS = 2000
ZERO_SPI = "0000000000000000"
KEEP_LINES = 12  # charon lines kept per attempt, for the report


def check(ctx: Context) -> Findings:
    items: list[Item] = []
    try:
        with Netlink() as netlink:
            step_charon_settings(ctx.plan, netlink)
    except TransientError as err:
        items.append(failed("charon", "charon_settings", str(err)))
    try:
        seen = _look(ctx)
    except AccessError as err:
        return Findings((failed("charon", "not_permitted", str(err)),), str(err))
    except DvsumError as err:
        item = failed("charon", "charon_down", str(err), uri=ctx.config.vici_uri)
        return Findings((*items, item), "charon does not answer")

    installed = {t.name: _installed(seen, t) for t in ctx.plan.tunnels}
    active = status.carrier(
        ctx.plan, installed, seen["route_device"], _narrow(ctx, seen)
    )
    probes = [t for t in ctx.plan.tunnels if not installed[t.name]]
    attempts = _attempts(ctx, probes, seen) if ctx.options.initiate else {}
    for tunnel in ctx.plan.tunnels:
        facts = _facts(seen, tunnel, tunnel.name == active)
        if installed[tunnel.name]:
            items.append(passed(tunnel.name, _up_detail(facts), **facts))
        else:
            items.append(_down_item(tunnel, seen, attempts.get(tunnel.name), facts))
    return Findings(
        tuple(items),
        _summary(items, active),
        {"active": active, "charon_version": seen["version"]},
    )


def snapshot(ctx: Context) -> dict[str, dict[str, int]]:
    """Byte and packet counters of each tunnel's best CHILD_SA now."""
    names = tuple(t.name for t in ctx.plan.tunnels)
    with Charon(ctx.config.vici_uri, timeout=VICI_TIMEOUT) as charon:
        states = sas_mod.ike_sas(charon, names)
    out = {}
    for name in names:
        sa = sas_mod.best(states[name])
        child = sa.children[0] if sa and sa.children else None
        out[name] = {
            "sa": sa.uniqueid if sa else 0,
            "bytes_in": child.bytes_in if child else 0,
            "bytes_out": child.bytes_out if child else 0,
            "packets_in": child.packets_in if child else 0,
            "packets_out": child.packets_out if child else 0,
        }
    return out


# -- what charon and the kernel say --------------------------------------------


def _look(ctx: Context) -> dict[str, Any]:
    names = tuple(t.name for t in ctx.plan.tunnels)
    with Charon(ctx.config.vici_uri, timeout=VICI_TIMEOUT) as charon:
        version = charon.version()
        loaded = set(charon.conns())
        raw = charon.sas()
        states = sas_mod.ike_sas(charon, names)
    with Netlink() as netlink:
        route = netlink.route(ctx.plan.route.destination)
    ours = route is not None and route.proto == RTPROT_DVSUM
    return {
        "version": f"{version.get('daemon', 'charon')} {version.get('version', '')}",
        "loaded": loaded,
        "raw": raw,
        "states": states,
        "route_device": route.device if ours and route else None,
    }


def _installed(seen: dict[str, Any], tunnel: TunnelPlan) -> bool:
    sa = sas_mod.best(seen["states"][tunnel.name])
    return bool(sa and sa.installed)


def _narrow(ctx: Context, seen: dict[str, Any]) -> str | None:
    """Policy mode: the tunnel whose CHILD_SA has the narrow selectors (the
    primary's, or the one ``dvsum-vpn run`` moved traffic to)."""
    narrow_ts = (str(ctx.config.customer_cidr),)
    for tunnel in ctx.plan.tunnels:
        sa = sas_mod.best(seen["states"][tunnel.name])
        if sa and any(c.local_ts == narrow_ts for c in sa.children):
            return tunnel.name
    return None


def _raw(seen: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [details for conn, details in seen["raw"] if conn == name]


def _facts(seen: dict[str, Any], tunnel: TunnelPlan, active: bool) -> dict[str, Any]:
    sa = sas_mod.best(seen["states"][tunnel.name])
    child = sa.children[0] if sa and sa.children else None
    raw = next((r for r in _raw(seen, tunnel.name) if sa and
                r.get("uniqueid") == str(sa.uniqueid)), {})  # fmt: skip
    return {
        "number": tunnel.number,
        "role": tunnel.role,
        "aws_outside_address": str(tunnel.tunnel.aws_outside_address),
        "local_id": str(tunnel.tunnel.customer_outside_address),
        "active": active,
        "loaded": tunnel.name in seen["loaded"],
        "ike_state": sa.state if sa else "DOWN",
        "ike_sas": len(seen["states"][tunnel.name]),
        "responder_spi_zero": raw.get("responder-spi") == ZERO_SPI,
        "behind_nat": raw.get("nat-local") == "yes",
        "established_seconds": sa.established_s if sa else None,
        "child_state": child.state if child else "DOWN",
        "bytes_in": child.bytes_in if child else 0,
        "bytes_out": child.bytes_out if child else 0,
        "packets_in": child.packets_in if child else 0,
        "packets_out": child.packets_out if child else 0,
    }


def _up_detail(facts: dict[str, Any]) -> str:
    role = facts["role"] + (", active" if facts["active"] else "")
    return (
        f"{facts['aws_outside_address']} ({role}): IKE ESTABLISHED "
        f"{facts['established_seconds']} s, CHILD {facts['child_state']}, "
        f"in {facts['bytes_in']} B / out {facts['bytes_out']} B"
    )


# -- a tunnel that is not up ---------------------------------------------------


def _attempts(
    ctx: Context, tunnels: list[TunnelPlan], seen: dict[str, Any]
) -> dict[str, tuple[ikelog.Attempt, list[str]]]:
    """Initiate each loaded tunnel at once; what charon said about each."""
    tunnels = [t for t in tunnels if t.name in seen["loaded"]]
    outcomes = bounded.call_all(
        [functools.partial(_initiate, ctx, t) for t in tunnels],
        INITIATE_MS / 1000 + 0.5,
    )
    out = {}
    for tunnel, outcome in zip(tunnels, outcomes, strict=True):
        if outcome.value is not None:
            out[tunnel.name] = outcome.value
        else:
            LOG.debug("%s: initiate gave no answer: %s", tunnel.name, outcome.error)
    return out


def _initiate(ctx: Context, tunnel: TunnelPlan) -> tuple[ikelog.Attempt, list[str]]:
    lines: list[str] = []
    error = ""
    with Charon(ctx.config.vici_uri, timeout=VICI_TIMEOUT + INITIATE_MS / 1000) as ch:
        try:
            for line in ch.initiate(tunnel.child, tunnel.name, INITIATE_MS):
                lines.append(line)
        except DvsumError as err:
            error = str(err)
        attempt = ikelog.classify(lines, error)
        if attempt.kind in ("pending", "failed", "incomplete"):
            # No decisive line in the window: the SA now tells whether the
            # peer ever answered our IKE_SA_INIT.
            for conn, details in ch.sas(tunnel.name):
                if conn == tunnel.name and details.get("state") == "CONNECTING":
                    silent = details.get("responder-spi") == ZERO_SPI
                    kind = "no_response" if silent else "incomplete"
                    attempt = ikelog.Attempt(
                        kind, attempt.line, attempt.sent, not silent,
                        attempt.behind_nat,
                    )  # fmt: skip
    LOG.info("%s: check initiated it: %s", tunnel.name, attempt.kind)
    return attempt, lines[-KEEP_LINES:]


def _down_item(
    tunnel: TunnelPlan,
    seen: dict[str, Any],
    attempt: tuple[ikelog.Attempt, list[str]] | None,
    facts: dict[str, Any],
) -> Item:
    where = f"{tunnel.tunnel.aws_outside_address} ({tunnel.role})"
    state = f"IKE {facts['ike_state']}, CHILD {facts['child_state']}"
    if not facts["loaded"]:
        return failed(
            tunnel.name, "not_loaded",
            f"{where}: charon has no connection {tunnel.name}", **facts,
        )  # fmt: skip
    if attempt is None:
        kind = _kind_from_state(facts)
        return failed(tunnel.name, kind, f"{where}: {state}", **facts)
    result, lines = attempt
    facts = {**facts, "charon_lines": lines, "attempt_line": result.line,
             "behind_nat": facts["behind_nat"] or result.behind_nat}  # fmt: skip
    if result.kind == "established":
        return failed(
            tunnel.name, "came_up",
            f"{where}: was {state}; came up when check initiated it", **facts,
        )  # fmt: skip
    said = {
        "no_response": f"no answer to IKE_SA_INIT in {INITIATE_MS / 1000:g} s",
        "incomplete": "the peer answered IKE_SA_INIT but not IKE_AUTH",
    }.get(result.kind, result.line or result.kind)
    return failed(
        tunnel.name, result.kind, f"{where}: {state}; initiated: {said}", **facts
    )


def _kind_from_state(facts: dict[str, Any]) -> str:
    if facts["ike_state"] == "CONNECTING":
        return "no_response" if facts["responder_spi_zero"] else "incomplete"
    if facts["ike_state"] == "ESTABLISHED":
        return "no_child"
    return "down"


def _summary(items: list[Item], active: str | None) -> str:
    carrying = f"traffic on {active}" if active else "no tunnel carries traffic"
    bad = [f"{i.target}: {i.kind}" for i in items if not i.ok]
    if not bad:
        return f"both tunnels established; {carrying}"
    return f"{', '.join(bad)}; {carrying}"
