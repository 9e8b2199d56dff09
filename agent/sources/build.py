"""RAW -> ``Connection``: every problem at once, each by its field path.

This is the first validation layer, shape and ranges: addresses, the
tunnels' inside networks (:mod:`agent.sources.inside`), ASNs up to 4 bytes,
AWS's PSK rule, lifetimes within what AWS allows.
DvSum's own requirements come after, in :mod:`agent.requirements`.

Paths look like ``tunnels[1].aws_outside_address`` (tunnels in file order,
counted from 0) or ``customer_asn``, followed by ``(line N)`` when the
layout says where the field stands.  A pre-shared key is checked against
AWS's rule, and no message ever shows it.  Nothing is sorted: the model
keeps file order and numbers tunnels itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from agent.errors import InputError
from agent.model import Connection, Printed, Routing, Tunnel, TunnelOptions
from agent.psk import psk_problem
from agent.secret import Secret
from agent.sources import inside
from agent.sources import options as options_mod
from agent.sources.raw import Raw, RawTunnel

MOST_TUNNELS_READ = 8
ASN_RANGE = (1, 4294967295)
HOLD_TIME_RANGE = (3, 65535)
# What AWS lets a tunnel's lifetimes be (TunnelOptions constraints).
IKE_LIFETIME_RANGE = (900, 28800)
ESP_LIFETIME_RANGE = (900, 3600)

_VPN_ID = re.compile(r"vpn-[0-9a-f]{8,17}")
_VERSION = re.compile(r"(?:ike)?v?(?P<version>[12])", re.I)
_GROUP = re.compile(
    r"(?:diffie-hellman\s*)?(?:dh\s*)?(?:group\s*)?(?P<group>\d{1,5})(?:\s*\(.*\))?",
    re.I,
)
# strongSwan's names for the DH groups AWS offers (RFC 3526, 5114, 5903, 8031).
_GROUP_NAMES = {
    "modp1024": 2,
    "modp1536": 5,
    "modp2048": 14,
    "modp3072": 15,
    "modp4096": 16,
    "modp6144": 17,
    "modp8192": 18,
    "ecp256": 19,
    "ecp384": 20,
    "ecp521": 21,
    "modp1024s160": 22,
    "modp2048s224": 23,
    "modp2048s256": 24,
}


class Problems:
    """Findings collected while building; raised together at the end."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def note(self, path: str, message: str) -> None:
        self.found.append((path, message))

    def raise_any(self) -> None:
        if self.found:
            raise error(self.found)


def error(found: list[tuple[str, str]]) -> InputError:
    """One InputError for every problem, the connection's first, then each
    tunnel's in file order, then options that name no tunnel."""
    count = len(found)
    return InputError(
        f"the AWS file has {count} problem{'s' if count > 1 else ''}",
        tuple(sorted(found, key=_order)),
    )


_INDEXED = re.compile(r"(tunnels|tunnel_options)\[(\d+)\]")


def _order(problem: tuple[str, str]) -> tuple[int, int]:
    match = _INDEXED.match(problem[0])
    if match is None:
        return (0, 0)
    return (1 if match[1] == "tunnels" else 2, int(match[2]))


@dataclass
class Built:
    """What :func:`read` made of RAW: each tunnel (None where a problem was
    noted for it), the connection when there was no problem at all, and the
    problems."""

    tunnels: list[Tunnel | None]
    connection: Connection | None
    problems: list[tuple[str, str]] = field(default_factory=list)


def connection(raw: Raw, layout: str) -> Connection:
    """The validated model of ``raw``; InputError lists every problem."""
    built = read(raw, layout)
    if built.connection is None:
        raise error(built.problems)
    return built.connection


