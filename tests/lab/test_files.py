"""The files the lab writes for the agent: AWS file, PSKs, config, netns etc."""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent import config as agent_config
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "aws" / "01-xml-static-vgw.xml"
PSK_RE = re.compile(r"[A-Za-z1-9._][A-Za-z0-9._]{7,63}")


def _shape(element: ET.Element) -> list[str]:
    """Every element's path, in document order: the layout without values."""
    paths = []

    def walk(node: ET.Element, prefix: str) -> None:
        path = f"{prefix}/{node.tag}"
        paths.append(path)
        for child in node:
            walk(child, path)

    walk(element, "")
    return paths


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_aws_file_has_the_sample_layout(lab: Lab) -> None:
    ours = ET.parse(lab.aws_xml).getroot()
    assert _shape(ours) == _shape(ET.parse(SAMPLE).getroot())
    assert re.fullmatch(r"vpn-[0-9a-f]{17}", ours.get("id", ""))
    assert re.fullmatch(r"cgw-[0-9a-f]{17}", ours.findtext("customer_gateway_id", ""))
    assert re.fullmatch(r"vgw-[0-9a-f]{17}", ours.findtext("vpn_gateway_id", ""))


def test_aws_file_describes_the_lab(lab: Lab) -> None:
    root = ET.parse(lab.aws_xml).getroot()
    found = [
        (
            tunnel.findtext("customer_gateway/tunnel_outside_address/ip_address"),
            tunnel.findtext("customer_gateway/tunnel_inside_address/ip_address"),
            tunnel.findtext("vpn_gateway/tunnel_outside_address/ip_address"),
            tunnel.findtext("vpn_gateway/tunnel_inside_address/ip_address"),
            tunnel.findtext("vpn_gateway/tunnel_inside_address/network_cidr"),
        )
        for tunnel in root.iter("ipsec_tunnel")
    ]
    assert found == [
        ("198.51.100.20", "169.254.61.18", "203.0.113.44", "169.254.61.17", "30"),
        ("198.51.100.20", "169.254.140.6", "203.0.113.172", "169.254.140.5", "30"),
    ]


def test_psk_file_matches_the_aws_file(lab: Lab) -> None:
    assert _mode(lab.psk_txt) == 0o600
    lines = dict(line.split(": ", 1) for line in lab.psk_txt.read_text().splitlines())
    root = ET.parse(lab.aws_xml).getroot()
    from_xml = {
        t.findtext("vpn_gateway/tunnel_outside_address/ip_address"): t.findtext(
            "ike/pre_shared_key"
        )
        for t in root.iter("ipsec_tunnel")
    }
    assert lines == from_xml
    assert list(lines) == ["203.0.113.44", "203.0.113.172"]
    for psk in lines.values():
        assert len(psk) == 32
        assert PSK_RE.fullmatch(psk), psk


def test_config_is_what_the_agent_reads(lab: Lab) -> None:
    assert _mode(lab.config_yaml) == 0o600
    config = agent_config.load(lab.config_yaml)
    root, cgw = lab.root, lab.ns("cgw")
    assert str(config.customer_cidr) == "192.168.10.0/24"
    assert str(config.landing_zone) == "10.0.0.0/16"
    assert config.source_address is None  # auto
    assert str(config.primary) == "203.0.113.44"
    assert config.data_plane == "policy"
    assert config.dns.mode == "hosts"
    assert {n: str(a) for n, a in config.dns.names} == {
        n: str(a) for n, a in lab.addresses.services.items()
    }
    assert config.vici_uri == f"unix://{root}/cgw/charon.vici"
    assert config.aws_file == root / "agent" / "aws-vpn.xml"
    assert config.psk_file == root / "agent" / "psk.yaml"
    assert config.paths.swanctl_conf == root / "cgw/swanctl/conf.d/dvsum-vpn.conf"
    assert config.paths.charon_dropin == root / "cgw/strongswan.d/dvsum-vpn.conf"
    assert config.paths.hosts == Path(f"/etc/netns/{cgw}/hosts")
    assert config.paths.state_dir == root / "agent" / "state"
    assert config.paths.run_dir == root / "agent" / "run"


def test_ca_certificate_is_there(lab: Lab) -> None:
    assert lab.ca_pem.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_gateway_sees_its_own_hosts_and_resolv_conf(lab: Lab) -> None:
    assert lab.exec("cgw", "cat", "/etc/hosts").stdout == lab.hosts.read_text()
    resolv = lab.exec("cgw", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 127.0.0.1" in resolv


def test_hosts_replaced_by_rename_is_seen_by_the_next_command(lab: Lab) -> None:
    original = lab.hosts.read_text()
    temporary = lab.hosts.with_name(".hosts.lab-test")
    temporary.write_text(original + "10.0.151.182\tapis.dvsum.ai\n")
    try:
        temporary.rename(lab.hosts)
        done = lab.exec("cgw", "getent", "hosts", "apis.dvsum.ai")
        assert done.stdout.split()[0] == "10.0.151.182"
    finally:
        lab.hosts.write_text(original)
    done = lab.exec("cgw", "getent", "hosts", "apis.dvsum.ai", check=False)
    assert done.returncode != 0
