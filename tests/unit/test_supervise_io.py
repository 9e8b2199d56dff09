"""The supervisor's edges to the world: systemd's notify socket, the TCP
prober (on loopback only), the daemon's presence file."""

from __future__ import annotations

import json
import os
import queue
import socket
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from agent.supervise import presence
from agent.supervise.notify import Notifier
from agent.supervise.probe import Prober, Result, Target


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def test_notifier_speaks_systemds_protocol(notify_socket):
    notifier = Notifier()
    assert notifier.watchdog == 1.0  # half of WATCHDOG_USEC
    notifier.ready("traffic via tunnel 1")
    assert notify_socket.recv(512) == b"READY=1\nSTATUS=traffic via tunnel 1"
    notifier.status("traffic via tunnel 1")  # unchanged: not sent again
    notifier.status("traffic via tunnel 2")
    assert notify_socket.recv(512) == b"STATUS=traffic via tunnel 2"
    notifier.ping(10.0)
    notifier.ping(10.5)  # too soon: not sent
    notifier.ping(11.0)
    assert notify_socket.recv(512) == b"WATCHDOG=1"
    assert notify_socket.recv(512) == b"WATCHDOG=1"
    notify_socket.settimeout(0.2)
    with pytest.raises(TimeoutError):
        notify_socket.recv(512)


def test_notifier_is_silent_without_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier()
    notifier.ready("x")
    notifier.ping(1.0)
    assert notifier.watchdog is None and notifier.wakeup == 1.0


def test_notifier_ignores_a_watchdog_meant_for_another_process(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert Notifier().watchdog is None


def _probe_once(port: int) -> Result:
    results: queue.Queue[Result] = queue.Queue()
    target = Target(IPv4Address("127.0.0.1"), port, IPv4Address("127.0.0.1"))
    prober = Prober(target, interval=0.05, timeout=1.0, post=results.put)
    prober.tunnel = 1
    prober.start()
    try:
        return results.get(timeout=5)
    finally:
        prober.stop()
        prober.join(timeout=5)


def test_a_probe_passes_when_the_target_accepts():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        result = _probe_once(server.getsockname()[1])
    assert (result.number, result.ok, result.detail) == (1, True, "connected")


def test_a_probe_passes_on_a_reset_which_proves_the_path():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    result = _probe_once(port)  # nothing listens there now: RST
    assert (result.ok, result.detail) == (True, "refused (RST)")


def test_a_paused_prober_sends_nothing():
    results: queue.Queue[Result] = queue.Queue()
    target = Target(IPv4Address("127.0.0.1"), 9, None)
    prober = Prober(target, interval=0.05, timeout=0.1, post=results.put)
    prober.start()
    try:
        with pytest.raises(queue.Empty):
            results.get(timeout=0.3)
    finally:
        prober.stop()
        prober.join(timeout=5)


def test_presence_needs_a_live_run_process(tmp_path: Path):
    assert presence.running(tmp_path) is None
    (tmp_path / presence.STATUS_FILE).write_text(json.dumps({"pid": 1}))
    # pid 1 is not `dvsum-vpn run` (in any case not in this test's tree)
    cmdline = Path("/proc/1/cmdline").read_bytes().split(b"\0")
    assert presence.running(tmp_path) == (1 if b"run" in cmdline else None)
    (tmp_path / presence.STATUS_FILE).write_text("not json")
    assert presence.running(tmp_path) is None