def read(raw: Raw, layout: str) -> Built:
    problems = Problems()
    lines = raw.get("lines") or {}

    def at(key: str) -> str:
        return f"{key} (line {lines[key]})" if key in lines else key

    vpn_id = raw.get("vpn_connection_id")
    if vpn_id is not None and not _VPN_ID.fullmatch(str(vpn_id)):
        problems.note(
            at("vpn_connection_id"),
            f"expected an id like vpn-0123456789abcdef0, got {vpn_id!r}",
        )
    routing = _routing(raw.get("routing"), problems)
    customer_asn = _integer(
        raw.get("customer_asn"), ASN_RANGE, at("customer_asn"), "", problems
    )
    if routing is Routing.BGP and raw.get("customer_asn") is None:
        problems.note("customer_asn", "missing: BGP routing needs the customer ASN")

    raw_tunnels = raw.get("tunnels") or []
    if len(raw_tunnels) != 2:
        problems.note(
            "tunnels",
            f"expected two tunnels, found {len(raw_tunnels)}: an AWS VPN "
            "connection always has two",
        )
    # A file of thousands of tunnels is refused by its count; reading each
    # would only bury that under thousands of lines.
    readers = [
        _TunnelReader(index, tunnel, problems)
        for index, tunnel in enumerate(raw_tunnels[:MOST_TUNNELS_READ])
    ]
    _compare(readers, problems)
    found = options_mod.read(
        raw.get("tunnel_options"),
        [(r.prefix, r.aws_outside_address(), r.raw) for r in readers],
        problems.note,
    )
    tunnels = [
        reader.tunnel(routing, found.get(index)) for index, reader in enumerate(readers)
    ]
    if problems.found:
        return Built(tunnels, None, problems.found)
    return Built(
        tunnels,
        Connection(
            layout=layout,
            vpn_connection_id=None if vpn_id is None else str(vpn_id),
            routing=routing or Routing.STATIC,
            customer_asn=customer_asn,
            tunnels=tuple(t for t in tunnels if t is not None),
        ),
    )


def _routing(value: Any, problems: Problems) -> Routing | None:
    try:
        return Routing(value)
    except ValueError:
        problems.note("routing", f"expected static or bgp, got {value!r}")
        return None


class _TunnelReader:
    """Reads one RAW tunnel into typed values, noting each problem."""

    def __init__(self, index: int, raw: RawTunnel, problems: Problems) -> None:
        self.raw = raw
        self.problems = problems
        self.prefix = f"tunnels[{index}]."
        line = raw.get("line")
        self.where = f" (tunnel at line {line})" if line else ""
        self.lines: dict[str, int] = raw.get("lines") or {}
        self.aws_outside = self.address("aws_outside_address")
        self.customer_outside = self.address("customer_outside_address")
        self.inside, self.aws_inside = inside.ipv4(self)

    def note(self, key: str, message: str) -> None:
        line = self.lines.get(key)
        if line:
            self.problems.note(f"{self.prefix}{key} (line {line})", message)
        else:
            self.problems.note(self.prefix + key, message + self.where)

    def aws_outside_address(self) -> IPv4Address | None:
        return self.aws_outside

    def tunnel(
        self, routing: Routing | None, options: TunnelOptions | None
    ) -> Tunnel | None:
        """The model's tunnel, or None when a problem was noted for it."""
        bgp = routing is Routing.BGP
        aws_asn = self.integer("aws_asn", ASN_RANGE, required=bgp)
        hold_time = self.hold_time(required=bgp)
        psk = self.psk()
        printed = self.printed()
        ipv6 = inside.ipv6(self)
        if any(path.startswith(self.prefix) for path, _ in self.problems.found):
            return None
        if self.aws_outside is None or self.customer_outside is None:
            return None
        if self.inside is None or self.aws_inside is None:
            return None
        return Tunnel(
            aws_outside_address=self.aws_outside,
            customer_outside_address=self.customer_outside,
            customer_inside_cidr=self.inside,
            aws_inside_address=self.aws_inside,
            psk=psk,
            aws_asn=aws_asn,
            bgp_hold_time=hold_time,
            printed=printed,
            options=options,
            customer_inside_ipv6_cidr=ipv6[0],
            aws_inside_ipv6_address=ipv6[1],
        )

    def address(self, key: str, required: bool = True) -> IPv4Address | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.note(key, self.missing(key))
            return None
        try:
            return IPv4Address(str(value).strip())
        except ValueError:
            self.note(key, f"expected an IPv4 address, got {value!r}")
            return None

    def missing(self, key: str) -> str:
        if key == "customer_inside_address" and "customer_inside_ipv6_address" in (
            self.raw
        ):
            return (
                "missing: this tunnel has only an IPv6 inside address; DvSum's "
                "landing zone is IPv4, ask DvSum for a connection with IPv4 "
                "inside addresses"
            )
        return "missing from the file"

    def integer(
        self, key: str, bounds: tuple[int, int], required: bool = False
    ) -> int | None:
        value = self.raw.get(key)
        if value is None and required:
            self.note(key, "missing: BGP routing needs it")
        line = self.lines.get(key)
        path = f"{self.prefix}{key} (line {line})" if line else self.prefix + key
        where = "" if line else self.where
        return _integer(value, bounds, path, where, self.problems)

    def hold_time(self, required: bool) -> int | None:
        hold_time = self.integer("bgp_hold_time", (0, HOLD_TIME_RANGE[1]), required)
        if hold_time is not None and 0 < hold_time < HOLD_TIME_RANGE[0]:
            self.note("bgp_hold_time", "expected 0 or 3 to 65535 seconds")
            return None
        return hold_time

    def psk(self) -> Secret | None:
        value = self.raw.get("psk")
        if value is None:
            return None
        if not isinstance(value, str):
            self.note("psk", "expected text")
            return None
        problem = psk_problem(value)
        if problem:
            self.note("psk", problem)
            return None
        return Secret(value)

    def printed(self) -> Printed:
        counts = (0, 2**31 - 1)
        return Printed(
            ike_version=self.version(),
            ike_encryption=self.text("ike_encryption"),
            ike_integrity=self.text("ike_integrity"),
            ike_dh_groups=self.groups("ike_dh_groups"),
            ike_lifetime=self.integer("ike_lifetime", IKE_LIFETIME_RANGE),
            esp_encryption=self.text("esp_encryption"),
            esp_integrity=self.text("esp_integrity"),
            esp_dh_groups=self.groups("esp_dh_groups"),
            esp_lifetime=self.integer("esp_lifetime", ESP_LIFETIME_RANGE),
            dpd_delay=self.integer("dpd_delay", counts),
            dpd_retries=self.integer("dpd_retries", counts),
            mtu=self.integer("mtu", (68, 65535)),
            mss=self.integer("mss", (1, 65535)),
        )

    def text(self, key: str) -> str | None:
        value = self.raw.get(key)
        return None if value is None else str(value).strip() or None

    def version(self) -> int | None:
        value = self.raw.get("ike_version")
        if value is None:
            return None
        match = _VERSION.fullmatch(str(value).strip())
        if match is None:
            self.note("ike_version", f"expected IKEv1 or IKEv2, got {value!r}")
            return None
        return int(match["version"])

    def groups(self, key: str) -> tuple[int, ...]:
        value = self.raw.get(key)
        entries = [value] if isinstance(value, str) else list(value or ())
        groups = []
        for entry in entries:
            for part in str(entry).split(","):
                group = _group(part)
                if group is None:
                    self.note(key, f"expected a DH group like group14, got {part!r}")
                else:
                    groups.append(group)
        return tuple(groups)


