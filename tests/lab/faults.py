"""Faults to inject into a running lab, each a context manager that undoes
itself, for tests of ``dvsum-vpn check``.

    with faults.tunnel_down(lab, 2):
        ...  # AWS endpoint 2 unreachable, its SAs gone on both ends

Every fault acts on the lab's own namespaces and daemons only; the
"public" addresses are from TEST-NET-1 (RFC 5737) and are routed nowhere.
Undoing a fault puts the lab back as it was; bringing the agent's tunnels
and route back is the caller's business (``dvsum-vpn up``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address
from pathlib import Path

from vici.exception import CommandException

from agent.render import hosts as hosts_block
from tests.lab import charon, services
from tests.lab.aws_peer import CONN_NAME, shared_key
from tests.lab.commands import LabError, run
from tests.lab.daemons import Daemons
from tests.lab.lab import Lab
from tests.lab.pki import ServerCert

LOG = logging.getLogger(__name__)

WAIT = 10.0  # seconds a fault may take to show or to go away

DROP_TABLE = "lab_fault_drop"
DROP_IKE = (
    f"table inet {DROP_TABLE} {{ chain c {{ type filter hook prerouting "
    "priority -300; udp dport { 500, 4500 } drop; }; }"
)
PMTU_TABLE = "lab_fault_pmtu"
DROP_FRAG_NEEDED = (
    f"table inet {PMTU_TABLE} {{"
    " chain fault_out { type filter hook output priority 0;"
    " icmp type destination-unreachable icmp code frag-needed drop; };"
    " chain fault_forward { type filter hook forward priority 0;"
    " icmp type destination-unreachable icmp code frag-needed drop; }; }"
)
INET_LINKS = ("nat0", "aws1", "aws2")  # the "internet" router's three sides
LINK_MTU = 1500

# TEST-NET-1: documentation addresses, what a public DNS answer stands for.
PUBLIC = {
    "apis.dvsum.ai": IPv4Address("192.0.2.10"),
    "s3-storage.dvsum.ai": IPv4Address("192.0.2.11"),
    "socket-api.dvsum.ai": IPv4Address("192.0.2.12"),
}


# -- tunnels -------------------------------------------------------------------


@contextlib.contextmanager
def tunnel_down(lab: Lab, *numbers: int) -> Iterator[None]:
    """AWS endpoints ``numbers`` unreachable: UDP 500/4500 to them dropped,
    and their SAs gone on both ends, as DPD leaves them (without the wait)."""
    for number in numbers:
        lab.exec(f"aws{number}", "nft", DROP_IKE)
    try:
        for number in numbers:
            terminate_customer(lab, number)
            _terminate(lab.aws_vici(number), CONN_NAME)
        _wait_for(lambda: not any(_customer_sas(lab, n) for n in numbers),
                  f"tunnels {numbers} gone")  # fmt: skip
        yield
    finally:
        for number in numbers:
            lab.exec(f"aws{number}", "nft", "delete", "table", "inet", DROP_TABLE,
                     check=False)  # fmt: skip
            terminate_customer(lab, number)


@contextlib.contextmanager
def wrong_psk(lab: Lab, number: int) -> Iterator[None]:
    """AWS endpoint ``number`` holds another pre-shared key than the
    customer: the tunnel re-authenticates and fails (AUTHENTICATION_FAILED)."""
    tunnel = lab.addresses.tunnel(number)
    with charon.session(lab.aws_vici(number)) as ses:
        ses.load_shared(shared_key(tunnel, lab.addresses, "Wrong.Key_0f_the_lab"))
    try:
        # Both ends forget the tunnel, as after a rekey the key broke; the
        # next attempt (check's, up's) is refused.
        terminate_customer(lab, number)
        _terminate(lab.aws_vici(number), CONN_NAME)
        _wait_for(lambda: not _customer_sas(lab, number), f"tunnel {number} gone")
        yield
    finally:
        with charon.session(lab.aws_vici(number)) as ses:
            ses.load_shared(shared_key(tunnel, lab.addresses, lab_psk(lab, number)))
        terminate_customer(lab, number)


def lab_psk(lab: Lab, number: int) -> str:
    """The key the lab generated for tunnel ``number`` (from its PSK file)."""
    outside = str(lab.addresses.tunnel(number).outside)
    for line in lab.psk_txt.read_text().splitlines():
        address, _, key = line.partition(":")
        if address.strip() == outside:
            return key.strip()
    raise LabError(f"no key for {outside} in {lab.psk_txt}")


def terminate_customer(lab: Lab, number: int) -> None:
    """Drop every customer SA of tunnel ``number`` (CONNECTING ones too)."""
    _terminate(lab.customer.vici, f"dvsum-tunnel{number}")


def _terminate(vici_socket: Path, ike: str, force: bool = True) -> None:
    request = OrderedDict(ike=ike, timeout="-1")
    if force:
        request["force"] = "yes"
    with charon.session(vici_socket) as ses, contextlib.suppress(CommandException):
        for _ in ses.terminate(request):
            pass


def _customer_sas(lab: Lab, number: int) -> int:
    """How many IKE_SAs the customer's charon has for tunnel ``number``."""
    with charon.session(lab.customer.vici) as ses:
        return len(list(ses.list_sas({"ike": f"dvsum-tunnel{number}"})))


# -- routes, names, the path ---------------------------------------------------


