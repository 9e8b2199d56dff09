"""``dvsum-vpn run`` in the lab: failover, repairs, restarts, notify.

One supervisor runs through the whole module, started as systemd would
(NOTIFY_SOCKET, WATCHDOG_USEC), against the session lab.  Faults are
injected in the order below and each test leaves the lab healthy for the
next.  Outage lengths are printed (``-rP``); ``make bench`` measures them.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab import outages, probes
from tests.lab.agent_run import agent
from tests.lab.aws_router import ReturnPath
from tests.lab.lab import Lab
from tests.lab.supervisor_run import Supervisor, supervised
from tests.lab.ticker import Ticks
from tests.lab.ticker import outages as outage_runs

pytestmark = pytest.mark.lab

BODY = '{"status":"OK","mode":"privatelink"}'
CHAIN = "forward_mss"  # agent/render/nft.py
SETTLE = 40.0  # seconds to wait for tunnels to come back after a fault


@pytest.fixture(scope="module")
def sup(lab: Lab) -> Iterator[Supervisor]:
    original_hosts = lab.hosts.read_text()
    with supervised(lab) as supervisor:
        yield supervisor
    assert lab.hosts.read_text() == original_hosts


def _status_file(lab: Lab) -> dict[str, Any]:
    path = lab.agent.run_dir / "supervisor.json"
    return json.loads(path.read_text())


def _both_healthy(lab: Lab, active: int = 1) -> bool:
    try:
        data = _status_file(lab)
    except (OSError, ValueError):
        return False
    states = {n: t["state"] for n, t in data["tunnels"].items()}
    return data["active"] == active and states == {"1": "healthy", "2": "healthy"}


def _wait_healthy(lab: Lab, active: int = 1, timeout: float = SETTLE) -> None:
    assert outages.wait_for(lambda: _both_healthy(lab, active), timeout), _status_file(
        lab
    )


def _health_check(lab: Lab) -> None:
    reply = probes.https_get(lab, "lan", "apis.dvsum.ai", "/health-check")
    assert (reply.status, reply.body) == (200, BODY)


def _service(lab: Lab) -> str:
    return str(lab.addresses.services["apis.dvsum.ai"])


def test_ready_after_the_first_reconcile_then_both_tunnels_healthy(sup, lab):
    assert sup.wait_ready(), sup.log()
    _wait_healthy(lab)
    assert sup.wait_for(
        "STATUS=traffic via tunnel 1 (primary, healthy); tunnel 2 healthy", 5
    ), sup.statuses()
    _health_check(lab)
    assert "traffic moves" not in sup.log(), "a switch at start-up"


def test_watchdog_is_pinged_from_the_loop(sup):
    start = time.monotonic()
    time.sleep(5)
    pings = [t for t, n in sup.notifications if n == "WATCHDOG=1" and t >= start]
    # WATCHDOG_USEC is 4 s: a ping at least every 2 s.
    assert len(pings) >= 2, sup.notifications[-10:]


@pytest.mark.parametrize("what", ["route", "hosts", "mss", "mss-changed"])
def test_what_someone_removes_comes_back(sup, lab, what):
    offset = len(sup.log())
    start = time.monotonic()
    if what == "route":
        lab.exec("cgw", "ip", "route", "del", "10.0.0.0/16")
    elif what == "hosts":
        text = lab.hosts.read_text()
        kept = [line for line in text.splitlines(True) if "dvsum" not in line]
        lab.hosts.write_text("".join(kept))
    elif what == "mss":
        lab.exec("cgw", "nft", "delete", "table", "inet", "dvsum_vpn")
    else:  # a rule added to our chain, every comment kept
        lab.exec("cgw", "nft", "add", "rule", "inet", "dvsum_vpn", CHAIN, "drop")

    def back() -> bool:
        if what == "route":
            return "10.0.0.0/16" in lab.exec("cgw", "ip", "route").stdout
        if what == "hosts":
            return "apis.dvsum.ai" in lab.hosts.read_text()
        listed = lab.exec(
            "cgw", "nft", "list", "table", "inet", "dvsum_vpn", check=False
        )
        return listed.returncode == 0 and "drop" not in listed.stdout

    assert outages.wait_for(back, 10, step=0.02), sup.log()[offset:]
    print(f"{what} restored after {time.monotonic() - start:.2f} s")
    assert sup.wait_log("restored", 5, after=offset)
    _health_check(lab)


def test_a_route_that_bypasses_the_tunnel_does_not_tear_tunnels_down(sup, lab):
    offset = len(sup.log())
    bypass = f"{_service(lab)}/32"
    gateway = str(lab.addresses.nat_inside.ip)
    lab.exec("cgw", "ip", "route", "add", bypass, "via", gateway)
    try:
        assert sup.wait_log("probes: the route to", 10, offset), sup.log()[offset:]
        time.sleep(3)
    finally:
        lab.exec("cgw", "ip", "route", "del", bypass)
    assert "traffic moves" not in sup.log()[offset:]
    assert "declared dead" not in sup.log()[offset:]
    _wait_healthy(lab)


def test_blackholed_active_tunnel_fails_over_and_fails_back(sup, lab):
    lab.set_return_tunnel(2)  # AWS already answers on tunnel 2
    with Ticks(lab.ns("lan"), _service(lab)) as ticks:
        time.sleep(1)
        start = time.monotonic()
        offset = len(sup.log())
        outages.blackhole(lab, 1)
        assert sup.wait_log("traffic moves from tunnel 1 to tunnel 2", 15, offset)
        time.sleep(2)
        outages.restore(lab, 1)
        assert sup.wait_log("traffic moves from tunnel 2 to tunnel 1", 60, offset)
        _wait_healthy(lab)
        time.sleep(1)
        runs = outage_runs(ticks.since(start))
    print(f"blackhole: outages {[round(r, 1) for r in runs]} s")
    log = sup.log()[offset:]
    order = [
        "tunnel 1: healthy -> failing",
        "traffic moves from tunnel 1 to tunnel 2",
        "tunnel 1: declared dead",
        "tunnel 1: failing -> down",
        "traffic moves from tunnel 2 to tunnel 1",
    ]
    positions = [log.find(line) for line in order]
    assert -1 not in positions and positions == sorted(positions), log
    assert len(runs) == 1, runs
    lab.set_return_tunnel(1)


def test_aws_endpoint_deleting_the_tunnel_costs_no_traffic(sup, lab):
    with ReturnPath(lab), Ticks(lab.ns("lan"), _service(lab)) as ticks:
        time.sleep(1)
        start = time.monotonic()
        outages.delete_tunnel(lab, 1)
        time.sleep(3)
        _wait_healthy(lab)
        runs = outage_runs(ticks.since(start))
    print(f"IKE delete from AWS: outages {[round(r, 1) for r in runs]} s")
    assert all(r <= 1.0 for r in runs), runs
    lab.set_return_tunnel(1)


def test_aws_endpoint_restart_without_state(sup, lab):
    with ReturnPath(lab), Ticks(lab.ns("lan"), _service(lab)) as ticks:
        time.sleep(1)
        start = time.monotonic()
        offset = len(sup.log())
        lab.restart_aws_endpoint(1, down_for=3)
        assert sup.wait_log("traffic moves from tunnel 1 to tunnel 2", 20, offset)
        _wait_healthy(lab, timeout=60)
        runs = outage_runs(ticks.since(start))
    print(f"endpoint restart: outages {[round(r, 1) for r in runs]} s")
    lab.set_return_tunnel(1)


def test_charon_restart_makes_the_agent_push_and_reinitiate(sup, lab):
    offset = len(sup.log())
    lab.restart_customer_charon()
    assert sup.wait_log("charon: back", 15, offset), sup.log()[offset:]
    assert sup.wait_log("connections loaded", 15, offset), sup.log()[offset:]
    _wait_healthy(lab)
    _health_check(lab)


def test_prefer_while_the_daemon_runs_is_followed_and_kept(sup, lab):
    offset = len(sup.log())
    with Ticks(lab.ns("lan"), _service(lab)) as ticks:
        time.sleep(1)
        start = time.monotonic()
        done = agent(lab, "prefer", "2")
        assert done.returncode == 0, done.stderr
        assert sup.wait_log("prefer: tunnel 2 is the one to carry traffic", 5, offset)
        _wait_healthy(lab, active=2)
        time.sleep(5)  # longer than the hold-down: no failback to tunnel 1
        assert _status_file(lab)["active"] == 2
        done = agent(lab, "prefer", "auto")
        assert done.returncode == 0, done.stderr
        _wait_healthy(lab, active=1)
        lost = ticks.lost(start)
    print(f"prefer 2 and back with the daemon running: {lost} probes lost")
    assert lost <= 1


def test_down_refuses_while_the_daemon_runs(sup, lab):
    done = agent(lab, "down")
    assert done.returncode == 3, done.stderr
    assert "stop it first: systemctl stop dvsum-vpn" in done.stderr
    assert "10.0.0.0/16" in lab.exec("cgw", "ip", "route").stdout


def _uniqueids(lab: Lab) -> list[str]:
    done = lab.exec("cgw", "swanctl", "--list-sas", "--uri",
                    f"unix://{lab.customer.vici}")  # fmt: skip
    return sorted(re.findall(r"#(\d+)", done.stdout))


def test_stopping_and_restarting_the_agent_leaves_traffic_alone(sup, lab):
    before = _uniqueids(lab)
    with Ticks(lab.ns("lan"), _service(lab)) as ticks:
        time.sleep(1)
        start = time.monotonic()
        assert sup.stop() == 0
        assert "stopped: the tunnels, the route and the DNS edit stay" in sup.log()
        assert "10.0.0.0/16" in lab.exec("cgw", "ip", "route").stdout
        time.sleep(1)
        sup.notifications.clear()
        sup.start()
        assert sup.wait_ready(), sup.log()
        _wait_healthy(lab)
        lost = ticks.lost(start)
    print(f"agent restart: {lost} probes lost")
    assert lost == 0
    assert _uniqueids(lab) == before


def test_sighup_applies_a_changed_config_and_keeps_a_broken_one_out(sup, lab):
    original = lab.config_yaml.read_text()
    offset = len(sup.log())
    try:
        lab.config_yaml.write_text(original.replace("10.0.150.69", "10.0.150.70"))
        sup.signal(signal.SIGHUP)
        assert outages.wait_for(lambda: "10.0.150.70" in lab.hosts.read_text(), 10)
        lab.config_yaml.write_text(original + "no_such_setting: 1\n")
        sup.signal(signal.SIGHUP)
        assert sup.wait_log("reload: keeping the running configuration", 10, offset)
        assert "10.0.150.70" in lab.hosts.read_text()
    finally:
        lab.config_yaml.write_text(original)
        sup.signal(signal.SIGHUP)
    assert outages.wait_for(lambda: "10.0.150.69" in lab.hosts.read_text(), 10)


def test_status_command_still_reports_both_tunnels(sup, lab):
    done = agent(lab, "status", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [t["child_state"] for t in data["tunnels"]] == ["INSTALLED", "INSTALLED"]
    assert data["active"] == "dvsum-tunnel1"
    assert data["supervisor"]["active"] == 1
    assert "primary, healthy" in data["supervisor"]["status"]