def _integer(
    value: Any, bounds: tuple[int, int], path: str, where: str, problems: Problems
) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    low, high = bounds
    if not text.isascii() or not text.isdigit():
        problems.note(path, f"expected a whole number, got {value!r}{where}")
        return None
    if len(text) > 12:
        # int() of thousands of digits is refused (or slow): say so here.
        problems.note(path, f"expected {low} to {high}, got {len(text)} digits{where}")
        return None
    number = int(text)
    if not low <= number <= high:
        problems.note(path, f"expected {low} to {high}, got {number}{where}")
        return None
    return number


def _group(text: str) -> int | None:
    text = text.strip()
    if text.lower() in _GROUP_NAMES:
        return _GROUP_NAMES[text.lower()]
    match = _GROUP.fullmatch(text)
    return int(match["group"]) if match else None


def _compare(readers: list[_TunnelReader], problems: Problems) -> None:
    """Checks between tunnels: each against the first that shares its AWS
    endpoint or inside network, and against the first customer gateway."""
    endpoints: dict[IPv4Address, int] = {}
    networks: dict[IPv4Network, int] = {}
    gateway: tuple[int, IPv4Address] | None = None
    for index, reader in enumerate(readers):
        if reader.aws_outside:
            earlier = endpoints.setdefault(reader.aws_outside, index)
            if earlier != index:
                reader.note(
                    "aws_outside_address",
                    f"{reader.aws_outside} is also tunnels[{earlier}]'s: each "
                    "tunnel has its own AWS endpoint",
                )
        if reader.customer_outside:
            if gateway is None:
                gateway = (index, reader.customer_outside)
            elif reader.customer_outside != gateway[1]:
                reader.note(
                    "customer_outside_address",
                    f"{reader.customer_outside} differs from tunnels[{gateway[0]}]'s "
                    f"{gateway[1]}: a connection has one customer gateway",
                )
        if reader.inside:
            earlier = networks.setdefault(reader.inside.network, index)
            if earlier != index:
                reader.note(
                    "customer_inside_address",
                    f"{reader.inside.network} is also tunnels[{earlier}]'s",
                )
