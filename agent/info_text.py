"""``dvsum-vpn info`` for people: the guide's questionnaire, filled in."""

from __future__ import annotations

from agent.info import Fact, Info

_ROWS = (
    ("VPN routing mode", "routing"),
    ("BGP ASN", "bgp_asn"),
    ("Customer network CIDR", "customer_cidr"),
    ("VPN device vendor", "device_vendor"),
    ("VPN device platform", "device_platform"),
    ("VPN device software version", "software_version"),
    ("Static public IP of VPN device", "public_address"),
    ("Machine IP running DvSum gateway agent", "gateway_agent_address"),
)


def format_text(info: Info) -> str:
    """The guide's "Information DvSum Requires from You", filled in."""
    width = max(len(label) for label, _ in _ROWS)
    lines = ["What DvSum asks you to send before setup:", ""]
    for label, name in _ROWS:
        fact: Fact = getattr(info, name)
        value = "-" if fact.value is None else str(fact.public())
        lines.append(f"  {label:<{width}}  {value}  ({fact.source})")
    lines += ["", "This machine:"]
    outside = info.outside_address
    nat = info.behind_nat
    if outside.value is None:
        lines.append("  outside address   unknown")
    else:
        behind = {True: "behind NAT", False: "not behind NAT"}[bool(nat.value)]
        lines.append(
            f"  outside address   {outside.value}, {behind} ({outside.source})"
        )
    identity = info.ike_identity
    if identity.value is not None:
        lines.append(f"  IKE identity      {identity.value} ({identity.source})")
    if info.operating_system.value:
        lines.append(f"  operating system  {info.operating_system.value}")
    if info.missing:
        lines += ["", "Missing:"] + [f"  - {item}" for item in info.missing]
    if info.notes:
        lines += ["", "Notes:"] + [f"  - {item}" for item in info.notes]
    return "\n".join(lines)
