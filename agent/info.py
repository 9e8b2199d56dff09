"""``dvsum-vpn info``: what DvSum's guide asks the customer to send first.

Routing mode, BGP ASN, customer network CIDR, device vendor, platform and
software version, the static public IP of this gateway and the address of
the machine running DvSum's gateway agent.  Each comes from a flag, else
config.yaml or the imported AWS file, else this machine (local lookups
only: :mod:`agent.hostfacts`); what none of them can tell is listed as
missing, with the flag that gives it.  Behind NAT the public address
cannot be learnt from here without sending traffic, so it must be given,
and it is the IKE identity.  Works with or without a config.yaml.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, ip_address, ip_network
from pathlib import Path
from typing import Any

import yaml

from agent import infile, sources
from agent.config import DEFAULT_VICI_URI
from agent.errors import DvsumError, InputError
from agent.hostfacts import HostFacts
from agent.model import Connection, Routing

# Where to look up the route when no AWS file says where the tunnels go:
# TEST-NET-1 (RFC 5737), so the lookup names nobody's address.
LOOKUP_TARGET = IPv4Address("192.0.2.1")
DEFAULT_ASN = 65000  # what AWS suggests for a customer gateway without BGP

_NAT_RANGES = (
    (IPv4Network("10.0.0.0/8"), "a private address (RFC 1918)"),
    (IPv4Network("172.16.0.0/12"), "a private address (RFC 1918)"),
    (IPv4Network("192.168.0.0/16"), "a private address (RFC 1918)"),
    (
        IPv4Network("100.64.0.0/10"),
        "in the shared address space 100.64.0.0/10 (RFC 6598, carrier-grade NAT)",
    ),
    (IPv4Network("169.254.0.0/16"), "a link-local address"),
    (IPv4Network("127.0.0.0/8"), "a loopback address"),
    (IPv4Network("0.0.0.0/8"), "not an address others can reach"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")
    parser.add_argument("--routing", choices=("static", "bgp"), help="routing mode")
    parser.add_argument("--bgp-asn", type=int, help="your BGP ASN")
    parser.add_argument("--customer-cidr", help="your network, e.g. 192.168.0.0/16")
    parser.add_argument(
        "--public-address", help="this gateway's static public IP (needed behind NAT)"
    )
    parser.add_argument(
        "--agent-address", help="the machine running DvSum's gateway agent"
    )


@dataclass(frozen=True)
class Given:
    """What the operator said on the command line; None where not."""

    routing: str | None = None
    bgp_asn: int | None = None
    customer_cidr: IPv4Network | None = None
    public_address: IPv4Address | None = None
    agent_address: IPv4Address | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Given:
        problems = []
        asn = args.bgp_asn
        if asn is not None and not 1 <= asn <= 4294967295:
            problems.append(("--bgp-asn", f"expected 1 to 4294967295, got {asn}"))
        values: dict[str, Any] = {}
        for flag, key, convert in (
            ("--customer-cidr", "customer_cidr", _network),
            ("--public-address", "public_address", _address),
            ("--agent-address", "agent_address", _address),
        ):
            raw = getattr(args, key)
            if raw is None:
                continue
            try:
                values[key] = convert(raw)
            except ValueError:
                what = "an IPv4 CIDR" if key == "customer_cidr" else "an IPv4 address"
                problems.append((flag, f"expected {what}, got {raw!r}"))
        if problems:
            raise InputError("bad options", tuple(problems))
        return cls(routing=args.routing, bgp_asn=asn, **values)


@dataclass(frozen=True)
class Fact:
    value: Any
    source: str  # where the value comes from, for people

    def public(self) -> Any:
        if isinstance(self.value, IPv4Address | IPv4Network):
            return str(self.value)
        return self.value


@dataclass(frozen=True)
class Info:
    routing: Fact
    bgp_asn: Fact
    customer_cidr: Fact
    device_vendor: Fact
    device_platform: Fact
    software_version: Fact
    public_address: Fact
    gateway_agent_address: Fact
    outside_address: Fact
    behind_nat: Fact
    ike_identity: Fact
    operating_system: Fact
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        facts = (
            "routing", "bgp_asn", "customer_cidr", "device_vendor",
            "device_platform", "software_version", "public_address",
            "gateway_agent_address", "outside_address", "behind_nat",
            "ike_identity", "operating_system",
        )  # fmt: skip
        out: dict[str, Any] = {name: getattr(self, name).public() for name in facts}
        out["sources"] = {name: getattr(self, name).source for name in facts}
        out["missing"] = list(self.missing)
        out["notes"] = list(self.notes)
        return out


@dataclass
class _Settings:
    """The parts of config.yaml info uses, each only when valid."""

    aws_file: Path | None = None
    customer_cidr: IPv4Network | None = None
    source_address: IPv4Address | None = None
    vici_uri: str = DEFAULT_VICI_URI
    notes: list[str] = field(default_factory=list)


def collect(config_path: Path, given: Given, host: HostFacts | None = None) -> Info:
    if host is None:
        from agent.hostfacts import LocalHost

        host = LocalHost()
    settings = _settings(config_path)
    notes = list(settings.notes)
    connection = _connection(settings.aws_file, notes)
    missing: list[str] = []

    routing = _routing(given, connection, notes)
    bgp_asn = _bgp_asn(given, connection, routing)
    customer_cidr = _customer_cidr(given, settings)
    if customer_cidr.value is None:
        missing.append(
            "customer network CIDR: give it with --customer-cidr (the network "
            "the gateway agent sends from)"
        )
    software = _software(host, settings.vici_uri)
    if software.value is None:
        missing.append(
            "software version: no strongSwan found; install charon-systemd and "
            "strongswan-swanctl (Debian) or strongswan (RPM)"
        )

    target = connection.by_address()[0].aws_outside_address if connection else None
    outside_address = host.route_source(target or LOOKUP_TARGET)
    towards = f"route towards {target or LOOKUP_TARGET}"
    outside = Fact(outside_address, f"this machine ({towards})")
    reason = nat_reason(outside_address) if outside_address else None
    behind_nat = Fact(
        None if outside_address is None else reason is not None,
        f"this machine: {outside_address} is {reason}" if reason else "this machine",
    )
    if outside_address is None:
        notes.append(
            f"no route from this machine towards {target or LOOKUP_TARGET}: "
            "its outside address is unknown"
        )
    public = _public(given, connection, outside_address, reason, notes)
    if public.value is None:
        missing.append(
            "static public IP: "
            + (
                f"this machine is behind NAT ({outside_address} is {reason}), so "
                "its public address cannot be known from here; "
                if reason
                else ""
            )
            + "give it with --public-address (it must be static); it becomes the "
            "IKE identity"
        )
    identity = _identity(connection, public)
    agent = _agent(given, settings, customer_cidr.value, host, notes)
    if agent.value is None:
        local = ", ".join(str(a.ip) for a in host.addresses()) or "none"
        missing.append(
            "gateway agent address: give it with --agent-address (the LAN address "
            f"of the machine running DvSum's gateway agent; this machine has {local})"
        )
    return Info(
        routing=routing,
        bgp_asn=bgp_asn,
        customer_cidr=customer_cidr,
        device_vendor=Fact("Linux", "dvsum-vpn"),
        device_platform=Fact("strongSwan", "dvsum-vpn"),
        software_version=software,
        public_address=public,
        gateway_agent_address=agent,
        outside_address=outside,
        behind_nat=behind_nat,
        ike_identity=identity,
        operating_system=Fact(host.os_name(), "/etc/os-release"),
        missing=tuple(missing),
        notes=tuple(notes),
    )


def nat_reason(address: IPv4Address) -> str | None:
    """Why ``address`` cannot be this gateway's public address, or None."""
    for network, reason in _NAT_RANGES:
        if address in network:
            return reason
    return None


