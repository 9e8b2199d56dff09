"""The strongswan.d drop-in: charon settings the agent depends on.

charon reads strongswan.conf when it starts.  ``swanctl --reload-settings``
(VICI ``reload-settings``, which ``up`` sends) re-reads it, but only values
looked up afresh take effect: the retransmission schedule applies to every
IKE_SA created afterwards; plugin loading and the kernel-netlink routing
rule only change when charon restarts.
"""

from __future__ import annotations

from agent.files_header import header

# Marks the rule charon adds for its routing table 220.  No packet carries
# it, so the rule matches nothing and the agent's own route decides; see
# shared/notes/lab-facts.md, "Routes with kernel-libipsec".
FWMARK = "0x2200"

# The retransmission schedule DPD runs on: a probe after 10 s of silence,
# then 2 retransmits 10 s apart, and the peer is declared dead 30 s after
# the first probe (DvSum's 10 s x 3), instead of charon's ~165 s default.
RETRANSMIT_TRIES = 2
RETRANSMIT_TIMEOUT = 10
RETRANSMIT_BASE = 1

# Settings that only a charon restart applies, as dotted strongswan.conf keys.
RESTART_KEYS = (
    "charon.install_routes",
    "charon.plugins.kernel-netlink.fwmark",
    "charon.plugins.kernel-libipsec.load",
)


def render(libipsec: bool) -> str:
    """The drop-in; ``libipsec`` loads kernel-libipsec (no kernel ESP)."""
    lines = [
        header("dvsum-vpn up"),
        "# (reload): applied by `swanctl --reload-settings` to new IKE_SAs.",
        "# (restart): applied when charon restarts.",
        "charon {",
        "    # (reload) DPD gives up 30 s after its first unanswered probe.",
        f"    retransmit_tries = {RETRANSMIT_TRIES}",
        f"    retransmit_timeout = {RETRANSMIT_TIMEOUT}",
        f"    retransmit_base = {RETRANSMIT_BASE}",
        "    # (restart) dvsum-vpn owns the route to the landing zone.",
        "    install_routes = no",
        "    plugins {",
        "        kernel-netlink {",
        "            # (restart) charon's table-220 rule matches no packet.",
        f"            fwmark = {FWMARK}",
        "        }",
    ]
    lines += [
        "        kernel-libipsec {",
        "            # (restart) ESP in userspace: this kernel has none."
        if libipsec
        else "            # (restart) the kernel does ESP.",
        f"            load = {'yes' if libipsec else 'no'}",
        "        }",
    ]
    lines += ["    }", "}", ""]
    return "\n".join(lines)
