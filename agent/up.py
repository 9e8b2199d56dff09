"""``up``: apply the plan as a named checklist of idempotent steps.

Each step compares what is wanted with what is there and changes only the
difference, so running ``up`` twice re-creates nothing: no SA, no route.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent import host as host_mod
from agent import preference, selectors, state
from agent import sas as sas_mod
from agent.apply import files
from agent.apply.netlink import Netlink
from agent.apply.nft import Nft
from agent.apply.vici import Charon
from agent.dns import forward, undo
from agent.errors import TransientError
from agent.inputs import Inputs
from agent.plan import Plan, build
from agent.render import charon as charon_conf
from agent.render import hosts, nft, swanctl

LOG = logging.getLogger(__name__)

Progress = Callable[[str], None]

TABLE_CHARON = 220


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    established: tuple[str, ...]
    pending: tuple[str, ...]


def plan_for(inputs: Inputs, netlink: Netlink) -> Plan:
    host = host_mod.probe(inputs.config, netlink)
    prefer = preference.read(inputs.config.paths.state_dir)
    return build(inputs.config, inputs.connection, host, prefer)


def up(
    inputs: Inputs, timeout: float, progress: Progress, wait: bool = True
) -> Outcome:
    config = inputs.config
    with Netlink() as netlink, Charon(config.vici_uri) as charon:
        plan = plan_for(inputs, netlink)
        LOG.info(
            "up: data_plane=%s libipsec=%s primary=%s",
            plan.data_plane, plan.libipsec,
            next(t.tunnel.aws_outside_address for t in plan.tunnels if t.primary),
        )  # fmt: skip

        step_files(plan, inputs, charon)
        step_charon_settings(plan, netlink)
        step_connections(plan, charon)
        step_interfaces(plan, netlink)
        step_initiate(plan, charon, progress)
        step_route(plan, netlink)
        step_mss(plan)
        step_dns(plan, inputs)
        step_record(plan, inputs)
        if not wait:
            return Outcome(plan, (), tuple(t.name for t in plan.tunnels))
        outcome = wait_established(plan, charon, timeout, progress)
        chosen = choose_active(plan, outcome.established)
        if chosen is not plan:
            step_route(chosen, netlink)
        # Policy mode: a `prefer` saved while its tunnel was down, or an
        # SA left narrow by an earlier choice, takes effect now.
        selectors.align(plan, charon)
        return outcome


def step_record(plan: Plan, inputs: Inputs) -> None:
    """Note what the agent made, for ``down`` (state_dir/applied.json)."""
    config = inputs.config
    state.write(
        config.paths.state_dir,
        state.Applied(
            connections=tuple(t.name for t in plan.tunnels),
            secrets=tuple(t.name for t in plan.tunnels),
            route=str(plan.route.destination),
            nft_table=True,
            interfaces=tuple(i.name for i in plan.interfaces),
            hosts=str(config.paths.hosts) if plan.hosts else None,
            files=(str(config.paths.swanctl_conf), str(config.paths.charon_dropin)),
            dns=undo.record(plan, config),
        ),
    )


def step_files(plan: Plan, inputs: Inputs, charon: Charon) -> None:
    paths = inputs.config.paths
    files.write_atomic(paths.swanctl_conf, swanctl.render(plan), 0o600)
    if files.write_atomic(
        paths.charon_dropin, charon_conf.render(plan.libipsec), 0o644
    ):
        charon.reload_settings()
        LOG.info("charon: settings reloaded from %s", paths.charon_dropin)


def step_charon_settings(plan: Plan, netlink: Netlink) -> None:
    """Refuse to go on when charon runs without the settings we need.

    A table-220 rule without the mark next to one with it is a leftover:
    a charon that ran without the drop-in and was told to reload its
    settings fails to remove its old rule when it stops.  The running charon
    has the mark, so the leftover goes."""
    charon_rules = [r for r in netlink.rules() if r["table"] == TABLE_CHARON]
    unmarked = [r for r in charon_rules if not r["fwmark"]]
    if unmarked and len(unmarked) < len(charon_rules):
        marked = next(r for r in charon_rules if r["fwmark"])
        netlink.replace_rules(TABLE_CHARON, marked["priority"], marked["fwmark"])
        LOG.warning(
            "charon: removed a stale table-%d rule without dvsum-vpn's mark, "
            "left by a charon that ran before the drop-in", TABLE_CHARON,
        )  # fmt: skip
    elif unmarked:
        raise TransientError(
            "charon: it runs without dvsum-vpn's settings (its table-220 rule "
            "catches all traffic); restart it: systemctl restart strongswan"
        )
    if plan.libipsec and netlink.link_index(plan.route.device) is None:
        raise TransientError(
            f"charon: no {plan.route.device} device: this kernel has no ESP and "
            "charon has not loaded kernel-libipsec; restart it: systemctl "
            "restart strongswan"
        )


def step_connections(plan: Plan, charon: Charon) -> None:
    for secret in swanctl.secrets(plan):
        charon.load_shared(secret)
    loaded = charon.conns()
    wanted = swanctl.connections(plan)
    for name, message in wanted.items():
        charon.load_conn(name, message)
        if name not in loaded:
            LOG.info("%s: connection loaded", name)
    for name in loaded:
        if name.startswith("dvsum-tunnel") and name not in wanted:
            charon.unload_conn(name)
            LOG.info("%s: stale connection unloaded", name)


def step_initiate(plan: Plan, charon: Charon, progress: Progress) -> None:
    states = sas_mod.ike_sas(charon, tuple(t.name for t in plan.tunnels))
    for tunnel in plan.tunnels:
        current = states[tunnel.name]
        if any(s.installed or s.state == "CONNECTING" for s in current):
            LOG.debug("%s: already up or connecting", tunnel.name)
            continue
        LOG.info(
            "%s: initiating to %s (%s)",
            tunnel.name, tunnel.tunnel.aws_outside_address, tunnel.role,
        )  # fmt: skip
        progress(f"{tunnel.name}: initiating to {tunnel.tunnel.aws_outside_address}")
        for _ in charon.initiate(tunnel.child, tunnel.name, timeout_ms=-1):
            pass


def step_interfaces(plan: Plan, netlink: Netlink) -> None:
    for interface in plan.interfaces:
        netlink.ensure_interface(interface)


def choose_active(plan: Plan, established: tuple[str, ...]) -> Plan:
    """Route mode: the preferred tunnel when it is up, else one that is.

    The continuous version of this choice, with hysteresis, belongs to the
    supervisor (issue #5); ``up`` makes it once, after waiting.
    """
    if plan.active.name in established or not established:
        return plan
    fallback = next(t for t in plan.tunnels if t.name in established)
    LOG.warning(
        "%s: not established; routing through %s instead",
        plan.active.name, fallback.name,
    )  # fmt: skip
    return plan.via(fallback.number)


def step_route(plan: Plan, netlink: Netlink) -> None:
    netlink.ensure_route(plan.route)


def step_mss(plan: Plan) -> None:
    table = Nft()
    if table.comments() != nft.rule_comments(plan):
        table.replace(nft.render(plan))


def step_dns(plan: Plan, inputs: Inputs) -> bool:
    """Names of the DvSum domain resolve as ``dns.mode`` says; whether
    anything changed.

    hosts: our block in the hosts file.  forward: our edit in the
    resolver's configuration, the resolver reloaded only when it changed
    (``agent.dns.forward``), and a hosts block left from hosts mode taken
    out.  none: nothing.  Idempotent and cheap, for a caller that repairs
    every second.
    """
    dropped = undo.drop_superseded(plan, inputs.config)
    if plan.dns.mode == "forward":
        changed = forward.ensure(plan, inputs.config.paths)
        return _strip_hosts(inputs.config.paths.hosts) or changed or dropped
    return _hosts(plan, inputs) or dropped


# The name before forward mode existed; callers of it get every mode.
step_hosts = step_dns


def _strip_hosts(path: Path) -> bool:
    text = files.read_text(path)
    if text is None or hosts.present(text) is None:
        return False
    return files.write_atomic(path, hosts.strip(text), path.stat().st_mode & 0o7777)


# The shadowing lines last warned about, per hosts file.
_SHADOWS_WARNED: dict[Path, list[tuple[str, str]]] = {}


def _hosts(plan: Plan, inputs: Inputs) -> bool:
    path = inputs.config.paths.hosts
    if not plan.hosts:
        return False
    text = files.read_text(path) or ""
    merged = hosts.merge(text, plan.hosts)
    shadows = hosts.shadowing(text, plan.hosts)
    # A daemon calls this twice a second: say each finding once, and again
    # whenever the block is written.
    if merged != text or _SHADOWS_WARNED.get(path) != shadows:
        for name, address in shadows:
            LOG.warning(
                "%s: a line before our block maps %s to %s, and the first "
                "line wins; remove it", path, name, address,
            )  # fmt: skip
        _SHADOWS_WARNED[path] = shadows
    if merged == text:
        return False
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    return files.write_atomic(path, merged, mode)


def wait_established(
    plan: Plan, charon: Charon, timeout: float, progress: Progress
) -> Outcome:
    deadline = time.monotonic() + timeout
    names = tuple(t.name for t in plan.tunnels)
    last: dict[str, str] = {}
    while True:
        states = sas_mod.ike_sas(charon, names)
        done = []
        for name in names:
            sa = sas_mod.best(states[name])
            word = "down" if sa is None else sa.state
            if sa is not None and sa.installed:
                word = "ESTABLISHED, child INSTALLED"
                done.append(name)
            if last.get(name) != word:
                progress(f"{name}: {word}")
                last[name] = word
        if len(done) == len(names) or time.monotonic() >= deadline:
            pending = tuple(n for n in names if n not in done)
            return Outcome(plan, tuple(done), pending)
        time.sleep(0.2)
