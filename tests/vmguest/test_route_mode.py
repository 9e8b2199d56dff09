"""Route-based mode on a real kernel: XFRM interfaces dvsum1/dvsum2 with
kernel ESP, the route on the active one, prefer moving traffic, down
removing everything.  Runs inside the VM (DVSUM_LAB_DATA_PLANE=route)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab import probes
from tests.lab.agent_run import agent, bring_up, take_down
from tests.lab.lab import Lab

BODY = '{"status":"OK","mode":"privatelink"}'

# TCP connects to apis.dvsum.ai's private address every 100 ms from the
# gateway; prints how many of them failed.
PROBE = """
import socket, sys, time
lost = sent = 0
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    start = time.monotonic()
    sent += 1
    try:
        socket.create_connection(("10.0.151.182", 443), timeout=0.5).close()
    except OSError:
        lost += 1
    time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))
print(sent, lost)
"""


@pytest.fixture(scope="module")
def routed(lab: Lab) -> Iterator[dict[str, Any]]:
    assert lab.data_plane == "route", "set DVSUM_LAB_DATA_PLANE=route"
    done = bring_up(lab)
    try:
        assert done.returncode == 0, done.stderr
        yield json.loads(done.stdout)
    finally:
        take_down(lab)


def _link(lab: Lab, name: str) -> dict[str, Any]:
    out = lab.exec("cgw", "ip", "-d", "-j", "link", "show", name).stdout
    (link,) = json.loads(out)
    return link


def test_both_xfrm_interfaces_with_mtu_1436(routed, lab):
    assert routed["data_plane"] == "route"
    for number, address in ((1, "169.254.61.18/30"), (2, "169.254.140.6/30")):
        link = _link(lab, f"dvsum{number}")
        assert (link["linkinfo"]["info_kind"], link["mtu"]) == ("xfrm", 1436)
        assert link["linkinfo"]["info_data"]["if_id"] == hex(number)
        assert address in lab.exec("cgw", "ip", "-4", "addr", "show",
                                   f"dvsum{number}").stdout  # fmt: skip
    assert [t["child_state"] for t in routed["tunnels"]] == ["INSTALLED"] * 2


def test_kernel_esp_carries_the_sas(routed, lab):
    states = lab.exec("cgw", "ip", "xfrm", "state").stdout
    assert "cbc(aes)" in states and "espinudp" in states
    assert "if_id 0x1" in states and "if_id 0x2" in states


def test_route_names_the_active_interface_and_a_lan_source(routed, lab):
    out = lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout
    assert out.split()[:5] == ["10.0.151.182", "dev", "dvsum1", "src", "192.168.10.1"]


@pytest.mark.parametrize("number", [1, 2])
def test_health_check_with_either_return_tunnel(routed, lab, number):
    lab.set_return_tunnel(number)
    try:
        reply = probes.https_get(lab, "cgw", "apis.dvsum.ai", resolve=False)
        assert (reply.status, reply.body) == (200, BODY)
    finally:
        lab.set_return_tunnel(1)


def test_prefer_moves_route_and_traffic_losing_at_most_one_probe(routed, lab):
    probe = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("cgw"), sys.executable, "-c", PROBE, "4"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        subprocess.run(["sleep", "1"], check=True)
        done = agent(lab, "prefer", "2")
        assert done.returncode == 0, done.stderr
    finally:
        out, _ = probe.communicate(timeout=30)
    sent, lost = map(int, out.split())
    print(f"prefer 2: {lost} of {sent} probes lost (one every 100 ms)")
    assert sent > 20 and lost <= 1, (sent, lost)
    route = lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout
    assert route.split()[:3] == ["10.0.151.182", "dev", "dvsum2"]
    reply = probes.https_get(lab, "cgw", "apis.dvsum.ai", resolve=False)
    assert reply.status == 200
    done = agent(lab, "prefer", "auto")
    assert done.returncode == 0, done.stderr
    route = lab.exec("cgw", "ip", "route", "get", "10.0.151.182").stdout
    assert route.split()[:3] == ["10.0.151.182", "dev", "dvsum1"]


def test_zz_down_removes_the_interfaces(routed, lab):
    done = agent(lab, "down")
    assert done.returncode == 0, done.stderr
    links = lab.exec("cgw", "ip", "-j", "link", "show").stdout
    names = {link["ifname"] for link in json.loads(links)}
    assert not names & {"dvsum1", "dvsum2"}
    assert lab.exec("cgw", "ip", "route", "show", "proto", "213").stdout == ""
