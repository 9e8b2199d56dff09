"""The summary layout shown in DvSum's setup guide -> RAW.

``Label : value`` lines under "IPSec Tunnel #N", grouped by headings:
the IKE block comes first, then "ESP (IPSec Phase 2)", "Outside IP
addresses" and "Inside IP addresses".  "Authentication algorithm" and
"Customer Gateway" repeat between blocks, so they are read per block.  One
line may carry two fields: ``DPD interval : 10 seconds | DPD retries: 3``.
The PSKs usually arrive separately: a ``<...>`` placeholder means absent.
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
_FIELD = re.compile(r"\s*(?P<label>[^:|]+?)\s*:\s*(?P<value>.*?)\s*")

# Heading words -> block; checked on lines without a colon.
_BLOCKS = (
    ("esp", "esp"),
    ("phase 2", "esp"),
    ("outside ip addresses", "outside"),
    ("inside ip addresses", "inside"),
)

# Labels whose meaning depends on the block: (block, label) -> key.
_PER_BLOCK = {
    ("ike", "authentication algorithm"): "ike_integrity",
    ("ike", "encryption algorithm"): "ike_encryption",
    ("ike", "lifetime"): "ike_lifetime",
    ("ike", "perfect forward secrecy"): "ike_dh_groups",
    ("esp", "authentication algorithm"): "esp_integrity",
    ("esp", "encryption algorithm"): "esp_encryption",
    ("esp", "lifetime"): "esp_lifetime",
    ("esp", "perfect forward secrecy"): "esp_dh_groups",
    ("esp", "diffie-hellman group"): "esp_dh_groups",
}
# Labels that mean one thing wherever they are.
_ANYWHERE = {
    "ike version": "ike_version",
    "pre-shared key": "psk",
    "ike lifetime": "ike_lifetime",
    "diffie-hellman group": "ike_dh_groups",
    "esp lifetime": "esp_lifetime",
    "mtu": "mtu",
    "tcp mss adjustment": "mss",
    "dpd interval": "dpd_delay",
    "dpd retries": "dpd_retries",
    "virtual private gateway asn": "aws_asn",
    "aws asn": "aws_asn",
    "bgp hold time": "bgp_hold_time",
    "neighbor hold time": "bgp_hold_time",
    "bgp neighbor": "bgp_neighbor",
    "neighbor ip address": "bgp_neighbor",
}
_CUSTOMER_ASN = {"customer gateway asn", "customer asn", "bgp asn"}
_ROUTING = {"routing", "vpn routing mode"}
_GATEWAYS = {"customer gateway": "customer", "virtual private gateway": "aws"}


def parse(text: str) -> Raw:
    raw = new_raw()
    tunnel: RawTunnel | None = None
    block = "ike"
    header = LineTracker(raw)
    fields = LineTracker({})
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _TUNNEL.fullmatch(line):
            tunnel, fields = open_tunnel(raw, lineno)
            block = "ike"
            continue
        if ":" not in line:
            block = _block(line) or block
            continue
        header.before()
        fields.before()
        for part in line.split("|"):
            match = _FIELD.fullmatch(part)
            if match:
                _field(raw, tunnel, block, label(match["label"]), match["value"])
        header.after(lineno)
        fields.after(lineno)
    if any("bgp_hold_time" in t or "bgp_neighbor" in t for t in raw["tunnels"]):
        raw["routing"] = "bgp"
    return raw


def _block(line: str) -> str | None:
    words = label(line)
    for heading, block in _BLOCKS:
        if words.startswith(heading):
            return block
    return None


def _field(
    raw: Raw, tunnel: RawTunnel | None, block: str, name: str, value: str
) -> None:
    if name == "vpn connection id":
        raw["vpn_connection_id"] = value
    elif name in _CUSTOMER_ASN:
        raw["customer_asn"] = raw["customer_asn"] or number(value)
    elif name in _ROUTING:
        raw["routing"] = "bgp" if "bgp" in value.lower() else "static"
    elif tunnel is None:
        return
    elif block in ("outside", "inside") and name in _GATEWAYS:
        side = _GATEWAYS[name]
        if block == "inside":
            put_inside(tunnel, side, value)
        else:
            tunnel[f"{side}_outside_address"] = value
    else:
        key = _PER_BLOCK.get((block, name)) or _ANYWHERE.get(name)
        if key is None or (key == "psk" and is_placeholder(value)):
            return
        if key.endswith("_dh_groups"):
            tunnel[key] = [value]
        else:
            tunnel[key] = number(value) if key in NUMBER_KEYS else value
