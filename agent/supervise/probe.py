"""TCP connect probes through the tunnel, on a thread of their own.

Every ``interval`` seconds one connection is opened to the probe target
(by default apis.dvsum.ai's private address, port 443) from the LAN source
address, so it takes the path the customer's traffic takes.  A SYN-ACK or a
RST within ``timeout`` is a pass: either proves packets went through the
tunnel and came back.  The connection is reset at once (SO_LINGER 0): no
request is sent and nothing lingers in TIME_WAIT.

Results go to ``post(Result)``; the daemon attributes them to the tunnel
that carried the probe.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address

LOG = logging.getLogger(__name__)

LINGER_RESET = struct.pack("ii", 1, 0)
LOCAL_ERRORS = frozenset(
    {errno.EADDRNOTAVAIL, errno.EINVAL, errno.ENETUNREACH, errno.EHOSTUNREACH}
)


@dataclass(frozen=True)
class Result:
    number: int  # the tunnel the probe was meant for
    ok: bool | None  # None: it could not be sent from this machine
    seconds: float
    detail: str
    started: float


@dataclass(frozen=True)
class Target:
    address: IPv4Address
    port: int
    source: IPv4Address | None


class Prober(threading.Thread):
    def __init__(
        self,
        target: Target,
        interval: float,
        timeout: float,
        post: Callable[[Result], None],
    ) -> None:
        super().__init__(name="probe", daemon=True)
        self.target = target
        self.interval = interval
        self.timeout = timeout
        self.post = post
        # The tunnel the next probes are for; None pauses probing.
        self.tunnel: int | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        pending: dict[socket.socket, tuple[int, float]] = {}
        next_at = time.monotonic()
        while not self._halt.is_set():
            now = time.monotonic()
            if now >= next_at:
                number = self.tunnel
                if number is not None:
                    self._launch(selector, pending, number, now)
                next_at = max(next_at + self.interval, now + self.interval / 2)
            deadlines = [started + self.timeout for _, started in pending.values()]
            wait = min([next_at, *deadlines]) - time.monotonic()
            for key, _ in selector.select(max(wait, 0.0)):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code in (0, errno.ECONNREFUSED):
                    detail = "connected" if code == 0 else "refused (RST)"
                    self._finish(selector, pending, sock, True, detail)
                else:
                    self._finish(
                        selector,
                        pending,
                        sock,
                        False,
                        errno.errorcode.get(code, str(code)),
                    )
            now = time.monotonic()
            for sock, (_, started) in list(pending.items()):
                if now - started >= self.timeout:
                    self._finish(selector, pending, sock, False, "timed out")
        for sock in list(pending):
            self._close(selector, sock)

    def _launch(
        self,
        selector: selectors.BaseSelector,
        pending: dict[socket.socket, tuple[int, float]],
        number: int,
        now: float,
    ) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        try:
            if self.target.source is not None:
                sock.bind((str(self.target.source), 0))
            code = sock.connect_ex((str(self.target.address), self.target.port))
        except OSError as err:
            code = err.errno or errno.EIO
        if code not in (errno.EINPROGRESS, 0):
            sock.close()
            # Refused before a packet left (no source address, no route):
            # this machine's problem, which says nothing about the tunnel.
            ok = None if code in LOCAL_ERRORS else False
            detail = f"{errno.errorcode.get(code, str(code))} (not sent)"
            self.post(Result(number, ok, 0.0, detail, now))
            return
        pending[sock] = (number, now)
        selector.register(sock, selectors.EVENT_WRITE)

    def _finish(
        self,
        selector: selectors.BaseSelector,
        pending: dict[socket.socket, tuple[int, float]],
        sock: socket.socket,
        ok: bool,
        detail: str,
    ) -> None:
        number, started = pending.pop(sock)
        self._close(selector, sock)
        self.post(Result(number, ok, time.monotonic() - started, detail, started))

    @staticmethod
    def _close(selector: selectors.BaseSelector, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(sock)
        sock.close()
