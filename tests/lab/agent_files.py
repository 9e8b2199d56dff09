"""Files the lab prepares for the agent under test.

config.yaml (etc/config.example.yaml's schema) points every path the agent
writes into the lab tree, and /etc/netns/<prefix>cgw/ gives the gateway
namespace its own hosts file (which the agent edits) and a resolv.conf that
leads nowhere, so no lookup reaches the host's resolver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.lab.addresses import Addresses
from tests.lab.aws_file import write_private

LOG = logging.getLogger(__name__)

HOSTS_BASE = """\
# /etc/hosts of the lab's customer gateway namespace ({ns}).
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
{gateway}\tcgw.lab.invalid cgw
"""

RESOLV_CONF = """\
# The lab's customer gateway resolves names only through its hosts file.
nameserver 127.0.0.1
options timeout:1 attempts:1
"""


@dataclass(frozen=True)
class AgentPaths:
    """Where the agent under test reads and writes, per config.yaml."""

    root: Path
    hosts: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def directory(self) -> Path:
        return self.root / "agent"

    @property
    def aws_file(self) -> Path:
        return self.directory / "aws-vpn.xml"

    @property
    def psk_file(self) -> Path:
        return self.directory / "psk.yaml"

    @property
    def state_dir(self) -> Path:
        return self.directory / "state"

    @property
    def run_dir(self) -> Path:
        return self.directory / "run"

    @property
    def swanctl_conf(self) -> Path:
        return self.root / "cgw" / "swanctl" / "conf.d" / "dvsum-vpn.conf"

    @property
    def charon_dropin(self) -> Path:
        return self.root / "cgw" / "strongswan.d" / "dvsum-vpn.conf"

    @property
    def vici(self) -> Path:
        return self.root / "cgw" / "charon.vici"


def render_config(
    paths: AgentPaths, addr: Addresses, data_plane: str = "policy"
) -> str:
    """config.yaml for the agent running in the lab's gateway namespace."""
    data = {
        "aws_file": str(paths.aws_file),
        "psk_file": str(paths.psk_file),
        "customer_cidr": str(addr.customer_cidr),
        "landing_zone": str(addr.landing_zone),
        "source_address": "auto",
        "primary": str(addr.tunnel(1).outside),
        "data_plane": data_plane,
        "dns": {
            "mode": "hosts",
            "names": {name: str(ip) for name, ip in addr.services.items()},
        },
        "charon": {"vici_uri": f"unix://{paths.vici}"},
        "paths": {
            "swanctl_conf": str(paths.swanctl_conf),
            "charon_dropin": str(paths.charon_dropin),
            "hosts": str(paths.hosts),
            "state_dir": str(paths.state_dir),
            "run_dir": str(paths.run_dir),
        },
    }
    header = "# Written by the dvsum-vpn lab for the agent in the gateway namespace.\n"
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def write(
    paths: AgentPaths, addr: Addresses, ns: str, data_plane: str = "policy"
) -> None:
    """config.yaml (0600), the agent's own directory, and /etc/netns files."""
    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.swanctl_conf.parent.mkdir(parents=True, exist_ok=True)
    paths.charon_dropin.parent.mkdir(parents=True, exist_ok=True)
    write_private(paths.config, render_config(paths, addr, data_plane))
    write_netns_etc(paths.hosts.parent, ns, addr)


def write_netns_etc(directory: Path, ns: str, addr: Addresses) -> None:
    """/etc/netns/NS/{hosts,resolv.conf}: bound over /etc/* by `ip netns exec`."""
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    (directory / "hosts").write_text(HOSTS_BASE.format(ns=ns, gateway=addr.cgw_lan.ip))
    (directory / "resolv.conf").write_text(RESOLV_CONF)
