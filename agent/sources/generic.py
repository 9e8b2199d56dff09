"""AWS's "Generic / Vendor Agnostic" text download -> RAW.

Each "IPSec Tunnel #N" block has numbered sections ("#1: Internet Key
Exchange Configuration", "#2: IPSec Configuration", "#3: Tunnel Interface
Configuration", "#4: Static Routing Configuration" or "#4: Border Gateway
Protocol (BGP) Configuration").  The same label ("Lifetime", "Customer
Gateway") means different things in different sections, so fields are read
per section, from ``- Label : value`` lines.  Tabs, trailing blanks and
doubled spaces inside labels are normal.

Every wording era reads the same way: the oldest ("VPN Gateway" labels,
``Customer Gateway:        :``, a BGP section even for static connections,
left empty), files without an ``IKE version`` line (IKEv1, the DH group
printed as "Perfect Forward Secrecy" in the IKE section), the 2019 wording
("IPsec", unindented ``- `` lines) and the current one.
"""

from __future__ import annotations

import re

from agent.sources.raw import (
    NUMBER_KEYS,
    LineTracker,
    Raw,
    RawTunnel,
    is_placeholder,
    label,
    new_raw,
    number,
    open_tunnel,
    put_inside,
)

_TUNNEL = re.compile(r"\s*IPSec Tunnel #\d+\s*", re.I)
_SECTION = re.compile(r"\s*#\d+:\s*(?P<title>.*)")
_FIELD = re.compile(r"\s*-\s*(?P<label>[^:]+?)\s*:\s*(?P<value>.*?)\s*")
_HEADER_FIELD = re.compile(r"\s*(?P<label>[^:]+?)\s*:\s*(?P<value>.*?)\s*")
_ADDRESSES = re.compile(
    r"\s*(?P<side>outside|inside)\s+ip(?:v[46])?\s+addresses\b.*", re.I
)
_END = re.compile(r"\s*Additional Notes and Questions\s*", re.I)
# The oldest files print "- Customer Gateway:        : 203.0.113.25".
_VALUE_START = re.compile(r"^[:\s]+")

# Section title words -> section name.
_SECTIONS = (
    ("internet key exchange", "ike"),
    ("ipsec configuration", "ipsec"),
    ("tunnel interface", "interface"),
    ("static routing", "static"),
    ("border gateway protocol", "bgp"),
)

# Per section: normalised label -> RAW tunnel key.
_LABELS: dict[str, dict[str, str]] = {
    "ike": {
        "ike version": "ike_version",
        "pre-shared key": "psk",
        "authentication algorithm": "ike_integrity",
        "encryption algorithm": "ike_encryption",
        "lifetime": "ike_lifetime",
        "diffie-hellman": "ike_dh_groups",
        "perfect forward secrecy": "ike_dh_groups",
    },
    "ipsec": {
        "authentication algorithm": "esp_integrity",
        "encryption algorithm": "esp_encryption",
        "lifetime": "esp_lifetime",
        "perfect forward secrecy": "esp_dh_groups",
        "dpd interval": "dpd_delay",
        "dpd retries": "dpd_retries",
        "tcp mss adjustment": "mss",
    },
    "interface": {"tunnel interface mtu": "mtu"},
    "bgp": {
        "virtual private gateway asn": "aws_asn",
        "vpn gateway asn": "aws_asn",
        "transit gateway asn": "aws_asn",
        "neighbor ip address": "bgp_neighbor",
        "neighbor hold time": "bgp_hold_time",
    },
    "static": {"next hop": "next_hop"},
}
_GATEWAYS = {
    "customer gateway": "customer",
    "virtual private gateway": "aws",
    "vpn gateway": "aws",
    "transit gateway": "aws",
}


def parse(text: str) -> Raw:
    raw = new_raw()
    tunnel: RawTunnel | None = None
    section = ""  # "ike", "ipsec", "interface.outside", "bgp", ...
    header = LineTracker(raw)
    fields = LineTracker({})
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _TUNNEL.fullmatch(line):
            tunnel, fields = open_tunnel(raw, lineno)
            section = ""
        elif _END.fullmatch(line):
            tunnel = None
        elif tunnel is None:
            header.before()
            _header(raw, line)
            header.after(lineno)
        elif match := _SECTION.fullmatch(line):
            section = _section(match["title"])
        elif (match := _ADDRESSES.fullmatch(line)) and section.startswith("interface"):
            section = f"interface.{match['side'].lower()}"
        elif match := _FIELD.fullmatch(line):
            value = _VALUE_START.sub("", match["value"])
            header.before()
            fields.before()
            _field(raw, tunnel, section, label(match["label"]), value)
            header.after(lineno)
            fields.after(lineno)
    return raw


def _header(raw: Raw, line: str) -> None:
    match = _HEADER_FIELD.fullmatch(line)
    if match and label(match["label"]) == "your vpn connection id":
        raw["vpn_connection_id"] = match["value"]


def _section(title: str) -> str:
    title = label(title)
    for words, name in _SECTIONS:
        if words in title:
            return name
    return "other"


def _field(raw: Raw, tunnel: RawTunnel, section: str, name: str, value: str) -> None:
    base, _, addresses = section.partition(".")
    if addresses and name in _GATEWAYS:
        side = _GATEWAYS[name]
        if addresses == "inside":
            put_inside(tunnel, side, value)
        else:
            tunnel[f"{side}_outside_address"] = value
        return
    if section == "bgp" and name == "customer gateway asn":
        if raw["customer_asn"] is None and value:
            raw["customer_asn"] = number(value)
            raw["routing"] = "bgp"
        return
    key = _LABELS.get(base, {}).get(name)
    if key is None or is_placeholder(value):
        return
    if section == "bgp":
        # The oldest files print this section, empty, for static connections.
        raw["routing"] = "bgp"
    if key.endswith("_dh_groups"):
        tunnel[key] = [value]
    else:
        tunnel[key] = number(value) if key in NUMBER_KEYS else value
