"""Unit-test fixtures: the lab-like connection built straight from the model,
so rendering tests do not depend on any parser."""

from __future__ import annotations

import os
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from agent import config as config_mod
from agent.model import Connection, Printed, Routing, Tunnel
from agent.plan import Host
from agent.secret import Secret

GOLDEN = Path(__file__).with_name("golden")

PSK1 = "Xq3v_L9.tPzR7wK2mN5bH8cJ"
PSK2 = "fT6y.Hn2Wq8_Ls4Dk9Rv3Mz1"

CONFIG = """\
aws_file: /etc/dvsum-vpn/aws-vpn.conf
psk_file: /etc/dvsum-vpn/psk.yaml
customer_cidr: 192.168.10.0/24
primary: 203.0.113.44
data_plane: policy
dns:
  mode: hosts
  names:
    apis.dvsum.ai: 10.0.151.182
    s3-storage.dvsum.ai: 10.0.150.69
    socket-api.dvsum.ai: 10.0.157.107
"""


def tunnel(aws: str, inside: str, aws_inside: str, psk: str | None) -> Tunnel:
    return Tunnel(
        aws_outside_address=IPv4Address(aws),
        customer_outside_address=IPv4Address("198.51.100.20"),
        customer_inside_cidr=IPv4Interface(inside),
        aws_inside_address=IPv4Address(aws_inside),
        psk=Secret(psk) if psk else None,
        printed=Printed(ike_version=2, ike_dh_groups=(2,), esp_dh_groups=(2,)),
    )


@pytest.fixture
def connection() -> Connection:
    # File order puts the higher address first, to prove numbering does
    # not follow it.
    return Connection(
        layout="summary",
        vpn_connection_id="vpn-0a1b2c3d4e5f60718",
        routing=Routing.STATIC,
        customer_asn=None,
        tunnels=(
            tunnel("203.0.113.172", "169.254.140.6/30", "169.254.140.5", PSK2),
            tunnel("203.0.113.44", "169.254.61.18/30", "169.254.61.17", PSK1),
        ),
    )


@pytest.fixture
def config() -> config_mod.Config:
    return config_mod.parse(CONFIG, Path("/etc/dvsum-vpn/config.yaml"))


@pytest.fixture
def host() -> Host:
    return Host(
        data_plane="policy",
        libipsec=True,
        tunnel_device="ipsec0",
        source_address=IPv4Address("192.168.10.1"),
    )


def golden(name: str, actual: str) -> None:
    """Compare with tests/unit/golden/NAME; DVSUM_UPDATE_GOLDEN=1 rewrites."""
    path = GOLDEN / name
    if os.environ.get("DVSUM_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text()