def _settings(path: Path) -> _Settings:
    settings = _Settings()
    if not os.path.lexists(path):
        settings.notes.append(f"no {path}: facts come from flags and this machine")
        return settings
    try:
        data = yaml.safe_load(infile.read_text(path, "config"))
    except DvsumError as err:
        settings.notes.append(str(err))
        return settings
    except (ValueError, yaml.YAMLError) as err:
        settings.notes.append(f"{path} is not readable YAML ({err.__class__.__name__})")
        return settings
    if not isinstance(data, dict):
        return settings
    if isinstance(data.get("aws_file"), str):
        settings.aws_file = Path(data["aws_file"])
    for key, convert in (("customer_cidr", _network), ("source_address", _address)):
        if data.get(key) not in (None, "auto"):
            try:
                setattr(settings, key, convert(str(data[key])))
            except ValueError:
                settings.notes.append(
                    f"{path}: {key} is not valid (run `dvsum-vpn config check`)"
                )
    charon = data.get("charon")
    if isinstance(charon, dict) and isinstance(charon.get("vici_uri"), str):
        settings.vici_uri = charon["vici_uri"]
    return settings


def _connection(path: Path | None, notes: list[str]) -> Connection | None:
    if path is None:
        return None
    if not os.path.lexists(path):
        notes.append(f"no AWS file at {path} yet")
        return None
    try:
        text = infile.read_text(path, "aws_file")
    except DvsumError as err:
        notes.append(str(err))
        return None
    try:
        return sources.load(text)
    except InputError:
        notes.append(f"{path} does not import (run `dvsum-vpn config check`)")
    return None


