"""Which resolver this machine runs: the program that answers on port 53.

Read from /proc, in the network namespace the agent runs in: the UDP
sockets bound to port 53 (``/proc/net/udp``, ``udp6``), and the process
holding each one (``/proc/PID/fd``).  Where that process cannot be seen
(the service runs with ``ProtectProc=invisible`` and without
CAP_SYS_PTRACE), the socket's owner says it: resolvers run as their own
system user.  When more than one known resolver listens, the one
``/etc/resolv.conf`` names first is the system's.
"""

from __future__ import annotations

import logging
import os
import pwd
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

LOG = logging.getLogger(__name__)

DNS_PORT = 53
# /proc/PID/comm (at most 15 characters) -> backend
PROGRAMS = {
    "systemd-resolve": "systemd-resolved",
    "dnsmasq": "dnsmasq",
    "unbound": "unbound",
}
# The system user each resolver drops to (Debian, Fedora) -> backend
USERS = {
    "systemd-resolve": "systemd-resolved",
    "dnsmasq": "dnsmasq",
    "unbound": "unbound",
}
UDP_UNCONNECTED = "07"


@dataclass(frozen=True)
class Listener:
    backend: str
    address: str
    pid: int


@dataclass(frozen=True)
class Detection:
    backend: str | None
    reason: str


def detect(
    proc: Path = Path("/proc"), resolv_conf: Path = Path("/etc/resolv.conf")
) -> Detection:
    return choose(listeners(proc), nameservers(resolv_conf))


def choose(found: Sequence[Listener], servers: Sequence[str]) -> Detection:
    """The resolver to configure, and why (pure)."""
    backends = sorted({f.backend for f in found})
    if not backends:
        return Detection(
            None,
            "no systemd-resolved, dnsmasq or unbound listens on port 53 here",
        )
    if len(backends) == 1:
        (backend,) = backends
        where = ", ".join(sorted({f.address for f in found}))
        return Detection(backend, f"{backend} listens on port 53 ({where})")
    for server in servers:
        for listener in found:
            if _covers(listener.address, server):
                return Detection(
                    listener.backend,
                    f"{', '.join(backends)} listen on port 53; /etc/resolv.conf "
                    f"names {server}, where {listener.backend} listens",
                )
    return Detection(
        None,
        f"{', '.join(backends)} listen on port 53 and /etc/resolv.conf names "
        "none of them; set dns.backend",
    )


def _covers(bound: str, server: str) -> bool:
    if bound == server:
        return True
    wildcard = {"0.0.0.0": 4, "::": 6}.get(bound)
    return wildcard is not None and ip_address(server).version in (4, wildcard)


def nameservers(resolv_conf: Path) -> list[str]:
    try:
        text = resolv_conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            found.append(fields[1])
    return found


def listeners(proc: Path) -> list[Listener]:
    sockets = _sockets(proc)
    if not sockets:
        return []
    found = []
    held = dict((inode, pid) for pid, inode in _socket_holders(proc, set(sockets)))
    for inode, (address, uid) in sockets.items():
        pid = held.get(inode)
        if pid is not None:
            backend = PROGRAMS.get(_comm(proc, pid))
        else:
            backend = USERS.get(_user(uid))
        if backend is not None:
            found.append(Listener(backend, address, pid or 0))
    return found


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


def _sockets(proc: Path) -> dict[str, tuple[str, int]]:
    """Socket inode -> (local address, owner uid) of every UDP socket bound
    to port 53."""
    found = {}
    for name, family in (("udp", socket.AF_INET), ("udp6", socket.AF_INET6)):
        try:
            lines = (proc / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != UDP_UNCONNECTED:
                continue
            address, _, port = fields[1].partition(":")
            if int(port, 16) == DNS_PORT:
                found[fields[9]] = (_decode(address, family), int(fields[7]))
    return found


def _decode(hexed: str, family: int) -> str:
    """A /proc/net address: 32-bit words printed in host byte order."""
    words = [int(hexed[i : i + 8], 16) for i in range(0, len(hexed), 8)]
    return socket.inet_ntop(family, struct.pack(f"={len(words)}I", *words))


def _socket_holders(proc: Path, inodes: set[str]) -> list[tuple[int, str]]:
    held = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            fds = os.scandir(f"{entry.path}/fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held.append((int(entry.name), target[8:-1]))
    return held


def _comm(proc: Path, pid: int) -> str:
    try:
        return (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""
