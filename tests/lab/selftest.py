"""A throwaway customer configuration that proves the lab without the agent.

Two IKEv2 connections from the gateway namespace, one per AWS endpoint:
the primary's child narrows its selectors to customer CIDR ↔ landing zone
(reqid 1), the standby's keeps 0/0 ↔ 0/0 (reqid 2), so libipsec sends
through the primary while both are up (shared/notes/lab-facts.md). The
gateway routes the landing zone into ipsec0 itself, with a LAN source.

Only the lab's own tests use this; the agent loads its own configuration.
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Address
from pathlib import Path
from subprocess import CompletedProcess

from tests.lab import charon
from tests.lab.addresses import Addresses
from tests.lab.charon import FWMARK, TUN_DEVICE
from tests.lab.commands import run
from tests.lab.lab import Lab

LOG = logging.getLogger(__name__)

NAME = "lab-selftest"
PROPOSAL = "aes128-sha1-modp2048"
INITIATE_TIMEOUT = 30

DROPIN = f"""\
# The lab self-test's drop-in (the agent writes its own in its place).
charon {{
    install_routes = no
    plugins {{
        kernel-netlink {{
            fwmark = {FWMARK}
        }}
    }}
}}
"""


def connection_name(number: int) -> str:
    return f"{NAME}-aws{number}"


def render_swanctl(addr: Addresses, psks: dict[IPv4Address, str]) -> str:
    """swanctl.conf with both connections and their PSKs."""
    conns, secrets = [], []
    for tunnel in addr.tunnels:
        primary = tunnel.number == 1
        local_ts = str(addr.customer_cidr) if primary else "0.0.0.0/0"
        remote_ts = str(addr.landing_zone) if primary else "0.0.0.0/0"
        name = connection_name(tunnel.number)
        conns += [
            f"    {name} {{",
            "        version = 2",
            f"        remote_addrs = {tunnel.outside}",
            f"        proposals = {PROPOSAL}",
            "        dpd_delay = 10s",
            "        local {",
            "            auth = psk",
            f"            id = {addr.customer_public}",
            "        }",
            "        remote {",
            "            auth = psk",
            f"            id = {tunnel.outside}",
            "        }",
            "        children {",
            f"            {name} {{",
            f"                local_ts = {local_ts}",
            f"                remote_ts = {remote_ts}",
            f"                esp_proposals = {PROPOSAL}",
            f"                reqid = {tunnel.number}",
            "                start_action = none",
            "            }",
            "        }",
            "    }",
        ]
        secrets += [
            f"    ike-{name} {{",
            f"        id = {tunnel.outside}",
            f'        secret = "{psks[tunnel.outside]}"',
            "    }",
        ]
    head = ["# The lab self-test's customer side.", "connections {"]
    return "\n".join([*head, *conns, "}", "secrets {", *secrets, "}", ""])


def read_psks(psk_txt: Path) -> dict[IPv4Address, str]:
    """The lab's psk.txt: `<aws outside>: <psk>` lines."""
    psks = {}
    for line in psk_txt.read_text().splitlines():
        address, _, psk = line.partition(":")
        psks[IPv4Address(address.strip())] = psk.strip()
    return psks


def swanctl_file(lab: Lab) -> Path:
    return lab.customer.swanctl_dir / f"{NAME}.conf"


def dropin_file(lab: Lab) -> Path:
    return lab.customer.dropin_dir / f"{NAME}.conf"


def start(lab: Lab) -> None:
    """Start the customer charon with the self-test config, bring both up."""
    addr = lab.addresses
    dropin_file(lab).write_text(DROPIN)
    conf = swanctl_file(lab)
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(render_swanctl(addr, read_psks(lab.psk_txt)))
    conf.chmod(0o600)
    lab.start_customer_charon()
    uri = f"unix://{lab.customer.vici}"
    run(["swanctl", "--load-all", "--noprompt", "--file", str(conf), "--uri", uri])
    for tunnel in addr.tunnels:
        name = connection_name(tunnel.number)
        run(
            [
                "swanctl", "--initiate", "--ike", name, "--child", name,
                "--timeout", str(INITIATE_TIMEOUT), "--uri", uri,
            ],
            timeout=INITIATE_TIMEOUT + 5,
        )  # fmt: skip
    lab.exec(
        "cgw", "ip", "route", "replace", str(addr.landing_zone),
        "dev", TUN_DEVICE, "src", str(addr.cgw_lan.ip),
    )  # fmt: skip
    LOG.info("self-test tunnels up")


def initiate_with_proposal(lab: Lab, proposal: str) -> CompletedProcess[str]:
    """Try tunnel 1 with IKE proposal `proposal`; the swanctl run's result.

    The connection is loaded over VICI and unloaded again afterwards.
    """
    addr, tunnel = lab.addresses, lab.addresses.tunnel(1)
    name = f"{NAME}-proposal"
    conn = {
        name: {
            "version": "2",
            "remote_addrs": [str(tunnel.outside)],
            "proposals": [proposal],
            "local": {"auth": "psk", "id": str(addr.customer_public)},
            "remote": {"auth": "psk", "id": str(tunnel.outside)},
            "children": {
                name: {
                    "local_ts": [str(addr.customer_cidr)],
                    "remote_ts": [str(addr.landing_zone)],
                    "esp_proposals": [PROPOSAL],
                }
            },
        }
    }
    secret = {
        "id": f"{name}-psk",
        "type": "IKE",
        "data": read_psks(lab.psk_txt)[tunnel.outside],
        "owners": [str(tunnel.outside)],
    }
    with charon.session(lab.customer.vici) as ses:
        ses.load_shared(secret)
        ses.load_conn(conn)
    try:
        return run(
            [
                "swanctl", "--initiate", "--ike", name, "--child", name,
                "--timeout", "10", "--uri", f"unix://{lab.customer.vici}",
            ],
            check=False,
            timeout=15,
        )  # fmt: skip
    finally:
        with charon.session(lab.customer.vici) as ses:
            ses.unload_conn({"name": name})
            ses.unload_shared({"id": f"{name}-psk"})


def stop(lab: Lab) -> None:
    """Undo start(): the lab is as up() left it afterwards."""
    try:
        lab.stop_customer_charon()
    finally:
        swanctl_file(lab).unlink(missing_ok=True)
        dropin_file(lab).unlink(missing_ok=True)
        lab.set_return_tunnel(1)
