"""ICMP echo with the DF bit, many sizes at once, over a raw socket.

``IP_PMTUDISC_PROBE`` sets DF and makes the kernel ignore what it has
cached about the path, so each probe is exactly the size asked for and is
either carried whole or lost (or answered by 'fragmentation needed').
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time
from collections.abc import Iterable
from ipaddress import IPv4Address

IP_MTU_DISCOVER = 10
IP_PMTUDISC_PROBE = 3
ECHO_REPLY, UNREACHABLE, ECHO_REQUEST = 0, 3, 8
FRAG_NEEDED = 4
HEADERS = 20 + 8  # IPv4 and ICMP headers
SMALLEST = 64


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, size: int) -> bytes:
    """An echo request that makes an IPv4 packet of ``size`` bytes."""
    payload = bytes(i & 0xFF for i in range(size - HEADERS))
    header = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq)
    total = checksum(header + payload)
    return struct.pack("!BBHHH", ECHO_REQUEST, 0, total, ident, seq) + payload


class Pinger:
    """A raw ICMP socket towards one address (root, or CAP_NET_RAW)."""

    def __init__(self, address: IPv4Address) -> None:
        self.address = address
        self.ident = (os.getpid() ^ int(time.monotonic() * 1000)) & 0xFFFF
        self.frag_needed: int | None = None  # next-hop MTU some router reported
        self._seq = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self._sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        self._sock.setblocking(False)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Pinger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sizes_answered(self, sizes: Iterable[int], timeout: float) -> set[int]:
        """Send one echo per size at once; the sizes whose reply came back."""
        pending: dict[int, int] = {}
        for size in sizes:
            self._seq = (self._seq + 1) & 0xFFFF
            try:
                self._sock.sendto(
                    echo_request(self.ident, self._seq, size), (str(self.address), 0)
                )
            except OSError:
                continue  # EMSGSIZE: bigger than the device here
            pending[self._seq] = size
        answered: set[int] = set()
        deadline = time.monotonic() + timeout
        while pending and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._sock], [], [], left)
            if not ready:
                break
            packet, (source, _) = self._sock.recvfrom(65535)
            seq = self._match(packet, source)
            if seq in pending:
                answered.add(pending.pop(seq))
        return answered

    def _match(self, packet: bytes, source: str) -> int | None:
        """The sequence number of our echo this packet answers, if any."""
        ihl = (packet[0] & 0x0F) * 4
        kind, code = packet[ihl], packet[ihl + 1]
        if kind == ECHO_REPLY and source == str(self.address):
            ident, seq = struct.unpack("!HH", packet[ihl + 4 : ihl + 8])
            return seq if ident == self.ident else None
        if kind == UNREACHABLE and code == FRAG_NEEDED:
            (mtu,) = struct.unpack("!H", packet[ihl + 6 : ihl + 8])
            self.frag_needed = mtu
        return None
