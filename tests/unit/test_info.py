"""``dvsum-vpn info``: what DvSum asks for, from flags, files and this machine."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from agent import cli, hostfacts, info, info_text
from agent.info import Given

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"


@dataclass
class FakeHost:
    """This machine as the tests want it; records the route lookups."""

    source: str | None = "192.168.10.1"
    local: tuple[str, ...] = ("192.168.10.1/24",)
    running: str | None = None
    installed: str | None = "strongSwan 5.9.8 (package charon-systemd 5.9.8-5)"
    lookups: list[IPv4Address] = field(default_factory=list)
    vici: list[str] = field(default_factory=list)

    def route_source(self, destination: IPv4Address) -> IPv4Address | None:
        self.lookups.append(destination)
        return IPv4Address(self.source) if self.source else None

    def addresses(self) -> list[IPv4Interface]:
        return [IPv4Interface(a) for a in self.local]

    def charon_version(self, uri: str) -> str | None:
        self.vici.append(uri)
        return self.running

    def package_version(self) -> str | None:
        return self.installed

    def os_name(self) -> str | None:
        return "Debian GNU/Linux 12 (bookworm)"


def config(tmp_path: Path, sample: str | None, **extra: str) -> Path:
    lines = [f"{key}: {value}" for key, value in extra.items()]
    if sample:
        shutil.copy(SAMPLES / sample, tmp_path / "aws-vpn.conf")
        lines.append(f"aws_file: {tmp_path / 'aws-vpn.conf'}")
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_behind_nat_without_a_file_the_public_address_is_missing(tmp_path):
    host = FakeHost(source="100.64.0.2", local=("100.64.0.2/24", "192.168.10.1/24"))
    facts = info.collect(tmp_path / "none.yaml", Given(), host)
    assert host.lookups == [IPv4Address("192.0.2.1")]
    public = facts.public()
    assert {
        k: public[k] for k in ("outside_address", "behind_nat", "public_address")
    } == {
        "outside_address": "100.64.0.2",
        "behind_nat": True,
        "public_address": None,
    }
    assert facts.missing == (
        "customer network CIDR: give it with --customer-cidr (the network the "
        "gateway agent sends from)",
        "static public IP: this machine is behind NAT (100.64.0.2 is in the shared "
        "address space 100.64.0.0/10 (RFC 6598, carrier-grade NAT)), so its public "
        "address cannot be known from here; give it with --public-address (it must "
        "be static); it becomes the IKE identity",
        "gateway agent address: give it with --agent-address (the LAN address of "
        "the machine running DvSum's gateway agent; this machine has 100.64.0.2, "
        "192.168.10.1)",
    )


def test_flags_fill_in_what_is_missing(tmp_path):
    host = FakeHost(source="10.1.2.3")
    given = Given(
        customer_cidr=info._network("192.168.10.0/24"),
        public_address=IPv4Address("198.51.100.20"),
    )
    public = info.collect(tmp_path / "none.yaml", given, host).public()
    assert public | {"sources": None, "notes": None} == {
        "routing": "static",
        "bgp_asn": None,
        "customer_cidr": "192.168.10.0/24",
        "device_vendor": "Linux",
        "device_platform": "strongSwan",
        "software_version": "strongSwan 5.9.8 (package charon-systemd 5.9.8-5)",
        "public_address": "198.51.100.20",
        "gateway_agent_address": "192.168.10.1",
        "outside_address": "10.1.2.3",
        "behind_nat": True,
        "ike_identity": "198.51.100.20",
        "operating_system": "Debian GNU/Linux 12 (bookworm)",
        "sources": None,
        "missing": [],
        "notes": None,
    }


def test_with_config_and_aws_file_behind_nat(tmp_path):
    """The lab's shape: cgw at 100.64.0.2 behind a NAT to 198.51.100.20."""
    path = config(
        tmp_path,
        "00-dvsum-summary-static.txt",
        customer_cidr="192.168.10.0/24",
        charon="{vici_uri: unix:///run/lab/charon.vici}",
    )
    host = FakeHost(
        source="100.64.0.2",
        running="strongSwan 5.9.8 (charon, running)",
    )
    facts = info.collect(path, Given(), host)
    # The route is looked up towards tunnel 1's AWS endpoint; nothing is sent.
    assert host.lookups == [IPv4Address("203.0.113.44")]
    assert host.vici == ["unix:///run/lab/charon.vici"]
    assert facts.public()["public_address"] == "198.51.100.20"
    assert facts.public()["ike_identity"] == "198.51.100.20"
    assert facts.missing == ()
    assert info_text.format_text(facts) == (
        "What DvSum asks you to send before setup:\n"
        "\n"
        "  VPN routing mode                        static  (the AWS file)\n"
        "  BGP ASN                                 -  (not needed for static "
        "routing; AWS's customer gateways default to 65000)\n"
        "  Customer network CIDR                   192.168.10.0/24  (config.yaml)\n"
        "  VPN device vendor                       Linux  (dvsum-vpn)\n"
        "  VPN device platform                     strongSwan  (dvsum-vpn)\n"
        "  VPN device software version             strongSwan 5.9.8 (charon, "
        "running)  (charon over VICI at unix:///run/lab/charon.vici)\n"
        "  Static public IP of VPN device          198.51.100.20  (the AWS file "
        "(the customer gateway DvSum registered))\n"
        "  Machine IP running DvSum gateway agent  192.168.10.1  (this machine, "
        "inside the customer CIDR)\n"
        "\n"
        "This machine:\n"
        "  outside address   100.64.0.2, behind NAT (this machine (route towards "
        "203.0.113.44))\n"
        "  IKE identity      198.51.100.20 (the AWS file's customer gateway "
        "address)\n"
        "  operating system  Debian GNU/Linux 12 (bookworm)"
    )


