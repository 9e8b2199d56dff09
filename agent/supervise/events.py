"""What happens to the tunnels and the routes, as one queue of events.

Two listener threads feed the daemon's queue:

- charon's VICI events (IKE and CHILD up/down, rekeys) on a VICI session
  of their own; when charon goes away the thread says so and reconnects
  every half second, and says when charon is back (it then has none of our
  connections: a restart);
- netlink notifications for routes, rules, links and addresses, so a route
  someone deleted is noticed at once, not at the next resync.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import vici

from agent.apply.iproute import IPRoute
from agent.apply.vici import decode

LOG = logging.getLogger(__name__)

VICI_EVENTS = ["ike-updown", "child-updown", "ike-rekey", "child-rekey"]
NETLINK_EVENTS = frozenset(
    {
        "RTM_NEWROUTE", "RTM_DELROUTE", "RTM_NEWLINK", "RTM_DELLINK",
        "RTM_NEWADDR", "RTM_DELADDR", "RTM_NEWRULE", "RTM_DELRULE",
    }
)  # fmt: skip
RECONNECT = 0.5


@dataclass(frozen=True)
class Event:
    source: str  # "vici", "charon", "netlink", "probe", "signal"
    kind: str  # e.g. "ike-updown", "lost", "back", "RTM_DELROUTE", "hup"
    name: str = ""  # the connection, or the device, concerned
    data: Any = None


class ViciListener(threading.Thread):
    def __init__(self, uri: str, post: queue.Queue[Event]) -> None:
        super().__init__(name="vici-events", daemon=True)
        self.path = urlparse(uri).path
        self.post = post
        self._halt = threading.Event()
        self.connected = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        lost_said = False
        while not self._halt.is_set():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                if not lost_said:
                    self.post.put(Event("charon", "lost"))
                    lost_said = True
                self._halt.wait(RECONNECT)
                continue
            if lost_said:
                self.post.put(Event("charon", "back"))
                lost_said = False
            self.connected.set()
            try:
                self._listen(sock)
            except (OSError, vici.exception.SessionException) as err:
                LOG.debug("VICI events: %s", err)
            finally:
                sock.close()
                self.connected.clear()
            if not self._halt.is_set():
                self.post.put(Event("charon", "lost"))
                lost_said = True

    def _listen(self, sock: socket.socket) -> None:
        session = vici.Session(sock)
        for kind, message in session.listen(VICI_EVENTS, timeout=0.5):
            if self._halt.is_set():
                return
            if kind is None:
                continue
            data = decode(message)
            for name in data:
                if name.startswith("dvsum-tunnel"):
                    self.post.put(Event("vici", decode(kind), name, data[name]))


class NetlinkListener(threading.Thread):
    def __init__(self, post: queue.Queue[Event]) -> None:
        super().__init__(name="netlink-events", daemon=True)
        self.post = post
        self._halt = threading.Event()
        self._ipr = IPRoute()
        self._ipr.bind()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                for message in self._ipr.get():
                    kind = message.get("event")
                    if kind in NETLINK_EVENTS:
                        name = message.get_attr("IFLA_IFNAME") or ""
                        self.post.put(Event("netlink", kind, name))
        except OSError as err:
            if not self._halt.is_set():
                LOG.warning("netlink events stopped: %s", err)
        finally:
            self._ipr.close()
