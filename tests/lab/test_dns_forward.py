"""DNS approach B with real resolvers: the gateway's dnsmasq or unbound
forwards dvsum.ai through the tunnel to the landing zone's two resolvers.

For each backend: the names resolve to their private addresses for the
gateway and the LAN; every other name keeps its path (the ISP's resolver)
and never reaches DvSum's resolvers; with resolver 1 silent the names
still resolve; ``up`` again changes nothing; a removed edit comes back;
``down`` gives the resolver its configuration back byte for byte.
"""

from __future__ import annotations

import json
import statistics
import time
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
from tests.lab.dns_resolvers import PUBLIC, CustomerResolver, start_isp
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

LAN_RESOLVER = "192.168.10.1"


@dataclass
class Forward:
    lab: Lab
    resolver: CustomerResolver
    original: dict[str, bytes]
    isp_log: Path
    up: dict[str, Any]


def _forward_config(lab: Lab, resolver: CustomerResolver, conf: Path) -> None:
    data = yaml.safe_load(lab.config_yaml.read_text())
    data["dns"] = {
        "mode": "forward",
        "names": data["dns"]["names"],
        "resolvers": [str(a) for a in lab.addresses.resolvers],
        "backend": "auto",
    }
    if resolver.reload_command:
        data["dns"]["reload_command"] = resolver.reload_command
    data["paths"][f"{resolver.backend}_conf"] = str(conf)
    write_private(lab.config_yaml, yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def isp_log(lab: Lab) -> Iterator[Path]:
    directory = lab.root / "isp-dns"
    daemons = Daemons(lab.root)
    try:
        yield start_isp(daemons, lab.ns("inet"), directory)
    finally:
        daemons.stop(directory / "isp.pid")


@pytest.fixture(scope="module", params=["dnsmasq", "unbound"])
def fwd(request: pytest.FixtureRequest, lab: Lab, isp_log: Path) -> Iterator[Forward]:
    resolver = CustomerResolver(request.param, lab.root, lab.ns("cgw"))
    daemons = Daemons(lab.root)
    config = lab.config_yaml.read_bytes()
    lan_etc = netns.etc_dir(lab.ns("lan"))
    made_lan_etc = not lan_etc.exists()
    try:
        resolver.write()
        resolver.start(daemons)
        original = resolver.tree()
        _forward_config(lab, resolver, resolver.agent_conf)
        lan_etc.mkdir(parents=True, exist_ok=True)
        (lan_etc / "resolv.conf").write_text(f"nameserver {LAN_RESOLVER}\n")
        done = bring_up(lab)
        assert done.returncode == 0, done.stderr
        yield Forward(lab, resolver, original, isp_log, json.loads(done.stdout))
    finally:
        take_down(lab)
        resolver.stop(daemons)
        resolver.remove()
        write_private(lab.config_yaml, config.decode())
        (lan_etc / "resolv.conf").unlink(missing_ok=True)
        if made_lan_etc and lan_etc.is_dir() and not any(lan_etc.iterdir()):
            lan_etc.rmdir()


def test_status_names_the_forward_and_the_detected_resolver(fwd):
    done = agent(fwd.lab, "status", "--json")
    assert done.returncode == 0, done.stderr
    dns = json.loads(done.stdout)["dns"]
    assert dns == {
        "mode": "forward",
        "backend": fwd.resolver.backend,
        "domain": "dvsum.ai",
        "resolvers": ["10.0.10.53", "10.0.20.53"],
        "edit": str(fwd.resolver.agent_conf),
        "present": True,
        "problem": None,
    }
    assert fwd.up["dns"] == dns


def test_names_resolve_to_private_addresses_for_gateway_and_lan(fwd):
    lab = fwd.lab
    wanted = services(lab)
    # The gateway's own lookups, as getent (glibc, resolv.conf) makes them.
    assert {name: getent(lab, "cgw", name) for name in wanted} == wanted
    # Any machine on the LAN that uses the gateway's resolver.
    names = [n for name in wanted for n in unique(name)]
    replies = ask(lab, "lan", LAN_RESOLVER, names)
    assert answers(replies, wanted) == []
    # They went through the tunnel, from the LAN address the tunnel carries.
    logs = lz_logs(lab)
    for name in names:
        assert f"query[A] {name} from {lab.addresses.cgw_lan.ip}" in logs
    print(f"{fwd.resolver.backend}: LAN lookups through the forward, ms:",
          [r["ms"] for r in replies])  # fmt: skip


def test_names_resolve_over_tcp_too(fwd):
    """The guide's port 53 is UDP and TCP: a client that asks over TCP gets
    the private address, the resolver forwarding it through the tunnel."""
    lab = fwd.lab
    wanted = services(lab)
    names = [n for name in wanted for n in unique(name)]
    replies = ask(lab, "lan", LAN_RESOLVER, names, proto="tcp")
    assert answers(replies, wanted) == []


def test_other_names_keep_their_path_and_never_reach_dvsum(fwd):
    lab = fwd.lab
    others = unique("example.org", 3)
    ours = unique("apis.dvsum.ai", 3)
    for ns, server in (("cgw", "127.0.0.1"), ("lan", LAN_RESOLVER)):
        replies = ask(lab, ns, server, others + ours)
        assert [r["a"] for r in replies] == [[str(PUBLIC["example.org"])]] * 3 + [
            [str(lab.addresses.services["apis.dvsum.ai"])]
        ] * 3
    dvsum, isp = lz_logs(lab), fwd.isp_log.read_text()
    assert "example.org" not in dvsum
    assert all(name in isp for name in others)
    assert not any(name in isp for name in ours)


@pytest.fixture(params=[1, 2], ids=["resolver1-silent", "resolver2-silent"])
def silent(request: pytest.FixtureRequest, fwd: Forward) -> Iterator[int]:
    """One of DvSum's resolvers drops every query (its zone unreachable),
    over both protocols; the other answers."""
    lab, number = fwd.lab, request.param
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


def test_one_resolver_down_changes_nothing_visible(fwd, silent):
    """Resolver 1 silent, then resolver 2: whichever the forwarding resolver
    was using dies once, so the worst case is measured too."""
    lab = fwd.lab
    wanted = services(lab)
    other = lab.addresses.resolvers[2 - silent]
    before = len(lz_log(lab, other))
    names = [n for name in wanted for n in unique(name, 4)]
    # A stub with glibc's defaults (5 s, twice): what an application sees.
    # A forwarding resolver may first try the silent server for a while
    # (unbound's choice among its servers is random within an RTT band):
    # the printed times show it, the answers must not.
    replies = ask(lab, "lan", LAN_RESOLVER, names, timeout=5.0, tries=2)
    assert answers(replies, wanted) == []
    assert all(name in lz_log(lab, other)[before:] for name in names)
    times = [r["ms"] for r in replies]
    print(
        f"{fwd.resolver.backend}, resolver {silent} silent: {len(times)} lookups, "
        f"p50 {statistics.median(times):.1f} ms, max {max(times):.1f} ms, "
        f"stub retries {sum(r['tries'] - 1 for r in replies)}; ms: {times}"
    )


def test_up_again_changes_nothing(fwd):
    resolver = fwd.resolver
    pid, starts = resolver.pid(), resolver.starts()
    inode = resolver.agent_conf.stat().st_ino
    done = agent(fwd.lab, "up", "--timeout", "10")
    assert done.returncode == 0, done.stderr
    assert (resolver.pid(), resolver.starts()) == (pid, starts)
    assert resolver.agent_conf.stat().st_ino == inode


def test_a_removed_edit_comes_back_with_one_reload(fwd):
    lab, resolver = fwd.lab, fwd.resolver
    starts = resolver.starts()
    idle_us, repair_ms = step_bench(lab, ["rm", str(resolver.agent_conf)])
    print(
        f"{resolver.backend}: step_dns with nothing to do {idle_us} us per call; "
        f"put back a removed edit and reload: {repair_ms} ms"
    )
    # The resolver logs its restart a moment after the reload command
    # returned: wait for that line, then count exactly one.
    deadline = time.monotonic() + 5
    while resolver.starts() < starts + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert resolver.starts() == starts + 1
    name = unique("s3-storage.dvsum.ai")
    (reply,) = ask(lab, "lan", LAN_RESOLVER, name)
    assert reply["a"] == [str(lab.addresses.services["s3-storage.dvsum.ai"])]


def test_y_a_block_in_the_resolvers_own_file(fwd):
    """paths.*_conf pointed at the resolver's main file: our lines go in a
    marked block there, and our own file from the last ``up`` goes."""
    lab, resolver = fwd.lab, fwd.resolver
    _forward_config(lab, resolver, resolver.main_conf)
    done = agent(lab, "up", "--timeout", "10")
    assert done.returncode == 0, done.stderr
    assert not resolver.agent_conf.exists()
    text = resolver.main_conf.read_text()
    original = fwd.original[str(resolver.main_conf)].decode()
    assert text.startswith(original) and "# BEGIN dvsum-vpn" in text[len(original) :]
    (reply,) = ask(lab, "lan", LAN_RESOLVER, unique("socket-api.dvsum.ai"))
    assert reply["a"] == [str(lab.addresses.services["socket-api.dvsum.ai"])]


def test_zz_down_gives_the_configuration_back_byte_for_byte(fwd):
    lab, resolver = fwd.lab, fwd.resolver
    done = agent(lab, "down")
    assert done.returncode == 0, done.stderr
    assert resolver.tree() == fwd.original
    # The resolver read it again: dvsum.ai takes the public path once more.
    (reply,) = ask(lab, "lan", LAN_RESOLVER, unique("apis.dvsum.ai"))
    assert reply["a"] == [str(PUBLIC["dvsum.ai"])]
