"""The agent's own nftables table: MSS clamping and the leak guard.

A SYN in either direction through the tunnel device gets its MSS lowered
to what the tunnel carries.  Traffic to the landing zone that would leave
by any other device (the tunnel device gone while charon restarts, the
route deleted, a more specific route someone added) is refused instead of
going out in clear over the internet.  Each rule carries a comment, so the
apply step can tell its own rules apart and notice one that was deleted.
"""

from __future__ import annotations

from agent.plan import Plan

FAMILY = "inet"
TABLE = "dvsum_vpn"
CHAIN = "forward_mss"
GUARDS = (("forward", "forward_guard"), ("output", "output_guard"))


def mss_comments(plan: Plan) -> tuple[str, ...]:
    return tuple(
        f"dvsum-vpn mss {plan.mss} {direction} {device}"
        for device in plan.mss_devices
        for direction in ("out", "in")
    )


def guard_comment(plan: Plan, hook: str) -> str:
    return f"dvsum-vpn guard {hook} {plan.route.destination}"


def rule_comments(plan: Plan) -> tuple[str, ...]:
    """Every rule's comment, in the order the table lists them."""
    guards = tuple(guard_comment(plan, hook) for hook, _ in GUARDS)
    return mss_comments(plan) + guards


def render(plan: Plan) -> str:
    """The whole table, as an nft script that replaces it atomically."""
    mss = plan.mss
    rules = []
    for comment in mss_comments(plan):
        _, _, _, direction, device = comment.split()
        match = "oifname" if direction == "out" else "iifname"
        rules.append(
            f'        {match} "{device}" tcp flags & (syn | rst) == syn '
            f"tcp option maxseg size > {mss} tcp option maxseg size set {mss} "
            f'comment "{comment}"'
        )
    devices = ", ".join(f'"{d}"' for d in plan.mss_devices)
    guards = []
    for hook, chain in GUARDS:
        guards += [
            f"    chain {chain} {{",
            f"        type filter hook {hook} priority filter; policy accept;",
            f"        ip daddr {plan.route.destination} oifname != {{ {devices} }} "
            f'reject with icmpx admin-prohibited comment "{guard_comment(plan, hook)}"',
            "    }",
        ]
    return "\n".join(
        [
            f"table {FAMILY} {TABLE} {{",
            f'    comment "dvsum-vpn: MSS clamping and leak guard for '
            f'{plan.route.destination}"',
            f"    chain {CHAIN} {{",
            "        type filter hook forward priority mangle; policy accept;",
            *rules,
            "    }",
            *guards,
            "}",
            "",
        ]
    )
