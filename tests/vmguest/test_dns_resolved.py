"""DNS approach B through systemd-resolved, under the VM's real systemd.

The distribution's systemd-resolved.service runs in the gateway namespace
(a runtime drop-in gives it NetworkNamespacePath), with the customer's own
setting: its ISP's resolver as global DNS server.  The agent puts DvSum's
resolvers on the active tunnel link with the routing-only domain
~dvsum.ai and no default route; names resolve through the stub
127.0.0.53, other names keep the ISP path and never reach DvSum, either
resolver silent changes nothing visible, the settings follow the route to
the other tunnel, and ``down`` leaves resolved as it was.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab import netns
from tests.lab.agent_run import agent, bring_up, take_down
from tests.lab.aws_file import write_private
from tests.lab.daemons import Daemons
from tests.lab.dns_probes import (
    answers,
    ask,
    getent,
    lz_log,
    lz_logs,
    services,
    step_bench,
    unique,
)
from tests.lab.dns_resolvers import ISP, PUBLIC, start_isp
from tests.lab.lab import Lab

REPO = Path(__file__).resolve().parents[2]
UNIT = "systemd-resolved.service"
DROPIN = Path("/run/systemd/system/systemd-resolved.service.d/dvsum-lab.conf")
CONF_D = Path("/etc/systemd/resolved.conf.d")
CUSTOMER_CONF = CONF_D / "customer.conf"
STUB = "127.0.0.53"


def _systemctl(*argv: str) -> None:
    subprocess.run(["systemctl", *argv], check=True, capture_output=True, timeout=60)


def _resolved_state(lab: Lab) -> dict[str, Any]:
    """resolved's configuration as files and as it reports it."""
    files = {str(p): p.read_bytes() for p in sorted(CONF_D.glob("*"))}
    for path in ("/etc/systemd/resolved.conf", "/run/systemd/resolve/resolv.conf"):
        files[path] = Path(path).read_bytes()
    netif = Path("/run/systemd/resolve/netif")
    links = (
        {p.name: p.read_bytes() for p in sorted(netif.glob("*"))}
        if netif.is_dir()
        else {}
    )
    said = {
        what: lab.exec("cgw", "resolvectl", what).stdout for what in ("dns", "domain")
    }
    return {"files": files, "netif": links, "resolvectl": said}


@dataclass
class Resolved:
    lab: Lab
    original: dict[str, Any]
    isp_log: Path
    up: dict[str, Any]


@pytest.fixture(scope="module")
def rsd(lab: Lab) -> Iterator[Resolved]:
    assert lab.data_plane == "route", "set DVSUM_LAB_DATA_PLANE=route"
    config = lab.config_yaml.read_bytes()
    resolv = netns.etc_dir(lab.ns("cgw")) / "resolv.conf"
    resolv_before = resolv.read_bytes()
    daemons = Daemons(lab.root)
    isp = lab.root / "isp-dns"
    try:
        isp_log = start_isp(daemons, lab.ns("inet"), isp)
        CONF_D.mkdir(parents=True, exist_ok=True)
        CUSTOMER_CONF.write_text(f"[Resolve]\nDNS={ISP}\nLLMNR=no\nMulticastDNS=no\n")
        DROPIN.parent.mkdir(parents=True, exist_ok=True)
        DROPIN.write_text(
            f"[Service]\nNetworkNamespacePath=/run/netns/{lab.ns('cgw')}\n"
        )
        _systemctl("daemon-reload")
        _systemctl("restart", UNIT)
        resolv.write_text(f"nameserver {STUB}\n")
        data = yaml.safe_load(lab.config_yaml.read_text())
        data["dns"] = {
            "mode": "forward",
            "names": data["dns"]["names"],
            "resolvers": [str(a) for a in lab.addresses.resolvers],
            "backend": "auto",
        }
        write_private(lab.config_yaml, yaml.safe_dump(data, sort_keys=False))
        original = _resolved_state(lab)
        done = bring_up(lab)
        assert done.returncode == 0, done.stderr
        yield Resolved(lab, original, isp_log, json.loads(done.stdout))
    finally:
        take_down(lab)
        subprocess.run(["systemctl", "stop", UNIT], check=False, timeout=60)
        DROPIN.unlink(missing_ok=True)
        CUSTOMER_CONF.unlink(missing_ok=True)
        _systemctl("daemon-reload")
        daemons.stop(isp / "isp.pid")
        resolv.write_bytes(resolv_before)
        write_private(lab.config_yaml, config.decode())