def test_a_public_outside_address_is_the_public_ip(tmp_path):
    host = FakeHost(source="203.0.113.9", local=("203.0.113.9/24",))
    facts = info.collect(tmp_path / "none.yaml", Given(), host)
    assert (facts.public_address.value, facts.behind_nat.value) == (
        IPv4Address("203.0.113.9"),
        False,
    )


def test_disagreements_are_noted(tmp_path):
    path = config(
        tmp_path,
        "02-xml-bgp-vgw.xml",
        customer_cidr="192.168.10.0/24",
        source_address="192.168.20.5",
    )
    host = FakeHost(source="203.0.113.9", local=("203.0.113.9/24",))
    facts = info.collect(path, Given(), host)
    assert facts.public()["bgp_asn"] == 65000
    assert facts.notes == (
        "dvsum-vpn routes statically and runs no BGP speaker: ask DvSum for "
        "static routing",
        "the AWS file's customer gateway is 203.0.113.77, not 203.0.113.9: DvSum "
        "registered that address, and charon will use it as its identity",
        "the gateway agent address 192.168.20.5 is outside the customer CIDR "
        "192.168.10.0/24: DvSum routes back only that CIDR",
    )


def test_no_route_and_no_strongswan(tmp_path):
    host = FakeHost(source=None, installed=None)
    facts = info.collect(tmp_path / "none.yaml", Given(), host)
    assert facts.outside_address.value is None
    assert facts.behind_nat.value is None
    assert facts.missing[1] == (
        "software version: no strongSwan found; install charon-systemd and "
        "strongswan-swanctl (Debian) or strongswan (RPM)"
    )
    assert "no route from this machine towards 192.0.2.1" in facts.notes[1]


def test_a_broken_config_and_aws_file_are_noted_not_fatal(tmp_path):
    path = config(tmp_path, None, customer_cidr="not-a-cidr")
    (tmp_path / "aws.txt").write_text("crypto isakmp policy 1\n")
    path.write_text(path.read_text() + f"aws_file: {tmp_path / 'aws.txt'}\n")
    facts = info.collect(path, Given(), FakeHost())
    assert facts.notes == (
        f"{path}: customer_cidr is not valid (run `dvsum-vpn config check`)",
        f"{tmp_path / 'aws.txt'} does not import (run `dvsum-vpn config check`)",
    )


def test_cli_json_and_bad_flags(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(hostfacts, "LocalHost", FakeHost)
    code = cli.main(
        [
            "--config",
            str(tmp_path / "none.yaml"),
            "info",
            "--json",
            "--bgp-asn",
            "64999",
        ]
    )
    out, _ = capsys.readouterr()
    assert (code, json.loads(out)["bgp_asn"]) == (0, 64999)
    code = cli.main(["info", "--public-address", "2001:db8::1", "--bgp-asn", "0"])
    _, err = capsys.readouterr()
    assert (code, err.splitlines()) == (
        2,
        [
            "dvsum-vpn: --bgp-asn: expected 1 to 4294967295, got 0",
            "dvsum-vpn: --public-address: expected an IPv4 address, got '2001:db8::1'",
        ],
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.5", "a private address (RFC 1918)"),
        ("172.31.255.1", "a private address (RFC 1918)"),
        ("100.127.0.1", "in the shared address space 100.64.0.0/10 (RFC 6598, "
         "carrier-grade NAT)"),
        ("198.51.100.20", None),
    ],
)  # fmt: skip
def test_nat_reasons(address, reason):
    assert info.nat_reason(IPv4Address(address)) == reason


def test_package_versions_lose_epoch_and_revision():
    assert hostfacts.upstream("1:5.9.8-5+deb12u6") == "5.9.8"
    assert hostfacts.upstream("5.9.14-1.el9") == "5.9.14"
    assert hostfacts.upstream("5.9.8") == "5.9.8"


# Sockets opened while a test records them: (family, type).
_RECORDING: dict[str, list[tuple[int, int]]] = {}


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.__new__" and "sockets" in _RECORDING:
        family, kind = (int(a) for a in args[1:3])  # type: ignore[call-overload]
        _RECORDING["sockets"].append((family, kind))


sys.addaudithook(_audit)


def test_the_real_lookups_open_no_internet_socket():
    """Route and address lookups are netlink and VICI is a local socket:
    ``info`` sends nothing off this machine."""
    _RECORDING["sockets"] = []
    try:
        host = hostfacts.LocalHost()
        source = host.route_source(IPv4Address("192.0.2.1"))
        addresses = host.addresses()
        host.charon_version("tcp://192.0.2.1:4502")  # not asked: not local
        host.charon_version("unix:///nonexistent/charon.vici")
    finally:
        opened = _RECORDING.pop("sockets")
    assert source is None or isinstance(source, IPv4Address)
    assert all(isinstance(a, IPv4Interface) for a in addresses)
    families = {family for family, _ in opened}
    assert socket.AF_NETLINK in families  # the hook saw the lookups
    assert families <= {socket.AF_NETLINK, socket.AF_UNIX}
