"""MSS clamping for forwarded traffic: the agent's own nftables table.

A SYN in either direction through the tunnel device gets its MSS lowered
to what the tunnel carries.  Each rule carries a comment, so the apply step
can tell its own rules apart and notice one that was deleted.
"""

from __future__ import annotations

from agent.plan import Plan

FAMILY = "inet"
TABLE = "dvsum_vpn"
CHAIN = "forward_mss"


def rule_comments(plan: Plan) -> tuple[str, ...]:
    return tuple(
        f"dvsum-vpn mss {plan.mss} {direction} {device}"
        for device in plan.mss_devices
        for direction in ("out", "in")
    )


def render(plan: Plan) -> str:
    """The whole table, as an nft script that replaces it atomically."""
    mss = plan.mss
    rules = []
    for comment in rule_comments(plan):
        _, _, _, direction, device = comment.split()
        match = "oifname" if direction == "out" else "iifname"
        rules.append(
            f'        {match} "{device}" tcp flags & (syn | rst) == syn '
            f"tcp option maxseg size > {mss} tcp option maxseg size set {mss} "
            f'comment "{comment}"'
        )
    return "\n".join(
        [
            f"table {FAMILY} {TABLE} {{",
            f'    comment "dvsum-vpn: MSS clamping towards {plan.route.destination}"',
            f"    chain {CHAIN} {{",
            "        type filter hook forward priority mangle; policy accept;",
            *rules,
            "    }",
            "}",
            "",
        ]
    )
