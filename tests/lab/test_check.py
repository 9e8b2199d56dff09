"""``dvsum-vpn check`` against the lab: everything passes when healthy, and
for each injected fault the first failing check and its stated cause are
the fault's."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab import faults
from tests.lab.agent_run import REPO, agent, bring_up, take_down
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

ORDER = ["tunnels", "route", "dns", "tcp", "mtu", "tls", "https", "websocket"]


@pytest.fixture(scope="module")
def agent_up(lab: Lab) -> Iterator[None]:
    done = bring_up(lab)
    try:
        assert done.returncode == 0, done.stderr
        yield
    finally:
        take_down(lab)
        lab.set_return_tunnel(1)


@pytest.fixture
def healthy(agent_up: None, lab: Lab) -> Iterator[None]:
    """Each test starts from, and leaves behind, a lab where check passes."""
    yield
    lab.set_return_tunnel(1)
    done = agent(lab, "up", "--timeout", "20")
    assert done.returncode == 0, done.stderr
    rc, report = check(lab)
    assert rc == 0, failures(report)


def check(lab: Lab, *extra: str) -> tuple[int, dict[str, Any]]:
    done = agent(lab, "check", "--json", "--ca-file", str(lab.ca_pem), *extra,
                 timeout=60)  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def failures(report: dict[str, Any]) -> dict[str, list[str]]:
    """Failing checks and the kinds of their failed items."""
    return {
        c["name"]: [i["kind"] for i in c["items"] if not i["ok"]]
        for c in report["checks"]
        if not c["ok"]
    }


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def first(report: dict[str, Any]) -> dict[str, Any]:
    """The first failing check, with its diagnosis."""
    return by_name(report)[report["first_failure"]]


def test_healthy_every_check_passes(healthy, lab):
    rc, report = check(lab)
    assert rc == 0, failures(report)
    assert report["ok"] is True
    assert report["first_failure"] is None
    assert [c["name"] for c in report["checks"]] == ORDER
    checks = by_name(report)
    assert checks["tunnels"]["summary"] == (
        "both tunnels established; traffic on dvsum-tunnel1"
    )
    assert [i["facts"]["address"] for i in checks["dns"]["items"]] == [
        "10.0.151.182", "10.0.150.69", "10.0.157.107",
    ]  # fmt: skip
    assert checks["websocket"]["items"][0]["facts"]["status"] == 403
    assert checks["mtu"]["items"][0]["facts"]["method"] == "icmp"


def test_table_and_report_file(healthy, lab, tmp_path):
    path = tmp_path / "dvsum-check.txt"
    done = agent(lab, "check", "--ca-file", str(lab.ca_pem), "--report", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].split() == ["CHECK", "RESULT", "TIME", "DETAIL"]
    assert done.stdout.splitlines()[-1].startswith("all 8 checks passed in ")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    text = path.read_text()
    assert "result:        PASS: every check passed" in text
    assert "tunnels:       dvsum-tunnel1 203.0.113.44 (primary), dvsum-tunnel2 " in (
        text
    )
    for key in (faults.lab_psk(lab, 1), faults.lab_psk(lab, 2)):
        assert key not in text
        assert key not in done.stdout + done.stderr


def test_one_tunnel_down(healthy, lab):
    lab.set_return_tunnel(2)  # AWS replies on the tunnel that is up
    with faults.tunnel_down(lab, 1):
        rc, report = check(lab)
    assert rc == 1
    assert failures(report) == {"tunnels": ["no_response"]}
    tunnels = first(report)
    assert tunnels["name"] == "tunnels"
    assert tunnels["summary"] == (
        "dvsum-tunnel1: no_response; traffic on dvsum-tunnel2"
    )
    diagnosis = tunnels["diagnosis"]
    assert diagnosis["guide"] == "IKE phase 1 fails — no response"
    assert diagnosis["cause"].startswith(
        "dvsum-tunnel1 (203.0.113.44): our IKE_SA_INIT got no answer from "
        "203.0.113.44: UDP 500 and 4500 are blocked"
    )
    assert "Traffic still flows on dvsum-tunnel2" in diagnosis["cause"]


def test_both_tunnels_down(healthy, lab):
    with faults.tunnel_down(lab, 1, 2):
        rc, report = check(lab)
    assert rc == 1
    assert report["first_failure"] == "tunnels"
    got = failures(report)
    assert got["tunnels"] == ["no_response", "no_response"]
    assert set(got) == {"tunnels", "tcp", "mtu", "tls", "https", "websocket"}
    assert first(report)["diagnosis"]["cause"].startswith(
        "dvsum-tunnel1 (203.0.113.44) and dvsum-tunnel2 (203.0.113.172): our "
        "IKE_SA_INIT got no answer"
    )
    for name in ("tcp", "mtu", "tls", "https", "websocket"):
        assert by_name(report)[name]["diagnosis"]["follows"] == "tunnels", name


def test_no_initiate_leaves_a_down_tunnel_alone(healthy, lab):
    with faults.tunnel_down(lab, 2):
        rc, report = check(lab, "--no-initiate")
        sas = lab.exec("cgw", "swanctl", "--list-sas", "--ike", "dvsum-tunnel2",
                       "--uri", f"unix://{lab.customer.vici}").stdout  # fmt: skip
    assert rc == 1
    assert failures(report) == {"tunnels": ["down"]}
    assert "dvsum-tunnel2" not in sas


def test_route_deleted(healthy, lab):
    with faults.route_deleted(lab):
        rc, report = check(lab)
    assert rc == 1
    assert report["first_failure"] == "route"
    route = first(report)
    assert failures(report)["route"] == ["missing", "bypass", "bypass", "bypass"]
    assert route["diagnosis"]["guide"] == "Tunnel established but traffic not flowing"
    assert route["diagnosis"]["cause"].startswith(
        "The tunnel is up but there is no route to 10.0.0.0/16"
    )
    assert "leaves by wan0 via 100.64.0.1" in route["diagnosis"]["cause"]
    assert by_name(report)["tcp"]["diagnosis"]["follows"] == "route"


def test_names_resolving_to_public_addresses(healthy, lab):
    with faults.names_public(lab) as public:
        rc, report = check(lab)
    assert rc == 1
    assert report["first_failure"] == "dns"
    dns = first(report)
    assert failures(report)["dns"] == ["public", "public", "public"]
    assert [i["facts"]["address"] for i in dns["items"]] == [
        str(a) for a in public.values()
    ]
    assert dns["diagnosis"]["guide"] == "DNS returns public IP"
    assert "the agent's block is missing from" in dns["diagnosis"]["cause"]
    assert dns["diagnosis"]["fix"].startswith("Run `dvsum-vpn up`")
    # The tunnel and the private addresses themselves are fine.
    assert "tcp" not in failures(report)
    assert by_name(report)["tls"]["diagnosis"]["follows"] == "dns"


def test_wrong_psk(healthy, lab):
    with faults.wrong_psk(lab, 2):
        rc, report = check(lab)
    assert rc == 1
    assert failures(report) == {"tunnels": ["auth_failed"]}
    tunnels = first(report)
    diagnosis = tunnels["diagnosis"]
    assert diagnosis["guide"] == "AUTHENTICATION_FAILED"
    assert diagnosis["cause"].startswith(
        "AWS refused our authentication on dvsum-tunnel2 (203.0.113.172) "
        "(AUTHENTICATION_FAILED): the pre-shared key is wrong"
    )
    assert "the key of this one is the likely culprit" in diagnosis["cause"]
    item = tunnels["items"][1]
    assert any(
        "AUTHENTICATION_FAILED" in line for line in item["facts"]["charon_lines"]
    )
    assert faults.lab_psk(lab, 2) not in json.dumps(report)


def test_lower_path_mtu_with_icmp_dropped(healthy, lab):
    with faults.path_mtu(lab, 1400):
        rc, report = check(lab)
    assert rc == 1
    assert report["first_failure"] == "mtu"
    mtu = first(report)
    (item,) = mtu["items"]
    assert item["kind"] == "too_big"
    assert item["facts"]["mtu"] == 1400
    # The lab's path carries 1400-byte packets: about 70 bytes of ESP in
    # UDP leave room for roughly 1320 inside.
    assert 1200 <= item["facts"]["largest"] < 1400
    assert mtu["diagnosis"]["cause"].startswith(
        "Packets of the tunnel's full size (1400 bytes, DF set) are lost while "
        "small ones pass"
    )


def test_a_service_down(healthy, lab):
    with faults.service_down(lab, "s3-storage.dvsum.ai") as address:
        rc, report = check(lab)
    assert rc == 1
    assert failures(report) == {
        "tcp": ["refused"], "tls": ["refused"], "https": ["refused"],
    }  # fmt: skip
    tcp = first(report)
    assert tcp["name"] == "tcp"
    assert tcp["diagnosis"]["cause"].startswith(
        f"{address}:443 answers through the tunnel with a TCP reset"
    )
    assert "the service is down on DvSum's side" in tcp["diagnosis"]["cause"]
    assert by_name(report)["https"]["diagnosis"]["follows"] == "tcp"


def test_websocket_endpoint_refusing(healthy, lab):
    with faults.websocket_refuses(lab):
        rc, report = check(lab)
    assert rc == 1
    assert failures(report) == {"websocket": ["closed"]}
    cause = first(report)["diagnosis"]["cause"]
    assert "TCP, TLS and HTTPS to socket-api.dvsum.ai pass" in cause
    assert cause.endswith("the WebSocket endpoint itself refuses the upgrade.")


RESOLVERS = """\
import json, sys
sys.path.insert(0, sys.argv.pop(1))
from ipaddress import IPv4Address, IPv4Network
from agent.check import resolve
names = ("apis.dvsum.ai", "s3-storage.dvsum.ai", "socket-api.dvsum.ai")
items = resolve.ask_resolvers(
    [IPv4Address(a) for a in sys.argv[1:]], names, IPv4Network("10.0.0.0/16"), {}
)
print(json.dumps([[i.target, i.kind, i.facts.get("address")] for i in items]))
"""


def test_forwarding_mode_asks_each_resolver_through_the_tunnel(healthy, lab):
    resolvers = [str(r) for r in lab.addresses.resolvers]
    done = lab.exec("cgw", sys.executable, "-c", RESOLVERS, str(REPO), *resolvers)
    services = lab.addresses.services
    assert json.loads(done.stdout) == [
        [f"{name} @{resolver}", "ok", str(services[name])]
        for resolver in resolvers
        for name in services
    ]
