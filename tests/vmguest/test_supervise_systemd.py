"""``dvsum-vpn run`` under the real systemd of the VM: Type=notify, the
STATUS= line in ``systemctl``, journal fields, and a hung loop killed by
the watchdog and restarted without touching the tunnels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab import outages
from tests.lab.agent_run import import_lab_file, take_down
from tests.lab.lab import Lab

REPO = Path(__file__).resolve().parents[2]
UNIT = f"dvsum-vpn-vmtest-{os.getpid()}"


def _show(prop: str) -> str:
    done = subprocess.run(
        ["systemctl", "show", "--value", "-p", prop, UNIT],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip()


def _journal() -> list[dict[str, str]]:
    done = subprocess.run(
        ["journalctl", "-u", UNIT, "-o", "json", "--no-pager"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def unit(lab: Lab) -> Iterator[str]:
    assert lab.data_plane == "route", "set DVSUM_LAB_DATA_PLANE=route"
    original = lab.config_yaml.read_text()
    done = import_lab_file(lab)
    assert done.returncode == 0, done.stderr
    lab.config_yaml.write_text(original + "supervise:\n  hold_down: 3\n")
    if lab.customer_charon_alive():
        lab.restart_customer_charon()
    else:
        lab.start_customer_charon()
    try:
        started = subprocess.run(
            ["systemd-run", f"--unit={UNIT}",
             "-p", "Type=notify", "-p", "NotifyAccess=main",
             "-p", "WatchdogSec=6", "-p", "Restart=on-failure", "-p", "RestartSec=1",
             "-p", "TimeoutStopSec=5",
             "-p", f"NetworkNamespacePath=/run/netns/{lab.ns('cgw')}",
             "-p", f"WorkingDirectory={REPO}", "-E", f"PYTHONPATH={REPO}",
             sys.executable, "-m", "agent", "--config", str(lab.config_yaml), "run"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        yield UNIT
    finally:
        subprocess.run(["systemctl", "stop", UNIT], check=False)
        subprocess.run(["systemctl", "reset-failed", UNIT], check=False,
                       capture_output=True)  # fmt: skip
        take_down(lab)
        lab.config_yaml.write_text(original)


def test_ready_and_the_status_line_in_systemctl(unit):
    assert _show("ActiveState") == "active"
    assert outages.wait_for(
        lambda: (
            _show("StatusText")
            == "traffic via tunnel 1 (primary, healthy); tunnel 2 healthy"
        ),
        90,
    ), _show("StatusText")


def test_journal_has_the_story_with_fields(unit):
    entries = _journal()
    transitions = [e for e in entries if e.get("EVENT") == "transition"]
    assert {e.get("TUNNEL") for e in transitions} >= {"1", "2"}
    healthy = [e for e in transitions if e.get("STATE_TO") == "healthy"]
    assert healthy and all("-> healthy" in e["MESSAGE"] for e in healthy)
    messages = [e["MESSAGE"] for e in entries]
    first = next(i for i, m in enumerate(messages) if m.startswith("starting:"))
    ready = next(i for i, m in enumerate(messages) if m.startswith("ready:"))
    assert first < ready


def test_a_hung_loop_is_killed_by_the_watchdog_and_restarted(unit, lab):
    pid = int(_show("MainPID"))
    route = lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout
    os.kill(pid, 19)  # SIGSTOP: the loop hangs, no more WATCHDOG=1
    assert outages.wait_for(lambda: _show("NRestarts") == "1", 40), _show("NRestarts")
    assert outages.wait_for(lambda: _show("ActiveState") == "active", 60)
    assert int(_show("MainPID")) != pid
    assert lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout == route
    assert outages.wait_for(lambda: "tunnel 2 healthy" in _show("StatusText"), 90)


def test_stop_keeps_traffic_flowing(unit, lab):
    subprocess.run(["systemctl", "stop", unit], check=True)
    assert "dvsum1" in lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout
    time.sleep(1)
    messages = [e["MESSAGE"] for e in _journal()]
    assert any(m.startswith("stopped: the tunnels, the route") for m in messages)
