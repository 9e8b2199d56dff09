"""Why a service name, its certificate, health check or WebSocket fails.

Guide rows covered: 'DNS returns public IP', 'curl returns TLS
certificate error' (DNS returning a public IP), 'curl times out (DNS
correct)', 'WebSocket returns timeout (not 403)'.
"""

from __future__ import annotations

from agent.check.result import Item, Result
from agent.check.seen import Diagnosis, Seen, agree, names

GUIDE_DNS = "DNS returns public IP"
GUIDE_TLS = "curl returns TLS certificate error"
GUIDE_CURL = "curl times out (DNS correct)"
GUIDE_WS = "WebSocket returns timeout (not 403)"
CERT = {"name_mismatch", "untrusted", "expired", "cert_invalid"}


def dns(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    system = [i for i in roots if i.facts.get("via") == "system"]
    if not system:
        return _resolvers(roots)
    item = system[0]
    why, fix = _why_not_private(item)
    if item.kind in ("public", "unresolved"):
        said = (
            agree(system, "resolves to a public address", "resolve to public addresses")
            if item.kind == "public"
            else agree(system, "does not resolve", "do not resolve")
        )
        seen_as = ", ".join(f"{i.target} -> {i.facts.get('address', 'nothing')}"
                            for i in system)  # fmt: skip
        return Diagnosis(
            "dns",
            f"{names(system)} {said} ({seen_as}): {why}",
            fix,
            guide=GUIDE_DNS,
        )
    if item.kind in ("outside_zone", "mismatch"):
        return Diagnosis("dns", f"{item.detail}: {why}", fix, guide=GUIDE_DNS)
    return Diagnosis(
        "dns",
        f"{item.detail}: the DNS servers in /etc/resolv.conf do not answer.",
        "Check /etc/resolv.conf, or use the hosts block (dns.mode: hosts) "
        "and run `dvsum-vpn up`.",
    )


def _why_not_private(item: Item) -> tuple[str, str]:
    facts = item.facts
    hosts_file = facts.get("hosts_file")
    mode = facts.get("mode")
    up = "Run `dvsum-vpn up`: it writes the block with the addresses in dns.names."
    if facts.get("shadowed_by"):
        return (
            f"a line before the agent's block in {hosts_file} maps it to "
            f"{facts['shadowed_by']}, and the first line wins.",
            f"Remove that line from {hosts_file}.",
        )
    if mode == "hosts" and not facts.get("hosts_block"):
        return (f"the agent's block is missing from {hosts_file}.", up)
    if mode == "hosts" and facts.get("block_address") not in (
        None,
        facts.get("address"),
    ):
        return (
            f"{hosts_file} maps it to {facts.get('block_address')}, but the "
            "system resolver does not read the hosts file first.",
            "Put `files` before `dns` on the hosts line of /etc/nsswitch.conf.",
        )
    if mode == "hosts" and facts.get("expected") not in (None, facts.get("address")):
        return (
            f"the hosts block says {facts.get('block_address')}, DvSum gave "
            f"{facts.get('expected')}.",
            up,
        )
    if mode == "forward":
        return (
            "forwarding of dvsum.ai to DvSum's resolvers is not in effect.",
            "Run `dvsum-vpn up` (it configures the forward) and check the "
            "local resolver's configuration.",
        )
    return (
        "nothing on this machine points the names at DvSum's private "
        "addresses (dns.mode is none).",
        "Add the names to /etc/hosts or set dns.mode to hosts (or forward) "
        "in config.yaml and run `dvsum-vpn up`.",
    )


def _resolvers(items: list[Item]) -> Diagnosis:
    silent = [i for i in items if i.kind == "resolver_timeout"]
    if silent:
        resolvers = sorted({str(i.facts.get("resolver")) for i in silent})
        return Diagnosis(
            "dns",
            f"DvSum's resolver {' and '.join(resolvers)} does not answer "
            "through the tunnel.",
            f"Allow UDP and TCP 53 to {' and '.join(resolvers)}; confirm the "
            "resolver IPs with DvSum.",
        )
    item = items[0]
    return Diagnosis("dns", f"{item.detail}.",
                     "Confirm the resolver IPs with DvSum.")  # fmt: skip


def tls(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    cert = [i for i in roots if i.kind in CERT]
    stalls = [i for i in roots if i.kind == "handshake_timeout"]
    if cert:
        item = cert[0]
        return Diagnosis(
            "tls",
            f"{item.detail}, although {item.facts.get('name')} resolves to "
            "DvSum's private address: something between here and DvSum answers "
            "in its place (a TLS-inspecting proxy), or the CA store lacks the "
            "CA that signed it.",
            "Exempt dvsum.ai from TLS inspection, or give check the CA bundle "
            "DvSum uses (--ca-file).",
            guide=GUIDE_TLS,
        )
    if stalls:
        return Diagnosis(
            "tls",
            f"{names(stalls)}: TCP connects but the handshake stalls: the "
            "server's certificate (its largest packets) does not arrive.",
            "Check the path MTU: let ICMP 'fragmentation needed' through.",
        )
    if any(i.kind == "ca_file" for i in roots):
        item = next(i for i in roots if i.kind == "ca_file")
        return Diagnosis("tls", item.detail, "Give a readable PEM bundle.")
    item = roots[0]
    return Diagnosis("tls", f"{item.detail}.",
                     "Run check again; send this report to DvSum if it stays.",
                     guide=GUIDE_CURL)  # fmt: skip


def https(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    item = roots[0]
    if item.kind == "status":
        return Diagnosis(
            "https",
            f"{item.detail}: the service is unhealthy on DvSum's side.",
            "Send this report to DvSum.",
        )
    if item.kind == "not_privatelink":
        return Diagnosis(
            "https",
            f"{item.detail}: the service says it was not reached through the "
            "private link.",
            "Check DNS: the name must resolve to DvSum's private address.",
            guide=GUIDE_DNS,
        )
    if item.kind == "body":
        return Diagnosis("https", f"{item.detail}: not the answer the guide shows.",
                         "Send this report to DvSum.")  # fmt: skip
    return Diagnosis(
        "https",
        f"{names(roots)}: {item.detail}: DNS, TCP and TLS pass, but the "
        "request gets no answer.",
        "Check the tunnel and route (`dvsum-vpn status`); send this report to DvSum.",
        guide=GUIDE_CURL,
    )


def websocket(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    item = roots[0]
    name = item.facts.get("name")
    path_ok = all(
        not seen.failed(check) for check in ("tcp", "tls", "https")
    )  # fmt: skip
    works = (
        f"TCP, TLS and HTTPS to {name} pass, so the tunnel, route and DNS work: "
        if path_ok
        else ""
    )
    if item.kind == "closed":
        return Diagnosis(
            "websocket",
            f"{item.detail}: {works}the WebSocket endpoint itself refuses the upgrade.",
            "Tell DvSum that the WebSocket endpoint refuses upgrades (send "
            "this report).",
        )
    if item.kind == "server_error":
        return Diagnosis(
            "websocket",
            f"{item.detail}: {works}the WebSocket service behind the endpoint is down.",
            "Tell DvSum (send this report).",
        )
    if item.kind in ("not_found", "unexpected_status"):
        return Diagnosis(
            "websocket",
            f"{item.detail}: the server does not serve WebSocket upgrades there.",
            "Tell DvSum (send this report).",
        )
    return Diagnosis(
        "websocket",
        f"{item.detail}: the network path to the WebSocket endpoint does not "
        "work (a timeout is a network issue, not an authentication one).",
        "Run the TCP test first: fix the tunnel and DNS before the WebSocket.",
        guide=GUIDE_WS,
    )
