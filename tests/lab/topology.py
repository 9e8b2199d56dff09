"""The lab's namespaces, links, addresses, routes and the customer's NAT.

    lan ── cgw ── nat ── inet ─┬─ aws1 ── lz
                               └─ aws2 ── lz

Every veth pair is created directly inside its two namespaces, so nothing
ever appears in the host's own namespace, and nothing is routed out of the
lab: `inet` has no default route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tests.lab import netns
from tests.lab.addresses import NAMESPACES, Addresses
from tests.lab.commands import LabError, ip_batch, run

LOG = logging.getLogger(__name__)

# (namespace, interface, namespace, interface) for each veth pair.
LINKS = (
    ("lan", "eth0", "cgw", "lan0"),
    ("cgw", "wan0", "nat", "in0"),
    ("nat", "out0", "inet", "nat0"),
    ("inet", "aws1", "aws1", "out0"),
    ("inet", "aws2", "aws2", "out0"),
    ("aws1", "lz0", "lz", "aws1"),
    ("aws2", "lz0", "lz", "aws2"),
)
# This kernel has no dummy interfaces: the landing zone's service and
# resolver addresses sit on its loopback, which serves the same purpose.
SERVICE_DEVICE = "lo"
FORWARDING = ("cgw", "nat", "inet", "aws1", "aws2")

# The customer's NAT router: masquerade the gateway behind its public
# address and let nothing in that the inside did not start.
NAT_RULES = """\
table ip lab_nat {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "out0" ip saddr {inside} masquerade
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "in0" oifname "out0" accept
    }}
}}
"""


def build(ns: Callable[[str], str], addr: Addresses) -> None:
    """Create every namespace and wire them (no daemons yet)."""
    for name in NAMESPACES:
        netns.create(ns(name))
    for ns_a, if_a, ns_b, if_b in LINKS:
        netns.veth(ns(ns_a), if_a, ns(ns_b), if_b)
    for name in FORWARDING:
        netns.sysctl(ns(name), "net.ipv4.ip_forward", "1")
    _addresses(ns, addr)
    run(
        ["ip", "netns", "exec", ns("nat"), "nft", "-f", "-"],
        input_text=NAT_RULES.format(inside=addr.nat_inside.network),
    )


def _addresses(ns: Callable[[str], str], addr: Addresses) -> None:
    t1, t2 = addr.tunnels
    ip_batch(
        ns("lan"),
        [
            f"addr add {addr.lan_host} dev eth0",
            f"route add default via {addr.cgw_lan.ip}",
        ],
    )
    ip_batch(
        ns("cgw"),
        [
            f"addr add {addr.cgw_lan} dev lan0",
            f"addr add {addr.cgw_wan} dev wan0",
            f"route add default via {addr.nat_inside.ip}",
        ],
    )
    ip_batch(
        ns("nat"),
        [
            f"addr add {addr.nat_inside} dev in0",
            f"addr add {addr.nat_outside} dev out0",
            f"route add default via {addr.inet_to_nat.ip}",
        ],
    )
    ip_batch(
        ns("inet"),
        [
            f"addr add {addr.inet_to_nat} dev nat0",
            f"addr add {t1.inet_side} dev aws1",
            f"addr add {t2.inet_side} dev aws2",
        ],
    )
    for tunnel in addr.tunnels:
        ip_batch(
            ns(tunnel.ns),
            [
                f"addr add {tunnel.outside_cidr} dev out0",
                f"addr add {tunnel.lz_link} dev lz0",
                f"addr add {tunnel.vpc_address}/32 dev lo",
                f"route add default via {tunnel.gateway}",
                f"route add {addr.landing_zone} via {tunnel.lz_peer.ip}",
            ],
        )
    lz = [
        f"addr add {t1.lz_peer} dev aws1",
        f"addr add {t2.lz_peer} dev aws2",
    ]
    lz += [f"addr add {a}/32 dev {SERVICE_DEVICE}" for a in addr.services.values()]
    lz += [f"addr add {a}/32 dev {SERVICE_DEVICE}" for a in addr.resolvers]
    ip_batch(ns("lz"), lz)


def route_customer_into_tunnel(ns: str, addr: Addresses) -> None:
    """On an AWS peer: the customer CIDR goes into its own ipsec0.

    charon's table-220 rule carries a fwmark nothing has, so this route in
    the main table is what sends replies into the tunnel.
    """
    ip_batch(
        ns,
        [
            "link set ipsec0 up",
            f"route replace {addr.customer_cidr} dev ipsec0",
        ],
    )


def set_return_tunnel(ns: Callable[[str], str], addr: Addresses, number: int) -> None:
    """The landing zone returns customer traffic through tunnel `number`."""
    tunnel = addr.tunnel(number)
    run(
        [
            "ip", "-n", ns("lz"), "route", "replace",
            str(addr.customer_cidr), "via", str(tunnel.lz_link.ip),
        ]
    )  # fmt: skip
    LOG.info("landing zone returns through tunnel %d (%s)", number, tunnel.ns)


def return_tunnel(ns: Callable[[str], str], addr: Addresses) -> int | None:
    """Which tunnel the landing zone returns through now (None: no route)."""
    done = run(
        ["ip", "-n", ns("lz"), "route", "show", str(addr.customer_cidr)],
        check=False,
    )
    for tunnel in addr.tunnels:
        if f"via {tunnel.lz_link.ip} " in done.stdout + " ":
            return tunnel.number
    if done.stdout.strip():
        raise LabError(f"unexpected return route in lz: {done.stdout.strip()}")
    return None
