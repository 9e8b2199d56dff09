"""Which layout a file is in, or one helpful line saying why it is none.

AWS offers a configuration script for many devices.  Several of them
(Cisco, Juniper, ...) share the Generic download's tunnel headings, so
vendor commands are looked for before the AWS layouts.
"""

from __future__ import annotations

import re

from agent.errors import InputError

ASK = (
    'dvsum-vpn reads AWS\'s "Generic / Vendor Agnostic" download or the XML '
    "(CustomerGatewayConfiguration): ask DvSum for one of those"
)

_VENDORS = (
    ("Cisco", r"crypto (isakmp|ikev[12]|ipsec|keyring|map)\b|tunnel protection ipsec"),
    ("Fortinet", r"config vpn ipsec phase[12]"),
    ("Palo Alto", r"set network (ike|tunnel)\b|<ike-crypto-profiles"),
    ("Juniper", r"set security (ike|ipsec)\b|set (ike|vpn) gateway\b"),
    ("Vyatta", r"set vpn ipsec\b|set interfaces vti\b"),
)
_VENDOR_LINES = [
    (name, re.compile(rf"^\s*(?:{pattern})", re.I | re.M)) for name, pattern in _VENDORS
]

_TUNNEL = re.compile(r"^\s*IPSec Tunnel #\d+\s*$", re.I | re.M)
_GENERIC = re.compile(r"^\s*#\d+:\s*Internet Key Exchange Configuration", re.I | re.M)
_SUMMARY = re.compile(r"^\s*VPN Connection ID\s*:", re.I | re.M)
_STRONGSWAN = re.compile(r"^\s*conn \S+\s*$", re.M)
_LEFTID = re.compile(r"^\s+leftid=", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def detect(text: str) -> str:
    """``"xml"``, ``"generic"``, ``"summary"`` or ``"strongswan"``."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise InputError("the file is empty; " + ASK)
    if "\x00" in body or _binary(body):
        raise InputError("not a text file; " + ASK)
    if body.startswith("<"):
        return "xml"
    if body.startswith(("{", '"')):
        if "CustomerGatewayConfiguration" in body or "<vpn_connection" in body:
            return "xml"
        raise InputError("JSON without a CustomerGatewayConfiguration; " + ASK)
    for vendor, pattern in _VENDOR_LINES:
        if pattern.search(body):
            raise InputError(f"this is AWS's script for a {vendor} device; " + ASK)
    if _TUNNEL.search(body):
        if _STRONGSWAN.search(body) and _LEFTID.search(body):
            return "strongswan"
        if _GENERIC.search(body):
            return "generic"
        if _SUMMARY.search(body):
            return "summary"
    raise InputError("not an AWS VPN configuration in a known layout; " + ASK)


def _binary(text: str) -> bool:
    """True when more than 1 in 20 characters are control characters."""
    sample = text[:4096]
    control = sum(1 for c in sample if _CONTROL.match(c))
    return control * 20 > len(sample)
