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
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab import netns
from tests.lab.agent_run import agent, bring_up, take_down
from tests.lab.aws_file import write_private
from tests.lab.daemons import Daemons
from tests.lab.dns_resolvers import PUBLIC, CustomerResolver, start_isp
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

LAN_RESOLVER = "192.168.10.1"

# Queries from inside a namespace, as a stub resolver makes them: one socket
# and one message per name, sent again on the same socket after `timeout`
# seconds, up to `tries` times.  Prints one JSON object per name.
DNS_BATCH = """\
import json, socket, sys, time
import dns.message, dns.query, dns.rdatatype, dns.exception
server, timeout, tries = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
for name in sys.argv[4:]:
    query = dns.message.make_query(name, "A")
    start, answer, rcode, attempt = time.monotonic(), [], "TIMEOUT", 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)  # dnspython waits on it with a timeout
        for attempt in range(1, tries + 1):
            try:
                reply = dns.query.udp(query, server, timeout=timeout, sock=sock)
            except dns.exception.Timeout:
                continue
            rcode = dns.rcode.to_text(reply.rcode())
            answer = [i.address for r in reply.answer
                      if r.rdtype == dns.rdatatype.A for i in r]
            break
    print(json.dumps({"name": name, "rcode": rcode, "a": answer, "tries": attempt,
                      "ms": round(1000 * (time.monotonic() - start), 1)}))
"""

# step_dns's cost when nothing changed, and a repair (file removed, put
# back, resolver reloaded), measured inside the gateway namespace.
STEP_BENCH = """\
import sys, time
from pathlib import Path
from agent import inputs, up
from agent.apply.netlink import Netlink
loaded = inputs.load(Path(sys.argv[1]))
with Netlink() as netlink:
    plan = up.plan_for(loaded, netlink)
assert up.step_dns(plan, loaded) is False
start = time.perf_counter()
for _ in range(200):
    assert up.step_dns(plan, loaded) is False
idle = (time.perf_counter() - start) / 200
Path(sys.argv[2]).unlink()
start = time.perf_counter()
assert up.step_dns(plan, loaded) is True
repair = time.perf_counter() - start
print(f"{idle * 1e6:.0f} {repair * 1e3:.0f}")
"""


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


def _unique(domain: str, count: int = 1) -> list[str]:
    """Names no cache has seen (the lab's resolvers answer any name under
    a service name with the service's address)."""
    return [f"t{uuid.uuid4().hex[:10]}.{domain}" for _ in range(count)]


def _ask(
    lab: Lab,
    ns: str,
    server: str,
    names: list[str],
    *,
    timeout: float = 2.0,
    tries: int = 2,
) -> list[dict[str, Any]]:  # fmt: skip
    done = lab.exec(ns, sys.executable, "-c", DNS_BATCH, server, str(timeout),
                    str(tries), *names, timeout=60)  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()]


def _getent(lab: Lab, name: str) -> str:
    done = lab.exec("cgw", "getent", "hosts", name, check=False)
    return done.stdout.split()[0] if done.returncode == 0 else f"exit {done.returncode}"


def _lz_log(lab: Lab, resolver: IPv4Address) -> str:
    path = lab.root / "lz" / "dns" / f"dnsmasq-{resolver}.log"
    return path.read_text(errors="replace")


def _lz_logs(lab: Lab) -> str:
    return "".join(_lz_log(lab, r) for r in lab.addresses.resolvers)


def _services(lab: Lab) -> dict[str, str]:
    return {name: str(address) for name, address in lab.addresses.services.items()}


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
    services = _services(lab)
    # The gateway's own lookups, as getent (glibc, resolv.conf) makes them.
    assert {name: _getent(lab, name) for name in services} == services
    # Any machine on the LAN that uses the gateway's resolver.
    names = [n for name in services for n in _unique(name)]
    replies = _ask(lab, "lan", LAN_RESOLVER, names)
    for reply in replies:
        service = reply["name"].split(".", 1)[1]
        assert (reply["rcode"], reply["a"]) == ("NOERROR", [services[service]])
    # They went through the tunnel, from the LAN address the tunnel carries.
    logs = _lz_logs(lab)
    for name in names:
        assert f"query[A] {name} from {lab.addresses.cgw_lan.ip}" in logs
    print(f"{fwd.resolver.backend}: LAN lookups through the forward, ms:",
          [r["ms"] for r in replies])  # fmt: skip


def test_other_names_keep_their_path_and_never_reach_dvsum(fwd):
    lab = fwd.lab
    others = _unique("example.org", 3)
    ours = _unique("apis.dvsum.ai", 3)
    for ns, server in (("cgw", "127.0.0.1"), ("lan", LAN_RESOLVER)):
        replies = _ask(lab, ns, server, others + ours)
        assert [r["a"] for r in replies] == [[str(PUBLIC["example.org"])]] * 3 + [
            [str(lab.addresses.services["apis.dvsum.ai"])]
        ] * 3
    dvsum, isp = _lz_logs(lab), fwd.isp_log.read_text()
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
    services = _services(lab)
    other = lab.addresses.resolvers[2 - silent]
    before = len(_lz_log(lab, other))
    names = [n for name in services for n in _unique(name, 4)]
    # A stub that waits 1 s and tries 3 times (glibc: options timeout:1
    # attempts:3); glibc's default waits 5 s, twice.
    replies = _ask(lab, "lan", LAN_RESOLVER, names, timeout=1.0, tries=3)
    for reply in replies:
        service = reply["name"].split(".", 1)[1]
        assert (reply["rcode"], reply["a"]) == ("NOERROR", [services[service]])
    assert all(name in _lz_log(lab, other)[before:] for name in names)
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
    done = lab.exec(
        "cgw", sys.executable, "-c", STEP_BENCH, str(lab.config_yaml),
        str(resolver.agent_conf), timeout=60,
    )  # fmt: skip
    idle_us, repair_ms = done.stdout.split()
    print(
        f"{resolver.backend}: step_dns with nothing to do {idle_us} us per call; "
        f"put back a removed edit and reload: {repair_ms} ms"
    )
    assert resolver.starts() == starts + 1
    name = _unique("s3-storage.dvsum.ai")
    (reply,) = _ask(lab, "lan", LAN_RESOLVER, name)
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
    (reply,) = _ask(lab, "lan", LAN_RESOLVER, _unique("socket-api.dvsum.ai"))
    assert reply["a"] == [str(lab.addresses.services["socket-api.dvsum.ai"])]


def test_zz_down_gives_the_configuration_back_byte_for_byte(fwd):
    lab, resolver = fwd.lab, fwd.resolver
    done = agent(lab, "down")
    assert done.returncode == 0, done.stderr
    assert resolver.tree() == fwd.original
    # The resolver read it again: dvsum.ai takes the public path once more.
    (reply,) = _ask(lab, "lan", LAN_RESOLVER, _unique("apis.dvsum.ai"))
    assert reply["a"] == [str(PUBLIC["dvsum.ai"])]
