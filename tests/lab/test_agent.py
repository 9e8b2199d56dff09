"""The agent end to end: import the lab's AWS file, ``up``, traffic through
the tunnel, ``up`` again changes nothing, ``down`` leaves no trace."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import probes
from tests.lab.agent_run import agent, bring_up, take_down
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

BODY = '{"status":"OK","mode":"privatelink"}'


def _psks(lab: Lab) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in lab.psk_txt.read_text().splitlines()
        if ":" in line and not line.startswith("#")
    ]


@pytest.fixture(scope="module")
def agent_up(lab: Lab) -> Iterator[dict[str, Any]]:
    original_hosts = lab.hosts.read_text()
    done = bring_up(lab)
    try:
        assert done.returncode == 0, done.stderr
        yield {"status": json.loads(done.stdout), "stderr": done.stderr,
               "hosts": original_hosts}  # fmt: skip
    finally:
        take_down(lab)
        lab.set_return_tunnel(1)


def _sas(lab: Lab) -> dict[str, list[tuple[str, str]]]:
    done = agent(lab, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _customer_uniqueids(lab: Lab) -> list[str]:
    done = lab.exec("cgw", "swanctl", "--list-sas", "--uri",
                    f"unix://{lab.customer.vici}")  # fmt: skip
    return sorted(re.findall(r"#(\d+)", done.stdout))


def test_both_tunnels_established_primary_active(agent_up, lab):
    status = agent_up["status"]
    assert status["active"] == "dvsum-tunnel1"
    assert [(t["name"], t["role"], t["aws_outside_address"], t["ike_state"],
             t["child_state"]) for t in status["tunnels"]] == [
        ("dvsum-tunnel1", "primary", "203.0.113.44", "ESTABLISHED", "INSTALLED"),
        ("dvsum-tunnel2", "standby", "203.0.113.172", "ESTABLISHED", "INSTALLED"),
    ]  # fmt: skip
    assert status["route"] == {
        "destination": "10.0.0.0/16", "present": True, "ours": True, "device": "ipsec0",
        "source": "192.168.10.1", "mtu": 1400, "advmss": 1360,
    }  # fmt: skip


def test_aws_side_sees_dvsum_parameters(agent_up, lab):
    for number in (1, 2):
        (sa,) = lab.aws_sas(number)
        (ike,) = sa.values()
        assert (ike["state"], ike["version"], ike["encr-alg"], ike["integ-alg"],
                ike["dh-group"], ike["remote-id"]) == (
            "ESTABLISHED", "2", "AES_CBC", "HMAC_SHA1_96", "MODP_2048",
            "198.51.100.20",
        )  # fmt: skip


@pytest.mark.parametrize("number", [1, 2])
def test_health_check_by_name_through_the_tunnel(agent_up, lab, number):
    lab.set_return_tunnel(number)
    reply = probes.https_get(lab, "cgw", "apis.dvsum.ai", resolve=False)
    assert (reply.status, reply.body) == (200, BODY)


def test_hosts_block_keeps_the_rest_of_the_file(agent_up, lab):
    text = lab.hosts.read_text()
    original = agent_up["hosts"]
    assert text.startswith(original)
    assert text[len(original) :] == (
        "# BEGIN dvsum-vpn: DvSum service endpoints (managed; edits are lost)\n"
        "10.0.151.182  apis.dvsum.ai\n"
        "10.0.150.69   s3-storage.dvsum.ai\n"
        "10.0.157.107  socket-api.dvsum.ai\n"
        "# END dvsum-vpn\n"
    )


def test_forwarded_syn_from_the_lan_is_clamped_both_ways(agent_up, lab):
    def fetch() -> None:
        reply = probes.https_get(lab, "lan", "apis.dvsum.ai")
        assert reply.status == 200

    out = probes.capture(lab, "cgw", "ipsec0", fetch)
    syn = [line for line in out if "Flags [S]" in line]
    assert syn and all("mss 1360" in line for line in syn), out
    back = probes.capture(lab, "cgw", "lan0", fetch)
    syn_ack = [line for line in back if "Flags [S.]" in line]
    assert syn_ack and all("mss 1360" in line for line in syn_ack), back


def test_up_again_changes_nothing(agent_up, lab):
    before = _customer_uniqueids(lab)
    route_before = lab.exec("cgw", "ip", "route", "show", "10.0.0.0/16").stdout
    done = agent(lab, "up", "--timeout", "10")
    assert done.returncode == 0, done.stderr
    assert "initiating" not in done.stderr
    assert _customer_uniqueids(lab) == before
    assert lab.exec("cgw", "ip", "route", "show", "10.0.0.0/16").stdout == route_before


def test_a_deleted_rule_and_route_come_back_with_up(agent_up, lab):
    lab.exec("cgw", "nft", "delete", "table", "inet", "dvsum_vpn")
    lab.exec("cgw", "ip", "route", "del", "10.0.0.0/16")
    done = agent(lab, "up", "--timeout", "10")
    assert done.returncode == 0, done.stderr
    assert _sas(lab)["route"]["present"] is True
    assert "dvsum-vpn mss 1360 out ipsec0" in lab.exec(
        "cgw", "nft", "list", "table", "inet", "dvsum_vpn").stdout  # fmt: skip


def test_render_root_writes_what_up_wrote(agent_up, lab, tmp_path):
    done = agent(lab, "render", "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for path in (lab.agent.swanctl_conf, lab.agent.charon_dropin, lab.hosts):
        copy = tmp_path / path.relative_to("/")
        assert copy.read_text() == path.read_text(), path


def test_no_psk_in_output_or_readable_files(agent_up, lab):
    psks = _psks(lab)
    status = agent(lab, "status")
    seen = agent_up["stderr"] + json.dumps(agent_up["status"]) + status.stdout
    for psk in psks:
        assert psk not in seen
    for path in (lab.agent.swanctl_conf, lab.agent.psk_file, lab.agent.aws_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def _bytes_out(lab: Lab) -> dict[str, int]:
    return {t["name"]: t["bytes_out"] for t in _sas(lab)["tunnels"]}


def _fetch_moves_bytes_on(lab: Lab) -> str:
    before = _bytes_out(lab)
    reply = probes.https_get(lab, "cgw", "apis.dvsum.ai", resolve=False)
    assert reply.status == 200
    after = _bytes_out(lab)
    (moved,) = [name for name in after if after[name] > before[name]]
    return moved


def test_prefer_moves_traffic_and_auto_brings_it_back(agent_up, lab):
    assert _fetch_moves_bytes_on(lab) == "dvsum-tunnel1"
    done = agent(lab, "prefer", "2")
    assert done.returncode == 0, done.stderr
    assert "active: dvsum-tunnel2 (preferred: dvsum-tunnel2)" in done.stdout
    assert _fetch_moves_bytes_on(lab) == "dvsum-tunnel2"
    assert _narrow_children(lab) == ["dvsum-tunnel2-child"]
    done = agent(lab, "prefer", "auto")
    assert done.returncode == 0, done.stderr
    assert _fetch_moves_bytes_on(lab) == "dvsum-tunnel1"
    # Only one tunnel has the narrow selectors: the other went back to 0/0.
    assert _narrow_children(lab) == ["dvsum-tunnel1-child"]
    assert "active: dvsum-tunnel1 (preferred: dvsum-tunnel1)" in done.stdout


def _narrow_children(lab: Lab) -> list[str]:
    out = lab.exec("cgw", "swanctl", "--list-sas", "--uri",
                   f"unix://{lab.customer.vici}").stdout  # fmt: skip
    names, current = [], None
    for line in out.splitlines():
        words = line.split()
        if words and words[0].endswith("-child:"):
            current = words[0].rstrip(":")
        elif current and "local" in line and "192.168.10.0/24" in line:
            names.append(current)
            current = None
    return sorted(names)


def test_zz_down_leaves_no_trace(agent_up, lab):
    done = agent(lab, "down")
    assert done.returncode == 0, done.stderr
    assert lab.hosts.read_text() == agent_up["hosts"]
    assert lab.exec("cgw", "ip", "route", "show", "proto", "213").stdout == ""
    tables = lab.exec("cgw", "nft", "list", "tables").stdout
    assert "dvsum_vpn" not in tables
    assert not Path(lab.agent.swanctl_conf).exists()
    assert not Path(lab.agent.charon_dropin).exists()
    conns = lab.exec("cgw", "swanctl", "--list-conns", "--uri",
                     f"unix://{lab.customer.vici}").stdout  # fmt: skip
    assert conns == ""
    assert _customer_uniqueids(lab) == []
    again = agent(lab, "down")
    assert again.returncode == 0, again.stderr
