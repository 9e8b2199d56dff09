"""DNS probes for the forwarding tests: lookups made from inside a lab
namespace, the landing zone's query logs, and the cost of ``step_dns``.

Every query goes to a lab address or a namespace's loopback.
"""

from __future__ import annotations

import json
import sys
import uuid
from ipaddress import IPv4Address
from typing import Any

from tests.lab.lab import Lab

# Queries as a stub resolver makes them: one socket and one message per
# name, sent again on the same socket after `timeout` seconds, up to
# `tries` times (over TCP: a new connection each try).  Prints one JSON
# object per name.
DNS_BATCH = """\
import json, socket, sys, time
import dns.message, dns.query, dns.rdatatype, dns.exception
server, timeout, tries = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
tcp = sys.argv[4] == "tcp"
for name in sys.argv[5:]:
    query = dns.message.make_query(name, "A")
    start, answer, rcode, attempt = time.monotonic(), [], "TIMEOUT", 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)  # dnspython waits on it with a timeout
        for attempt in range(1, tries + 1):
            try:
                if tcp:
                    reply = dns.query.tcp(query, server, timeout=timeout)
                else:
                    reply = dns.query.udp(query, server, timeout=timeout, sock=sock)
            except (dns.exception.Timeout, OSError):
                continue
            rcode = dns.rcode.to_text(reply.rcode())
            answer = [i.address for r in reply.answer
                      if r.rdtype == dns.rdatatype.A for i in r]
            break
    print(json.dumps({"name": name, "rcode": rcode, "a": answer, "tries": attempt,
                      "ms": round(1000 * (time.monotonic() - start), 1)}))
"""

# step_dns's cost when nothing changed (200 calls), then a repair: the
# command in argv[2:] takes the edit away, step_dns puts it back.
STEP_BENCH = """\
import subprocess, sys, time
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
subprocess.run(sys.argv[2:], check=True)
start = time.perf_counter()
assert up.step_dns(plan, loaded) is True
repair = time.perf_counter() - start
print(f"{idle * 1e6:.0f} {repair * 1e3:.0f}")
"""


def unique(domain: str, count: int = 1) -> list[str]:
    """Names no cache has seen (the lab's resolvers answer any name under
    a service name with the service's address)."""
    return [f"t{uuid.uuid4().hex[:10]}.{domain}" for _ in range(count)]


def ask(
    lab: Lab,
    ns: str,
    server: str,
    names: list[str],
    *,
    timeout: float = 3.0,
    tries: int = 2,
    proto: str = "udp",
) -> list[dict[str, Any]]:
    done = lab.exec(ns, sys.executable, "-c", DNS_BATCH, server, str(timeout),
                    str(tries), proto, *names, timeout=120)  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()]


def getent(lab: Lab, ns: str, name: str) -> str:
    """NAME's address as glibc finds it in ns (hosts file, then DNS)."""
    done = lab.exec(ns, "getent", "hosts", name, check=False)
    return done.stdout.split()[0] if done.returncode == 0 else f"exit {done.returncode}"


def lz_log(lab: Lab, resolver: IPv4Address) -> str:
    """Every query DvSum's resolver at RESOLVER got (dnsmasq --log-queries)."""
    path = lab.root / "lz" / "dns" / f"dnsmasq-{resolver}.log"
    return path.read_text(errors="replace")


def lz_logs(lab: Lab) -> str:
    return "".join(lz_log(lab, r) for r in lab.addresses.resolvers)


def step_bench(lab: Lab, remove: list[str]) -> tuple[str, str]:
    """(µs per step_dns with nothing to do, ms to put back a removed edit)."""
    done = lab.exec("cgw", sys.executable, "-c", STEP_BENCH, str(lab.config_yaml),
                    *remove, timeout=120)  # fmt: skip
    idle_us, repair_ms = done.stdout.split()
    return idle_us, repair_ms


def answers(replies: list[dict[str, Any]], services: dict[str, str]) -> list[str]:
    """Each reply that is not NOERROR with exactly its service's address."""
    wrong = []
    for reply in replies:
        service = reply["name"].split(".", 1)[1]
        if (reply["rcode"], reply["a"]) != ("NOERROR", [services[service]]):
            wrong.append(json.dumps(reply))
    return wrong


def services(lab: Lab) -> dict[str, str]:
    """Service name -> its private address in the landing zone."""
    return {name: str(address) for name, address in lab.addresses.services.items()}