@contextlib.contextmanager
def route_deleted(lab: Lab) -> Iterator[None]:
    """The agent's route to the landing zone removed by hand."""
    zone = str(lab.addresses.landing_zone)
    saved = lab.exec("cgw", "ip", "route", "show", zone).stdout.strip()
    if not saved:
        raise LabError(f"no route to {zone} in cgw to delete")
    lab.exec("cgw", "ip", "route", "del", zone)
    try:
        yield
    finally:
        if not lab.exec("cgw", "ip", "route", "show", zone).stdout.strip():
            lab.exec("cgw", "ip", "route", "add", *saved.split())


@contextlib.contextmanager
def names_public(lab: Lab) -> Iterator[dict[str, IPv4Address]]:
    """The agent's hosts block gone, and the customer's DNS server (a
    dnsmasq on the gateway's LAN address) answering the service names
    with public addresses, as a resolver without DvSum's forward does."""
    resolv = lab.hosts.parent / "resolv.conf"
    saved_hosts = lab.hosts.read_text()
    saved_resolv = resolv.read_text()
    daemons = Daemons(lab.root)
    directory = lab.root / "cgw" / "dns-fault"
    listen = lab.addresses.cgw_lan.ip
    pidfile = services.start_dnsmasq(daemons, lab.ns("cgw"), directory, listen,
                                     dict(PUBLIC))  # fmt: skip
    try:
        resolv.write_text(f"nameserver {listen}\noptions timeout:1 attempts:1\n")
        lab.hosts.write_text(hosts_block.strip(saved_hosts))
        yield dict(PUBLIC)
    finally:
        lab.hosts.write_text(saved_hosts)
        resolv.write_text(saved_resolv)
        daemons.stop(pidfile)


@contextlib.contextmanager
def path_mtu(lab: Lab, mtu: int = 1400) -> Iterator[None]:
    """The internet path carries only ``mtu`` bytes, and the ICMP
    'fragmentation needed' that would say so is dropped: a black hole for
    the tunnel's full-size packets (about 1470 bytes once encrypted)."""
    lab.exec("inet", "nft", DROP_FRAG_NEEDED)
    try:
        for link in INET_LINKS:
            lab.exec("inet", "ip", "link", "set", link, "mtu", str(mtu))
        yield
    finally:
        for link in INET_LINKS:
            lab.exec("inet", "ip", "link", "set", link, "mtu", str(LINK_MTU))
        lab.exec("inet", "nft", "delete", "table", "inet", PMTU_TABLE, check=False)


# -- the landing zone's services ------------------------------------------------


@contextlib.contextmanager
def service_down(lab: Lab, name: str) -> Iterator[IPv4Address]:
    """nginx stops serving ``name``: nothing listens on its address:443."""
    address = lab.addresses.services[name]
    rest = {n: a for n, a in lab.addresses.services.items() if n != name}
    _nginx_reload(lab, rest)
    try:
        _wait_for(lambda: not _listening(lab, address), f"{address}:443 closed")
        yield address
    finally:
        _nginx_reload(lab, dict(lab.addresses.services))
        _wait_for(lambda: _listening(lab, address), f"{address}:443 open")


@contextlib.contextmanager
def websocket_refuses(lab: Lab) -> Iterator[None]:
    """The WebSocket endpoint closes every upgrade on /socket unanswered,
    while the same server's health check keeps working."""
    _nginx_reload(lab, dict(lab.addresses.services), services.SOCKET_REFUSED)
    try:
        _wait_for(lambda: _socket_reply(lab) == "000", "/socket refusing")
        yield
    finally:
        _nginx_reload(lab, dict(lab.addresses.services))
        _wait_for(lambda: _socket_reply(lab) == "403", "/socket answering 403")


def _nginx_dir(lab: Lab) -> Path:
    return lab.root / "lz" / "nginx"


def _nginx_reload(
    lab: Lab,
    served: dict[str, IPv4Address],
    socket_reply: str = services.SOCKET_FORBIDDEN,
) -> None:
    """Rewrite nginx.conf for ``served`` and make nginx read it (SIGHUP)."""
    directory = _nginx_dir(lab)
    pki = lab.root / "pki"
    certs = {
        name: ServerCert(name, pki / f"{name}.pem", pki / f"{name}.key")
        for name in served
    }
    conf = directory / "nginx.conf"
    conf.write_text(services.render_nginx(directory, served, certs, socket_reply))
    lab.exec("lz", services.NGINX, "-p", str(directory), "-c", str(conf),
             "-e", str(directory / "error.log"), "-s", "reload")  # fmt: skip


def _listening(lab: Lab, address: IPv4Address) -> bool:
    done = run(["ss", "-N", lab.ns("lz"), "-Htln", f"src {address}:443"], check=False)
    return bool(done.stdout.strip())


def _socket_reply(lab: Lab) -> str:
    """The HTTP status of an upgrade on /socket, asked inside the landing
    zone ("000": the connection closed without a reply)."""
    name = services.SOCKET_SERVICE
    done = lab.exec(
        "lz", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
        "--max-time", "3", "--cacert", str(lab.ca_pem),
        "--resolve", f"{name}:443:{lab.addresses.services[name]}",
        "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
        f"https://{name}/socket", check=False,
    )  # fmt: skip
    return done.stdout.strip()


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise LabError(f"fault: {what}: not after {WAIT:g} s")
        time.sleep(0.1)


__all__ = [
    "PUBLIC",
    "lab_psk",
    "names_public",
    "path_mtu",
    "route_deleted",
    "service_down",
    "terminate_customer",
    "tunnel_down",
    "websocket_refuses",
    "wrong_psk",
]
