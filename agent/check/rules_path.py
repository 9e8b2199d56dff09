"""Why packets do not reach DvSum although the tunnel is up: the route, TCP
and the path MTU.

Guide rows covered: 'Tunnel established but traffic not flowing' (missing
route), 'nc -zv times out' (tunnel down, wrong private IP, or routing),
'curl times out (DNS correct)'.  The byte counters of each CHILD_SA, read
before and after the network checks, tell whether packets entered the
tunnel and whether anything came back.
"""

from __future__ import annotations

from typing import Any

from agent.check.result import Item, Result
from agent.check.seen import Diagnosis, Seen, agree, names

GUIDE_ROUTE = "Tunnel established but traffic not flowing"
GUIDE_NC = "nc -zv times out"
UP = "`dvsum-vpn up` puts it back (the supervisor, `dvsum-vpn run`, does so by "
UP += "itself within a second)."


def route(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    kinds = {i.kind for i in roots}
    zone = next((i for i in roots if i.target == str(seen.facts.get("landing_zone"))),
                None)  # fmt: skip
    bypass = [i for i in roots if i.kind == "bypass"]
    exit_hint = f" ({bypass[0].detail})" if bypass else ""
    if zone is not None and zone.kind == "missing":
        return Diagnosis(
            "route",
            f"The tunnel is up but there is no route to {zone.target}"
            f"{exit_hint}: packets for DvSum leave outside the tunnel.",
            f"Add the route: {UP}",
            guide=GUIDE_ROUTE,
        )
    if zone is not None and zone.kind == "foreign":
        return Diagnosis(
            "route",
            f"{zone.detail}: a route dvsum-vpn did not make sends the landing "
            "zone elsewhere.",
            f"Remove it (`ip route del {zone.target}`) and run `dvsum-vpn up`, "
            "or route the landing zone into the tunnel yourself.",
            guide=GUIDE_ROUTE,
        )
    if zone is not None and zone.kind == "wrong_device":
        return Diagnosis("route", f"{zone.detail}.", UP, guide=GUIDE_ROUTE)
    if bypass:
        return Diagnosis(
            "route",
            f"{names(bypass)}: {bypass[0].detail}: a more specific route or a "
            "policy rule takes it away from the tunnel.",
            f"Find it with `ip route get {bypass[0].target}` and remove it.",
            guide=GUIDE_ROUTE,
        )
    if "wrong_source" in kinds:
        item = next(i for i in roots if i.kind == "wrong_source")
        return Diagnosis(
            "route",
            f"{item.detail}: replies to another source address never come back.",
            "Set source_address in config.yaml to this machine's address inside "
            "customer_cidr, then run `dvsum-vpn up`.",
        )
    if "unreachable" in kinds:
        item = next(i for i in roots if i.kind == "unreachable")
        return Diagnosis("route", f"{item.detail}: no route at all.", UP,
                         guide=GUIDE_ROUTE)  # fmt: skip
    if kinds & {"mss_missing", "mss_mismatch", "mss_unknown"}:
        item = next(i for i in roots if i.kind.startswith("mss"))
        return Diagnosis(
            "route",
            f"{item.detail}: TCP from the LAN through this gateway may stall on "
            "large packets.",
            f"Restore the clamp: {UP}",
        )
    item = roots[0]
    return Diagnosis("route", f"{item.detail}.", UP)


def tcp(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    refused = [i for i in roots if i.kind == "refused"]
    timeouts = [i for i in roots if i.kind == "timeout"]
    if refused:
        return Diagnosis(
            "tcp",
            f"{names(refused)} {agree(refused, 'answers', 'answer')} through the "
            "tunnel with a TCP reset: the "
            "path works, but nothing listens on port 443 there: the service is "
            "down on DvSum's side.",
            "Tell DvSum which service refuses connections (send this report); "
            "nothing to change on this machine.",
        )
    if timeouts:
        return Diagnosis("tcp", _timeout_cause(seen, timeouts),
                         "Confirm the private IPs with DvSum (dns.names); "
                         "`dvsum-vpn status` shows the tunnels and the route.",
                         guide=GUIDE_NC)  # fmt: skip
    item = roots[0]
    return Diagnosis(
        "tcp",
        f"{item.detail}: a router on the way has no route to it.",
        "Confirm the private IP with DvSum; they check routing on their side.",
        guide=GUIDE_NC,
    )


def _timeout_cause(seen: Seen, items: list[Item]) -> str:
    cause = f"Connections to {names(items)} time out although the tunnel is up "
    cause += "and routed."
    moved = _moved(seen.facts.get("counters", {}))
    if moved is None:
        return cause + " The tunnel counters could not be read."
    tunnel, out, back = moved
    if out and not back:
        return cause + (
            f" Packets entered {tunnel} ({out} bytes out) and nothing came back: "
            "the private IP may be wrong, or DvSum's side does not route the "
            "customer network back."
        )
    if out and back:
        return cause + (
            f" {tunnel} carried traffic both ways ({out} B out, {back} B in), "
            "but not from these addresses: the private IP is probably wrong."
        )
    return cause + (
        " No tunnel's counters moved: the packets never entered a tunnel "
        "(selectors or policies do not cover these addresses)."
    )


def _moved(counters: dict[str, Any]) -> tuple[str, int, int] | None:
    """The tunnel that sent most during the network checks: (name, out, in)."""
    if not counters:
        return None
    name = max(counters, key=lambda n: counters[n].get("bytes_out", 0))
    got = counters[name]
    return name, int(got.get("bytes_out", 0)), int(got.get("bytes_in", 0))


def mtu(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    item = roots[0]
    size = item.facts.get("mtu")
    largest = item.facts.get("largest")
    if item.kind == "too_big":
        fits = f" (the largest that passed: {largest} bytes)" if largest else ""
        return Diagnosis(
            "mtu",
            f"Packets of the tunnel's full size ({size} bytes, DF set) are lost "
            f"while small ones pass{fits}: the path between here and AWS "
            "carries less than the tunnel needs, and the ICMP 'fragmentation "
            "needed' that would say so does not arrive. Large transfers stall.",
            "Let ICMP type 3 code 4 through the firewalls on the path (both "
            "ways), or get a path that carries 1500-byte packets; send this "
            "report to your network team.",
        )
    if item.kind == "not_permitted":
        return Diagnosis("mtu", item.detail, "Run `dvsum-vpn check` as root.")
    return Diagnosis(
        "mtu",
        f"{item.detail}.",
        "Fix the TCP check's failure first; then run check again.",
        guide=GUIDE_NC,
    )
