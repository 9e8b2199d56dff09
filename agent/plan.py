"""The plan: config + imported connection + host facts -> desired state.

Pure.  It decides names, roles, selectors, the route and the MSS; the
renderers turn it into text and messages, the apply steps into changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from agent import profile
from agent.config import Config
from agent.errors import InputError
from agent.model import Connection, Tunnel

ANY = IPv4Network("0.0.0.0/0")
MODES = ("policy", "route")


@dataclass(frozen=True)
class Host:
    """What the machine offers, as probed by ``agent.host``."""

    data_plane: str  # "policy" or "route"
    libipsec: bool  # charon does ESP in userspace over a TUN device
    tunnel_device: str  # the TUN device in policy mode ("ipsec0")
    source_address: IPv4Address
    # dns.mode forward: the resolver to configure (dns.backend, or what
    # runs here when it is auto); None: none found.
    dns_backend: str | None = None


@dataclass(frozen=True)
class TunnelPlan:
    number: int
    tunnel: Tunnel
    primary: bool
    local_ts: tuple[IPv4Network, ...]
    remote_ts: tuple[IPv4Network, ...]
    reqid: int
    if_id: int | None

    @property
    def name(self) -> str:
        return f"dvsum-tunnel{self.number}"

    @property
    def child(self) -> str:
        return f"{self.name}-child"

    @property
    def role(self) -> str:
        return "primary" if self.primary else "standby"


@dataclass(frozen=True)
class InterfacePlan:
    """Route-based mode: one XFRM interface per tunnel."""

    name: str
    if_id: int
    mtu: int
    address: IPv4Interface


@dataclass(frozen=True)
class RoutePlan:
    destination: IPv4Network
    device: str
    source: IPv4Address
    mtu: int
    advmss: int


@dataclass(frozen=True)
class DnsPlan:
    """How names of the DvSum domain resolve: hosts, forward or none."""

    mode: str = "none"
    domain: str = ""
    resolvers: tuple[IPv4Address, ...] = ()
    backend: str | None = None  # forward: the resolver that carries it
    reload_command: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    data_plane: str
    libipsec: bool
    local_id: IPv4Address
    tunnels: tuple[TunnelPlan, ...]
    interfaces: tuple[InterfacePlan, ...]
    route: RoutePlan
    mss: int
    mss_devices: tuple[str, ...]
    hosts: tuple[tuple[str, IPv4Address], ...]
    dns: DnsPlan = DnsPlan()

    def by_name(self, name: str) -> TunnelPlan:
        for tunnel in self.tunnels:
            if name in (tunnel.name, tunnel.child):
                return tunnel
        raise KeyError(name)

    def number(self, number: int) -> TunnelPlan:
        return self.tunnels[number - 1]

    @property
    def active(self) -> TunnelPlan:
        """The tunnel the plan routes through: the effective primary."""
        return next(t for t in self.tunnels if t.primary)

    def via(self, number: int) -> Plan:
        """This plan with the landing-zone route through tunnel ``number``.

        Route mode only: in policy mode the selectors decide, not the route.
        """
        if self.data_plane != "route":
            return self
        route = dataclasses.replace(self.route, device=interface_name(number))
        return dataclasses.replace(self, route=route)


def interface_name(number: int) -> str:
    return f"dvsum{number}"


def build(
    config: Config, connection: Connection, host: Host, prefer: int | None = None
) -> Plan:
    """The desired state; InputError lists every reason it cannot be built.

    ``prefer`` (1 or 2, from ``dvsum-vpn prefer``) overrides ``primary``.
    """
    problems: list[tuple[str, str]] = []
    ordered = connection.by_address()
    primary = config.primary or connection.tunnels[0].aws_outside_address
    if prefer is not None:
        primary = ordered[prefer - 1].aws_outside_address
    if config.primary is not None and all(
        t.aws_outside_address != primary for t in ordered
    ):
        known = ", ".join(str(t.aws_outside_address) for t in ordered)
        problems.append(("primary", f"{primary} is not a tunnel of {known}"))
    for index, tunnel in enumerate(connection.tunnels):
        if tunnel.psk is None:
            problems.append(
                (
                    f"tunnels[{index}].psk",
                    f"no pre-shared key for {tunnel.aws_outside_address}; "
                    "give it with --psk-file",
                )
            )
    if host.data_plane not in MODES:
        problems.append(("data_plane", f"unknown mode {host.data_plane!r}"))
    if host.dns_backend == "systemd-resolved" and host.data_plane != "route":
        # resolved ignores servers set on a link without an address, and
        # kernel-libipsec's ipsec0 has none.
        problems.append((
            "dns.backend",
            "systemd-resolved holds the forward on the tunnel's link, which "
            "has no address in policy mode; use dnsmasq or unbound, or route mode",
        ))  # fmt: skip
    if problems:
        raise InputError("cannot plan the tunnels", tuple(problems))

    local_ids = {t.customer_outside_address for t in ordered}
    if len(local_ids) != 1:
        raise InputError(
            "the tunnels disagree",
            (("tunnels", "the customer outside address differs per tunnel"),),
        )
    tunnels = tuple(
        _tunnel(number, tunnel, tunnel.aws_outside_address == primary, config, host)
        for number, tunnel in enumerate(ordered, start=1)
    )
    interfaces: tuple[InterfacePlan, ...] = ()
    if host.data_plane == "route":
        active = next(t for t in tunnels if t.primary)
        device = interface_name(active.number)
        mtu, mss = profile.DVSUM.mtu, profile.DVSUM.mss
        interfaces = tuple(
            InterfacePlan(
                interface_name(t.number), t.if_id or t.number, mtu,
                t.tunnel.customer_inside_cidr,
            )
            for t in tunnels
        )  # fmt: skip
        mss_devices = tuple(i.name for i in interfaces)
    else:
        device = host.tunnel_device
        mtu, mss = (
            (profile.LIBIPSEC_MTU, profile.LIBIPSEC_MSS)
            if host.libipsec
            else (profile.DVSUM.mtu, profile.DVSUM.mss)
        )
        mss_devices = (device,)
    route = RoutePlan(
        destination=config.landing_zone,
        device=device,
        source=host.source_address,
        mtu=mtu,
        advmss=mss,
    )
    hosts = config.dns.names if config.dns.mode == "hosts" else ()
    return Plan(
        data_plane=host.data_plane,
        libipsec=host.libipsec,
        local_id=local_ids.pop(),
        tunnels=tunnels,
        interfaces=interfaces,
        route=route,
        mss=mss,
        mss_devices=mss_devices,
        hosts=hosts,
        dns=DnsPlan(
            mode=config.dns.mode,
            domain=config.dns.domain,
            resolvers=config.dns.resolvers,
            backend=host.dns_backend if config.dns.mode == "forward" else None,
            reload_command=config.dns.reload_command,
        ),
    )


def _tunnel(
    number: int, tunnel: Tunnel, primary: bool, config: Config, host: Host
) -> TunnelPlan:
    if host.data_plane == "route":
        # Route-based: AWS's own 0/0 selectors; the XFRM interface's if_id
        # binds the SAs and the route decides what enters the tunnel.
        return TunnelPlan(number, tunnel, primary, (ANY,), (ANY,), number, number)
    if primary:
        # Policy-based: the primary's narrower selectors win over the
        # standby's 0/0 whatever the order the CHILD_SAs were created in,
        # so failover and failback follow the SAs (shared/notes).
        return TunnelPlan(
            number,
            tunnel,
            primary,
            (config.customer_cidr,),
            (config.landing_zone,),
            number,
            None,
        )
    return TunnelPlan(number, tunnel, primary, (ANY,), (ANY,), number, None)
