"""``dvsum-vpn run`` in route-based mode on a real kernel: the supervisor
moves the landing-zone route between dvsum1 and dvsum2 when the active
tunnel dies silently, and back after the hold-down.  Runs inside the VM."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.lab import outages
from tests.lab.lab import Lab
from tests.lab.supervisor_run import Supervisor, supervised

SETTLE = 90.0  # TCG is slow


@pytest.fixture(scope="module")
def sup(lab: Lab) -> Iterator[Supervisor]:
    assert lab.data_plane == "route", "set DVSUM_LAB_DATA_PLANE=route"
    with supervised(lab) as supervisor:
        yield supervisor


def _device(lab: Lab) -> str:
    out = lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout.split()
    return out[out.index("dev") + 1]


def _settled(lab: Lab, active: int) -> bool:
    try:
        data = json.loads((lab.agent.run_dir / "supervisor.json").read_text())
    except (OSError, ValueError):
        return False
    states = [t["state"] for t in data["tunnels"].values()]
    return data["active"] == active and states == ["healthy", "healthy"]


def test_ready_with_the_route_on_dvsum1(sup, lab):
    assert sup.wait_ready(60), sup.log()
    assert outages.wait_for(lambda: _settled(lab, 1), SETTLE), sup.log()
    assert _device(lab) == "dvsum1"
    assert "traffic moves" not in sup.log(), "a switch at start-up"


def test_silent_death_of_tunnel_1_moves_the_route_and_back(sup, lab):
    lab.set_return_tunnel(2)
    offset = len(sup.log())
    outages.blackhole(lab, 1)
    assert sup.wait_log("traffic moves from tunnel 1 to tunnel 2", 30, offset)
    assert outages.wait_for(lambda: _device(lab) == "dvsum2", 10)
    outages.restore(lab, 1)
    assert sup.wait_log("traffic moves from tunnel 2 to tunnel 1", SETTLE, offset)
    assert outages.wait_for(lambda: _device(lab) == "dvsum1", 10)
    assert outages.wait_for(lambda: _settled(lab, 1), SETTLE), sup.log()[offset:]
    lab.set_return_tunnel(1)


def test_stop_leaves_interfaces_and_route(sup, lab):
    assert sup.stop() == 0
    assert _device(lab) == "dvsum1"
    for name in ("dvsum1", "dvsum2"):
        assert lab.exec("cgw", "ip", "link", "show", name, check=False).returncode == 0
