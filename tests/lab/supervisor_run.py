"""Run ``dvsum-vpn run`` in the lab's gateway namespace, as systemd would.

The test plays systemd's part of the notify protocol: it owns the
NOTIFY_SOCKET the daemon sends READY=1, STATUS= and WATCHDOG=1 to, and
reads them back.  The daemon's log (stderr, the format it uses outside the
journal) goes to a file in the lab tree.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.lab import outages
from tests.lab.agent_run import import_lab_file, take_down
from tests.lab.lab import Lab

REPO = Path(__file__).resolve().parents[2]
WATCHDOG_USEC = 4_000_000


class Supervisor:
    def __init__(self, lab: Lab, name: str = "supervisor") -> None:
        self.lab = lab
        self.log_path = lab.root / f"{name}.log"
        self.notify_path = lab.root / f"{name}.notify"
        self.notifications: list[tuple[float, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_path.unlink(missing_ok=True)
        self._sock.bind(str(self.notify_path))
        self._sock.settimeout(0.2)
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.proc: subprocess.Popen[bytes] | None = None

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in data.decode().splitlines():
                self.notifications.append((time.monotonic(), line))

    def start(self) -> None:
        env = dict(
            os.environ,
            NOTIFY_SOCKET=str(self.notify_path),
            WATCHDOG_USEC=str(WATCHDOG_USEC),
        )
        env.pop("WATCHDOG_PID", None)
        env.pop("JOURNAL_STREAM", None)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.ns("cgw"), sys.executable, "-m",
                 "agent", "--config", str(self.lab.config_yaml), "run"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 30.0) -> bool:
        return self.wait_for("READY=1", timeout)

    def wait_for(self, line: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(n == line for _, n in self.notifications):
                return True
            if self.proc is not None and self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def statuses(self) -> list[str]:
        return [
            n.removeprefix("STATUS=")
            for _, n in self.notifications
            if n.startswith("STATUS=")
        ]

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def wait_log(self, text: str, timeout: float, after: int = 0) -> bool:
        """Wait until ``text`` appears in the log past offset ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log()[after:]:
                return True
            time.sleep(0.1)
        return False

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, as ``systemctl stop``; SIGKILL if it does not exit."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def close(self) -> None:
        self.stop()
        self._closed.set()
        self._sock.close()
        self._reader.join(timeout=2)
        self.notify_path.unlink(missing_ok=True)


@contextmanager
def supervised(lab: Lab, hold_down: float = 3.0) -> Iterator[Supervisor]:
    """The lab's AWS file imported, the customer charon (re)started and
    ``dvsum-vpn run`` started with a short failback hold-down; afterwards
    the daemon stopped, ``down`` run and the lab as it was (config.yaml,
    return path, no blackhole), whatever happened."""
    original = lab.config_yaml.read_text()
    done = import_lab_file(lab)
    assert done.returncode == 0, done.stderr
    lab.config_yaml.write_text(
        lab.config_yaml.read_text() + f"supervise:\n  hold_down: {hold_down:g}\n"
    )
    if lab.customer_charon_alive():
        lab.restart_customer_charon()
    else:
        lab.start_customer_charon()
    supervisor = Supervisor(lab)
    try:
        supervisor.start()
        yield supervisor
    finally:
        supervisor.close()
        print(supervisor.log())
        for number in (1, 2):
            outages.restore(lab, number)
        take_down(lab)
        lab.config_yaml.write_text(original)
        lab.set_return_tunnel(1)
