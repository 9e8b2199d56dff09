"""Why a tunnel is not up, from charon's answers: one sentence per cause.

Rows of the guide's troubleshooting table (and the README's) these cover:
IKE phase 1 fails with no response; AUTHENTICATION_FAILED; charon running
without the agent's settings; no ipsec0 device; IKE stays CONNECTING.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from agent.check.result import Item, Result
from agent.check.seen import Diagnosis, Seen, names

GUIDE_NO_RESPONSE = "IKE phase 1 fails — no response"
GUIDE_AUTH = "AUTHENTICATION_FAILED"
PRIVATE = tuple(
    IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


def tunnels(seen: Seen, result: Result, roots: list[Item]) -> Diagnosis:
    by_kind: dict[str, list[Item]] = {}
    for item in roots:
        by_kind.setdefault(item.kind, []).append(item)
    # The most telling kind leads; the others are added to it.
    parts = [_one(seen, kind, by_kind[kind]) for kind in _ranked(by_kind)]
    cause = " ".join(p[0] for p in parts)
    fix = " ".join(p[1] for p in parts)
    up = [i for i in result.items if i.ok]
    if up and len(up) < len(result.items):
        carrying = next((i.target for i in up if i.facts.get("active")), up[0].target)
        cause += f" Traffic still flows on {carrying}, without redundancy."
    guide = next((p[2] for p in parts if p[2]), None)
    return Diagnosis("tunnels", cause, fix, guide=guide)


RANK = ("charon_down", "not_permitted", "charon_settings", "not_loaded",
        "no_psk", "auth_failed", "no_proposal", "ts_unacceptable",
        "peer_refused", "no_response", "incomplete", "no_child", "came_up",
        "down", "failed")  # fmt: skip


def _ranked(by_kind: dict[str, list[Item]]) -> list[str]:
    return sorted(by_kind, key=lambda k: RANK.index(k) if k in RANK else len(RANK))


def _where(items: list[Item]) -> str:
    shown = [
        f"{i.target} ({i.facts.get('aws_outside_address')})"
        if i.facts.get("aws_outside_address") else i.target
        for i in items
    ]  # fmt: skip
    return shown[0] if len(shown) == 1 else " and ".join(shown)


def _addresses(items: list[Item]) -> str:
    return " and ".join(str(i.facts.get("aws_outside_address")) for i in items)


def _one(seen: Seen, kind: str, items: list[Item]) -> tuple[str, str, str | None]:
    """(cause, fix, guide row) for the items of one kind."""
    where = _where(items)
    if kind == "charon_down":
        return (
            f"charon (strongSwan) does not answer: {items[0].detail}.",
            "Start strongSwan (systemctl start strongswan), then run `dvsum-vpn up`.",
            None,
        )
    if kind == "not_permitted":
        return ("Not allowed to talk to charon.", "Run `dvsum-vpn check` as root.",
                None)  # fmt: skip
    if kind == "charon_settings":
        detail = items[0].detail
        if "ipsec0" in detail:
            return (
                f"{detail}.",
                "Install libcharon-extra-plugins (kernel-libipsec) and restart "
                "strongSwan (systemctl restart strongswan), then `dvsum-vpn up`.",
                "up exits 3: no ipsec0 device",
            )
        return (
            f"{detail}.",
            "Restart strongSwan once (systemctl restart strongswan) so it "
            "reads the agent's drop-in, then `dvsum-vpn up`.",
            "up exits 3: charon runs without dvsum-vpn's settings",
        )
    if kind == "not_loaded":
        return (
            f"charon does not know {names(items)}: it was restarted after "
            "`dvsum-vpn up`, or `up` never ran.",
            "Run `dvsum-vpn up` (the supervisor does it by itself after a "
            "charon restart).",
            None,
        )
    if kind == "no_psk":
        return (
            f"charon has no pre-shared key for {where}.",
            "Import the keys (`dvsum-vpn import FILE --psk-file F`), then "
            "`dvsum-vpn up`.",
            None,
        )
    if kind == "auth_failed":
        return (_auth_cause(seen, items), _auth_fix(items), GUIDE_AUTH)
    if kind == "no_proposal":
        return (
            f"AWS accepted none of our proposals on {where} "
            "(NO_PROPOSAL_CHOSEN): the tunnel's algorithms at AWS are not "
            "the ones we offer (DvSum: IKEv2, AES-128, SHA-1, DH group 14).",
            "Ask DvSum for the tunnel options, or import the JSON of "
            "`aws ec2 describe-vpn-connections` so the agent follows the "
            "tunnel's real algorithm lists; then `dvsum-vpn up`.",
            None,
        )
    if kind == "ts_unacceptable":
        cidr = seen.facts.get("customer_cidr")
        zone = seen.facts.get("landing_zone")
        return (
            f"AWS refused our traffic selectors ({cidr} <-> {zone}) on "
            f"{where} (TS_UNACCEPTABLE).",
            "customer_cidr in config.yaml must be the network you gave DvSum; "
            "fix it and run `dvsum-vpn up`.",
            None,
        )
    if kind == "peer_refused":
        line = items[0].facts.get("attempt_line", "")
        return (
            f"AWS refused {where}: charon says '{line}'.",
            "Send this report to DvSum.",
            None,
        )
    if kind == "no_response":
        return (
            f"{where}: our IKE_SA_INIT got no answer from "
            f"{_addresses(items)}: UDP 500 and 4500 are blocked between this "
            "machine and AWS, or the AWS endpoint is down.",
            f"Allow UDP 500 and 4500 outbound to {_addresses(items)} and their "
            "replies inbound on every firewall on the way (ESP too if NAT-T "
            "is off); then `dvsum-vpn up`. If they are open, ask DvSum "
            "whether the endpoint is being replaced.",
            GUIDE_NO_RESPONSE,
        )
    if kind == "incomplete":
        return (
            f"{where}: AWS answered IKE_SA_INIT but not IKE_AUTH: the "
            "larger IKE_AUTH packets (or their fragments) are dropped on the "
            "way, or AWS does not know our identity.",
            "Allow UDP 4500 and IP fragments both ways; confirm the customer "
            "outside address in the AWS file is your static public IP.",
            GUIDE_NO_RESPONSE,
        )
    if kind == "no_child":
        return (
            f"{where}: IKE is up but no CHILD_SA is installed, so nothing is "
            "encrypted.",
            "Run `dvsum-vpn up`; if the CHILD_SA still fails, send this "
            "report to DvSum.",
            None,
        )
    if kind == "came_up":
        return (
            f"{where} was down and came up only when check initiated it: "
            "nothing was bringing it back.",
            "Run the supervisor (systemctl enable --now dvsum-vpn), which "
            "re-initiates a dead tunnel; charon's log says why it went down.",
            None,
        )
    if kind == "down":
        return (
            f"{where} is down (check did not initiate it: --no-initiate).",
            "Run `dvsum-vpn up`, or check without --no-initiate to see why.",
            None,
        )
    line = items[0].facts.get("attempt_line") or items[0].detail
    return (f"{where}: initiating failed: {line}.",
            "See charon's log (journalctl -u strongswan).", None)  # fmt: skip


def _auth_cause(seen: Seen, items: list[Item]) -> str:
    local_id = str(items[0].facts.get("local_id"))
    cause = (
        f"AWS refused our authentication on {_where(items)} "
        "(AUTHENTICATION_FAILED): the pre-shared key is wrong, or AWS expects "
        f"another identity than the one we send ({local_id})."
    )
    nat = any(i.facts.get("behind_nat") for i in items)
    if nat and _private(local_id):
        cause += (
            f" This machine is behind NAT and identifies as {local_id}, a "
            "private address: AWS knows the customer gateway by its public "
            "address."
        )
    elif nat:
        cause += (
            f" This machine is behind NAT; {local_id} must be the static "
            "public address DvSum registered."
        )
    if len(items) == 1 and any(
        i.ok for i in seen.items("tunnels") if i.target.startswith("dvsum-tunnel")
    ):
        cause += " The other tunnel authenticates with the same identity, so "
        cause += "the key of this one is the likely culprit."
    return cause


def _auth_fix(items: list[Item]) -> str:
    return (
        f"Compare the key for {_addresses(items)} in the PSK file with the one "
        "DvSum sent; import it again (`dvsum-vpn import FILE --psk-file F`) "
        "and run `dvsum-vpn up`. The customer outside address in the AWS file "
        "must be your static public IP."
    )


def _private(text: str) -> bool:
    try:
        address = IPv4Address(text)
    except ValueError:
        return False
    return any(address in net for net in PRIVATE)
