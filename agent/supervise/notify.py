"""systemd's notify protocol: READY, STATUS, WATCHDOG, STOPPING.

A no-op when the agent does not run under systemd (no NOTIFY_SOCKET).
The watchdog is pinged from the daemon's own loop, at half the interval
systemd asks for, so a loop that hangs gets the service restarted.
"""

from __future__ import annotations

import logging
import os

LOG = logging.getLogger(__name__)


def _send(message: str) -> None:
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    import systemd.daemon

    systemd.daemon.notify(message)


class Notifier:
    def __init__(self) -> None:
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog = int(usec) / 1e6 / 2 if usec.isdigit() and mine else None
        self._last_ping = 0.0
        self._status = ""

    def ready(self, status: str) -> None:
        self._status = status
        _send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            _send(f"STATUS={status}")

    def ping(self, now: float) -> None:
        if self.watchdog is not None and now - self._last_ping >= self.watchdog:
            self._last_ping = now
            _send("WATCHDOG=1")

    def reloading(self) -> None:
        _send("RELOADING=1")

    def reloaded(self) -> None:
        _send("READY=1")

    def stopping(self) -> None:
        _send("STOPPING=1")

    @property
    def wakeup(self) -> float:
        """The longest the loop may sleep and still ping in time."""
        return self.watchdog if self.watchdog is not None else 1.0