def _routing(given: Given, connection: Connection | None, notes: list[str]) -> Fact:
    if given.routing:
        fact = Fact(given.routing, "--routing")
    elif connection is not None:
        fact = Fact(connection.routing.value, "the AWS file")
    else:
        fact = Fact(Routing.STATIC.value, "dvsum-vpn routes statically")
    if fact.value == Routing.BGP.value:
        notes.append(
            "dvsum-vpn routes statically and runs no BGP speaker: ask DvSum for "
            "static routing"
        )
    return fact


def _bgp_asn(given: Given, connection: Connection | None, routing: Fact) -> Fact:
    if given.bgp_asn is not None:
        return Fact(given.bgp_asn, "--bgp-asn")
    if connection is not None and connection.customer_asn is not None:
        return Fact(connection.customer_asn, "the AWS file")
    if routing.value == Routing.STATIC.value:
        return Fact(
            None,
            "not needed for static routing; AWS's customer gateways default to "
            f"{DEFAULT_ASN}",
        )
    return Fact(None, "give it with --bgp-asn")


def _customer_cidr(given: Given, settings: _Settings) -> Fact:
    if given.customer_cidr is not None:
        return Fact(given.customer_cidr, "--customer-cidr")
    if settings.customer_cidr is not None:
        return Fact(settings.customer_cidr, "config.yaml")
    return Fact(None, "unknown")


def _software(host: HostFacts, vici_uri: str) -> Fact:
    running = host.charon_version(vici_uri)
    if running:
        return Fact(running, f"charon over VICI at {vici_uri}")
    installed = host.package_version()
    if installed:
        return Fact(installed, "the package database")
    return Fact(None, "not installed")


def _public(
    given: Given,
    connection: Connection | None,
    outside: IPv4Address | None,
    reason: str | None,
    notes: list[str],
) -> Fact:
    registered = connection.tunnels[0].customer_outside_address if connection else None
    if given.public_address is not None:
        fact = Fact(given.public_address, "--public-address")
        if outside and not reason and outside != given.public_address:
            notes.append(
                f"this machine's outside address {outside} is public and is not "
                f"{given.public_address}: is there a 1:1 NAT in front of it?"
            )
    elif outside is not None and reason is None:
        fact = Fact(
            outside,
            "this machine's outside address (a 1:1 NAT in front of it would not "
            "show here)",
        )
    elif registered is not None:
        fact = Fact(registered, "the AWS file (the customer gateway DvSum registered)")
    else:
        return Fact(None, "unknown")
    if registered is not None and registered != fact.value:
        notes.append(
            f"the AWS file's customer gateway is {registered}, not {fact.value}: "
            "DvSum registered that address, and charon will use it as its identity"
        )
    return fact


def _identity(connection: Connection | None, public: Fact) -> Fact:
    if connection is not None:
        return Fact(
            connection.tunnels[0].customer_outside_address,
            "the AWS file's customer gateway address",
        )
    if public.value is not None:
        return Fact(public.value, "the public address")
    return Fact(None, "the public address, once known")


def _agent(
    given: Given,
    settings: _Settings,
    cidr: IPv4Network | None,
    host: HostFacts,
    notes: list[str],
) -> Fact:
    if given.agent_address is not None:
        fact = Fact(given.agent_address, "--agent-address")
    elif settings.source_address is not None:
        fact = Fact(settings.source_address, "config.yaml source_address")
    else:
        local: list[IPv4Interface] = host.addresses() if cidr is not None else []
        inside = [a.ip for a in local if cidr is not None and a.ip in cidr]
        if not inside:
            return Fact(None, "unknown")
        fact = Fact(inside[0], "this machine, inside the customer CIDR")
    if cidr is not None and fact.value not in cidr:
        notes.append(
            f"the gateway agent address {fact.value} is outside the customer CIDR "
            f"{cidr}: DvSum routes back only that CIDR"
        )
    return fact


def _network(value: str) -> IPv4Network:
    network = ip_network(value.strip(), strict=True)
    if not isinstance(network, IPv4Network):
        raise ValueError(value)
    return network


def _address(value: str) -> IPv4Address:
    address = ip_address(value.strip())
    if not isinstance(address, IPv4Address):
        raise ValueError(value)
    return address