def test_status_names_resolved_and_the_tunnel_link(rsd):
    done = agent(rsd.lab, "status", "--json")
    assert done.returncode == 0, done.stderr
    dns = json.loads(done.stdout)["dns"]
    assert dns == {
        "mode": "forward",
        "backend": "systemd-resolved",
        "domain": "dvsum.ai",
        "resolvers": ["10.0.10.53", "10.0.20.53"],
        "edit": "dvsum1",
        "present": True,
        "problem": None,
    }
    said = rsd.lab.exec("cgw", "resolvectl", "domain", "dvsum1").stdout
    assert said.split(":", 1)[1].split() == ["~dvsum.ai"]


def test_names_resolve_through_the_stub_to_private_addresses(rsd):
    lab = rsd.lab
    wanted = services(lab)
    assert {name: getent(lab, "cgw", name) for name in wanted} == wanted
    names = [n for name in wanted for n in unique(name)]
    replies = ask(lab, "cgw", STUB, names)
    assert answers(replies, wanted) == []
    logs = lz_logs(lab)
    for name in names:
        assert f"query[A] {name} from {lab.addresses.cgw_lan.ip}" in logs
    print("systemd-resolved: lookups through the forward, ms:",
          [r["ms"] for r in replies])  # fmt: skip


def test_other_names_keep_their_path_and_never_reach_dvsum(rsd):
    lab = rsd.lab
    others = unique("example.org", 3)
    ours = unique("apis.dvsum.ai", 3)
    replies = ask(lab, "cgw", STUB, others + ours)
    assert [r["a"] for r in replies] == [[str(PUBLIC["example.org"])]] * 3 + [
        [str(lab.addresses.services["apis.dvsum.ai"])]
    ] * 3
    dvsum, isp = lz_logs(lab), rsd.isp_log.read_text()
    assert "example.org" not in dvsum
    assert all(name in isp for name in others)
    assert not any(name in isp for name in ours)


@pytest.fixture(params=[1, 2], ids=["resolver1-silent", "resolver2-silent"])
def silent(request: pytest.FixtureRequest, rsd: Resolved) -> Iterator[int]:
    lab, number = rsd.lab, request.param
    address = lab.addresses.resolvers[number - 1]
    rules = (
        "table inet dvsum_lab_dns {\n chain input {\n"
        "  type filter hook input priority filter; policy accept;\n"
        f"  ip daddr {address} udp dport 53 drop\n"
        f"  ip daddr {address} tcp dport 53 drop\n }}\n}}\n"
    )
    lab.exec("lz", "nft", "-f", "-", input_text=rules)
    try:
        yield number
    finally:
        lab.exec("lz", "nft", "delete", "table", "inet", "dvsum_lab_dns", check=False)


def test_one_resolver_down_changes_nothing_visible(rsd, silent):
    lab = rsd.lab
    wanted = services(lab)
    other = lab.addresses.resolvers[2 - silent]
    before = len(lz_log(lab, other))
    names = [n for name in wanted for n in unique(name, 4)]
    replies = ask(lab, "cgw", STUB, names, timeout=3.0, tries=3)
    assert answers(replies, wanted) == []
    assert all(name in lz_log(lab, other)[before:] for name in names)
    times = [r["ms"] for r in replies]
    print(
        f"systemd-resolved, resolver {silent} silent: {len(times)} lookups, "
        f"p50 {statistics.median(times):.1f} ms, max {max(times):.1f} ms, "
        f"stub retries {sum(r['tries'] - 1 for r in replies)} (TCG guest); "
        f"ms: {times}"
    )


def test_up_again_changes_nothing(rsd):
    done = agent(rsd.lab, "-v", "up", "--timeout", "20")
    assert done.returncode == 0, done.stderr
    assert "systemd-resolved:" not in done.stderr


def test_a_reverted_link_comes_back(rsd):
    idle_us, repair_ms = step_bench(rsd.lab, ["resolvectl", "revert", "dvsum1"])
    print(
        f"systemd-resolved: step_dns with nothing to do {idle_us} us per call "
        "(a stat; D-Bus when that moved or every 30 s); put back reverted link "
        f"settings: {repair_ms} ms "
        "(TCG guest)"
    )
    (reply,) = ask(rsd.lab, "cgw", STUB, unique("s3-storage.dvsum.ai"))
    assert reply["a"] == [str(rsd.lab.addresses.services["s3-storage.dvsum.ai"])]


