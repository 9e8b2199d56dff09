"""``down``: remove every connection, route, rule, hosts line, DNS forward
and file the agent made, and nothing else.

It works from the record ``up`` left in the state directory, falling back
to config.yaml, and keeps going past a step that fails, so one missing
piece never leaves the rest behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from ipaddress import IPv4Network
from pathlib import Path

from agent import preference, state
from agent import sas as sas_mod
from agent.apply import files
from agent.apply.netlink import Netlink
from agent.apply.nft import Nft
from agent.apply.vici import Charon
from agent.config import Config
from agent.dns import undo
from agent.errors import ApplyError, DvsumError, TransientError
from agent.render import hosts

LOG = logging.getLogger(__name__)

NAMES = ("dvsum-tunnel1", "dvsum-tunnel2")


def down(config: Config, progress: Callable[[str], None]) -> list[DvsumError]:
    """Undo ``up``; return the failures (empty when everything went).

    Each failure is logged (ERROR) as it happens; the caller need not
    repeat it.
    """
    applied = state.read(config.paths.state_dir) or state.Applied(
        connections=NAMES,
        secrets=NAMES,
        route=str(config.landing_zone),
        nft_table=True,
        interfaces=("dvsum1", "dvsum2"),
        hosts=str(config.paths.hosts),
        files=(str(config.paths.swanctl_conf), str(config.paths.charon_dropin)),
        dns=undo.fallback(config),
    )
    failures: list[DvsumError] = []

    def attempt(what: str, action: Callable[[], object]) -> None:
        try:
            changed = action()
            progress(f"{what}: {'nothing to remove' if changed is False else 'done'}")
        except DvsumError as err:
            LOG.error("down: %s: %s", what, err)
            failures.append(err)

    attempt("connections", lambda: _connections(config, applied))
    dns = applied.dns
    if dns is not None:
        # Before the interfaces go: systemd-resolved holds it on one of them.
        attempt(f"dns forward ({dns.backend})", lambda: undo.remove(dns))
    if applied.route:
        attempt("route", lambda: _route(IPv4Network(applied.route or "")))
    for name in applied.interfaces:
        attempt(name, lambda name=name: _interface(name))  # type: ignore[misc]
    if applied.nft_table:
        attempt("nftables", lambda: Nft().delete())
    if applied.hosts:
        attempt("hosts", lambda: _hosts(Path(applied.hosts or "")))
    for name in applied.files:
        attempt(name, lambda name=name: files.remove(Path(name)))  # type: ignore[misc]
    if not failures:
        state.clear(config.paths.state_dir)
        preference.write(config.paths.state_dir, None)
    return failures


def _connections(config: Config, applied: state.Applied) -> None:
    with Charon(config.vici_uri) as charon:
        names = tuple(applied.connections)
        for name, states in sas_mod.ike_sas(charon, names).items():
            if not states:
                continue
            try:
                charon.terminate_ike(name)
                LOG.info("%s: IKE_SAs terminated", name)
            except ApplyError as err:
                # A dead peer never answers the DELETE; force=yes has charon
                # drop the SA anyway, and the check below says if it did not.
                LOG.warning("%s: %s", name, err)
        left = [n for n, s in sas_mod.ike_sas(charon, names).items() if s]
        if left:
            raise TransientError(f"charon: IKE_SAs still present: {', '.join(left)}")
        loaded = charon.conns()
        for name in names:
            if name in loaded:
                charon.unload_conn(name)
                LOG.info("%s: connection unloaded", name)
        shared = set(charon.shared_ids())
        for key_id in applied.secrets:
            if key_id in shared:
                charon.unload_shared(key_id)
                LOG.info("%s: shared secret unloaded", key_id)


def _route(destination: IPv4Network) -> None:
    with Netlink() as netlink:
        netlink.delete_route(destination)


def _interface(name: str) -> bool:
    with Netlink() as netlink:
        return netlink.delete_interface(name)


def _hosts(path: Path) -> None:
    text = files.read_text(path)
    if text is None:
        return
    stripped = hosts.strip(text)
    if stripped != text:
        files.write_atomic(path, stripped, path.stat().st_mode & 0o7777)
