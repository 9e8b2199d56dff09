"""An AWS VPN endpoint: a charon responder with AWS's tunnel parameters.

What DvSum's AWS side does, as far as the customer can tell: IKEv2 with a
pre-shared key, identities = outside addresses, group 14 only (a peer that
proposes modp1024 is refused), DPD every 10 s with action clear, 0/0 ↔ 0/0
traffic selectors that accept a narrower proposal, AWS's lifetimes, and it
never initiates.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from tests.lab import charon
from tests.lab.addresses import Addresses, AwsTunnel
from tests.lab.daemons import Daemons
from tests.lab.topology import route_customer_into_tunnel

LOG = logging.getLogger(__name__)

PROPOSAL = "aes128-sha1-modp2048"
CONN_NAME = "aws-tunnel"
CHILD_NAME = "vpc"

# AWS gives up on a silent peer ~40 s after the last packet: DPD probes
# after 10 s of silence, and a probe's retransmissions run out 30 s later.
RETRANSMIT = (2, 10, 1)


def connection(tunnel: AwsTunnel, addr: Addresses) -> dict[str, Any]:
    """The VICI load-conn message for one AWS tunnel endpoint."""
    conn: dict[str, Any] = OrderedDict(
        version="2",
        local_addrs=[str(tunnel.outside)],
        remote_addrs=["%any"],
        proposals=[PROPOSAL],
        dpd_delay="10s",
        rekey_time="28800s",
        reauth_time="0",
        mobike="no",
        fragmentation="yes",
        unique="replace",
        local=OrderedDict(auth="psk", id=str(tunnel.outside)),
        remote=OrderedDict(auth="psk", id=str(addr.customer_public)),
        children=OrderedDict(
            {
                CHILD_NAME: OrderedDict(
                    mode="tunnel",
                    local_ts=["0.0.0.0/0"],
                    remote_ts=["0.0.0.0/0"],
                    esp_proposals=[PROPOSAL],
                    rekey_time="3600s",
                    dpd_action="clear",
                    start_action="none",
                    close_action="none",
                )
            }
        ),
    )
    return OrderedDict({CONN_NAME: conn})


def shared_key(tunnel: AwsTunnel, addr: Addresses, psk: str) -> dict[str, Any]:
    """The VICI load-shared message for the tunnel's PSK."""
    return OrderedDict(
        id=f"psk-{tunnel.ns}",
        type="IKE",
        data=psk,
        owners=[str(tunnel.outside), str(addr.customer_public)],
    )


def start(
    daemons: Daemons,
    ns: str,
    directory: Path,
    tunnel: AwsTunnel,
    *,
    addr: Addresses,
    psk: str,
) -> charon.CharonPaths:
    """Start the endpoint's charon in ns, load its tunnel, route into it."""
    paths = charon.CharonPaths(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths.conf.write_text(charon.render_conf(paths, fwmark=True, retransmit=RETRANSMIT))
    charon.start(daemons, ns, paths)
    with charon.session(paths.vici) as ses:
        ses.load_shared(shared_key(tunnel, addr, psk))
        ses.load_conn(connection(tunnel, addr))
    route_customer_into_tunnel(ns, addr)
    LOG.info("AWS endpoint %s (%s) ready", tunnel.ns, tunnel.outside)
    return paths


def list_sas(vici_socket: Path) -> list[dict[str, Any]]:
    """The endpoint's IKE_SAs as VICI list-sas returns them (bytes decoded)."""
    with charon.session(vici_socket) as ses:
        return [_decode(sa) for sa in ses.list_sas()]


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