def test_settings_follow_the_route_to_the_other_tunnel(rsd):
    lab = rsd.lab
    try:
        done = agent(lab, "prefer", "2")
        assert done.returncode == 0, done.stderr
        domains = lab.exec("cgw", "resolvectl", "domain").stdout
        assert "dvsum2" in _links_with(domains, "~dvsum.ai")
        assert "dvsum1" not in _links_with(domains, "~dvsum.ai")
        (reply,) = ask(lab, "cgw", STUB, unique("socket-api.dvsum.ai"))
        assert reply["a"] == [str(lab.addresses.services["socket-api.dvsum.ai"])]
    finally:
        agent(lab, "prefer", "auto")
        agent(lab, "up", "--timeout", "20")
    assert _links_with(lab.exec("cgw", "resolvectl", "domain").stdout, "~dvsum.ai") == [
        "dvsum1"
    ]


# What the service does each second: plan, then step_dns.
SERVICE_STEP = """\
import sys
from pathlib import Path
from agent import inputs, up
from agent.apply.netlink import Netlink
loaded = inputs.load(Path(sys.argv[1]))
with Netlink() as netlink:
    plan = up.plan_for(loaded, netlink)
print(plan.dns.backend, up.step_dns(plan, loaded))
"""
# Unit settings that are not the sandbox, or that would hide the lab's tree
# (/tmp) and the checkout (/root/repo) from the test.
NOT_SANDBOX = {
    "Type", "NotifyAccess", "ExecStart", "ExecReload", "WatchdogSec",
    "TimeoutStopSec", "Restart", "RestartSec", "TimeoutStartSec", "PrivateTmp",
    "ProtectHome",
}  # fmt: skip


def _sandbox() -> list[str]:
    """The [Service] sandbox of systemd/dvsum-vpn.service, as -p options."""
    props, section = [], ""
    unit = (REPO / "systemd" / "dvsum-vpn.service").read_text()
    for text in unit.splitlines():
        line = text.strip()
        key = line.split("=", 1)[0]
        if line.startswith("["):
            section = line
        elif line.startswith("#") or "=" not in line or key in NOT_SANDBOX:
            continue
        elif section == "[Service]":
            props += ["-p", line]
    return props


def test_the_services_sandbox_finds_resolved_and_repairs(rsd):
    """ProtectProc=invisible hides resolved's process and only CAP_NET_ADMIN
    is left: detection goes by the socket's owner, D-Bus still works."""
    lab = rsd.lab
    lab.exec("cgw", "resolvectl", "revert", "dvsum1")
    etc = Path("/etc/dvsum-vpn")  # one of the unit's ReadWritePaths=
    made = not etc.exists()
    etc.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            ["systemd-run", "--wait", "--pipe", "--quiet", "--collect",
             *_sandbox(), "-p", "ProtectHome=read-only",
             "-p", f"NetworkNamespacePath=/run/netns/{lab.ns('cgw')}",
             "-p", f"WorkingDirectory={REPO}", "-E", f"PYTHONPATH={REPO}",
             sys.executable, "-c", SERVICE_STEP, str(lab.config_yaml)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        if made:
            etc.rmdir()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["systemd-resolved", "True"], done.stderr
    said = lab.exec("cgw", "resolvectl", "domain", "dvsum1").stdout
    assert said.split(":", 1)[1].split() == ["~dvsum.ai"]


def _links_with(said: str, domain: str) -> list[str]:
    """Links whose line in ``resolvectl domain`` lists DOMAIN."""
    found = []
    for line in said.splitlines():
        head, _, rest = line.partition(":")
        if domain in rest.split() and "(" in head:
            found.append(head[head.index("(") + 1 : head.index(")")])
    return found


def test_zz_down_leaves_resolved_as_it_was(rsd):
    lab = rsd.lab
    done = agent(lab, "down")
    assert done.returncode == 0, done.stderr
    assert _resolved_state(lab) == rsd.original
    (reply,) = ask(lab, "cgw", STUB, unique("apis.dvsum.ai"))
    assert reply["a"] == [str(PUBLIC["dvsum.ai"])]
