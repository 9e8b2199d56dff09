"""Probes that tests run inside lab namespaces: HTTPS, DNS, counters.

Each probe runs a real client (curl, dnspython) inside a lab namespace and
targets only lab addresses.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.lab.commands import ns_argv
from tests.lab.lab import Lab

LOG = logging.getLogger(__name__)

CURL_TIMEOUT = 10

# dnspython in the namespace: prints the rcode and the A records, as JSON.
DNS_QUERY = """\
import json, sys
import dns.message, dns.query, dns.rdatatype
query = dns.message.make_query(sys.argv[2], "A")
reply = dns.query.udp(query, sys.argv[1], timeout=3)
addresses = [
    item.address
    for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A
    for item in rrset
]
print(json.dumps({"rcode": dns.rcode.to_text(reply.rcode()), "a": addresses}))
"""


@dataclass(frozen=True)
class HttpReply:
    status: int
    content_type: str
    body: str


def https_get(
    lab: Lab,
    ns: str,
    name: str,
    path: str = "/health-check",
    *,
    headers: tuple[str, ...] = (),
    resolve: bool = True,
) -> HttpReply:
    """GET https://NAME/PATH from namespace ns, trusting only the lab CA.

    resolve: pin NAME to its lab address (curl --resolve); False leaves the
    lookup to the namespace (its hosts file).
    """
    argv = [
        "curl", "-sS", "--max-time", str(CURL_TIMEOUT),
        "--cacert", str(lab.ca_pem),
        "-o", "-", "-w", "\n%{http_code} %{content_type}",
    ]  # fmt: skip
    if resolve:
        argv += ["--resolve", f"{name}:443:{lab.addresses.services[name]}"]
    for header in headers:
        argv += ["-H", header]
    argv.append(f"https://{name}{path}")
    done = lab.exec(ns, *argv, timeout=CURL_TIMEOUT + 5)
    body, _, tail = done.stdout.rpartition("\n")
    status, _, content_type = tail.partition(" ")
    return HttpReply(status=int(status), content_type=content_type, body=body)


def websocket_upgrade(lab: Lab, ns: str, name: str, path: str) -> HttpReply:
    """A WebSocket upgrade request (curl speaks HTTP/1.1 with the headers)."""
    return https_get(
        lab,
        ns,
        name,
        path,
        headers=(
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ),
    )


def dns_query(lab: Lab, ns: str, server: str, name: str) -> dict[str, Any]:
    """Ask `server` for NAME's A records from ns: {"rcode": .., "a": [..]}."""
    done = lab.exec(ns, sys.executable, "-c", DNS_QUERY, server, name)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def tx_packets(lab: Lab, ns: str, device: str) -> int:
    """Packets sent so far by device in lab namespace ns."""
    done = subprocess.run(
        ["ip", "-n", lab.ns(ns), "-s", "-j", "link", "show", device],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(done.stdout)[0]["stats64"]["tx"]["packets"])


def capture(lab: Lab, ns: str, device: str, action: Callable[[], object]) -> list[str]:
    """tcpdump's one-line summaries of device's packets while action runs."""
    argv = ns_argv(lab.ns(ns), ["tcpdump", "-n", "-l", "-i", device, "-c", "500", "ip"])
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stderr is not None
            # tcpdump says "listening on ..." once it captures.
            proc.stderr.readline()
            action()
            time.sleep(0.2)
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=5)
    return out.splitlines()


def child_sas(lab: Lab, number: int) -> list[dict[str, Any]]:
    """AWS endpoint `number`'s CHILD_SAs (from list-sas), flattened."""
    return [
        child
        for sa in lab.aws_sas(number)
        for ike in sa.values()
        for child in ike.get("child-sas", {}).values()
    ]
