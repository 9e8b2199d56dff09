"""Which layout a file is in, or one helpful line saying why it is none.

AWS offers a configuration download for many devices.  Several of them
(Cisco, Juniper, ...) share the Generic download's tunnel headings, so
vendor commands are looked for before the AWS layouts; downloads that are
instructions for a vendor's web interface are known by the device they
say they were tested on.
"""

from __future__ import annotations

import re

from agent.errors import InputError

ASK = (
    'dvsum-vpn reads AWS\'s "Generic / Vendor Agnostic" or "Strongswan" '
    "download, the XML (CustomerGatewayConfiguration) or the JSON of `aws ec2 "
    "describe-vpn-connections`: ask DvSum for one of those"
)

LAYOUTS = ("xml", "json", "generic", "summary", "strongswan")
# AWS's files are tens of KiB; anything far larger is not one of them.
MAX_CHARACTERS = 1 << 20

# Commands that only a vendor's script has, at the start of a line.
_VENDORS = (
    ("Cisco", r"crypto (isakmp|ikev[12]|ipsec|keyring|map)\b"
     r"|tunnel protection ipsec|tunnel-group \S+ (type|ipsec-attributes)\b"),
    ("Fortinet", r"config vpn ipsec phase[12]"),
    ("Palo Alto", r"set network (ike|tunnel)\b|<(ike|ipsec)-crypto-profiles"),
    ("Vyatta", r"set vpn ipsec\b|set interfaces vti\b"),
    ("Check Point", r"(set|add) vpn tunnel \d+|set interface vpnt\d+"),
    ("Juniper", r"set security (ike|ipsec)\b|set (ike|vpn) gateway\b"
     r"|set ike p[12]-proposal\b|set vpn \S+ gateway\b"),
    ("MikroTik", r"/ip ipsec (peer|proposal|policy|identity|profile)\b"),
    ("Yamaha", r"ipsec ike (encryption|group|hash|pre-shared-key|remote)\b"
     r"|tunnel select \d+"),
    ("Zyxel", r"isakmp policy\b"),
    ("Citrix", r"add ipsec profile\b|add iptunnel\b"),
    ("F5", r"(tmsh\s+)?(create|modify) net (ipsec|tunnels)\b"),
    ("Windows Server", r"netsh advfirewall consec\b|Add-VpnS2SInterface\b"),
    ("Openswan", r"phase2alg="),
)  # fmt: skip
_VENDOR_LINES = [
    (name, re.compile(rf"^\s*(?:{pattern})", re.I | re.M)) for name, pattern in _VENDORS
]
# "This configuration was tested on a SonicWALL NSA 2400MX running ..."
_TESTED_ON = re.compile(
    r"^\W*this configuration (?:was|has been) tested on (?P<device>.*)$", re.I | re.M
)
_BRANDS = (
    ("Barracuda", "barracuda"),
    ("Check Point", "check point"),
    ("Cisco", "cisco"),
    ("Citrix", "citrix"),
    ("F5", "big-ip"),
    ("Fortinet", "forti"),
    ("IBM", "ibm"),
    ("Juniper", "juniper"),
    ("Meraki", "meraki"),
    ("MikroTik", "mikrotik"),
    ("Palo Alto", "palo alto"),
    ("pfSense", "pfsense"),
    ("SonicWall", "sonicwall"),
    ("Sophos", "sophos"),
    ("Ubiquiti", "edgerouter"),
    ("WatchGuard", "watchguard"),
    ("Windows Server", "windows"),
    ("Yamaha", "yamaha"),
    ("Zyxel", "zyxel"),
)

_TUNNEL = re.compile(r"^\s*IPSec Tunnel #\d+\s*$", re.I | re.M)
_GENERIC = re.compile(r"^\s*#\d+:\s*Internet Key Exchange Configuration", re.I | re.M)
_SUMMARY = re.compile(r"^\s*VPN Connection ID\s*:", re.I | re.M)
_STRONGSWAN = re.compile(r"^\s*conn \S+\s*$", re.M)
_LEFTID = re.compile(r"^\s*leftid=", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_HTML = re.compile(r"<(!doctype\s+html|html)\b", re.I)


def detect(text: str) -> str:
    """One of :data:`LAYOUTS`; InputError says why the file is none."""
    if len(text) > MAX_CHARACTERS:
        raise InputError(
            f"the file has {len(text)} characters; AWS's configuration files "
            f"have tens of thousands at most; {ASK}"
        )
    # Old Mac line ends (CR alone) are line ends too.
    body = text.lstrip("\ufeff \t\r\n").replace("\r\n", "\n").replace("\r", "\n")
    if not body:
        raise InputError("the file is empty; " + ASK)
    if "\x00" in body or _SURROGATE.search(body) or _binary(body):
        raise InputError("not a text file; " + ASK)
    if _HTML.match(body):
        raise InputError(
            "this is a web page (HTML), not AWS's file: save the download "
            "itself; " + ASK
        )
    if body.startswith("<"):
        return "xml"
    if body.startswith(("{", "[", '"')):
        return "json"
    vendor = _vendor(body)
    if vendor == "Openswan":
        raise InputError(
            "this is AWS's Openswan download, which lacks the tunnels' inside "
            "addresses; " + ASK
        )
    if vendor:
        raise InputError(f"this is AWS's script for a {vendor} device; " + ASK)
    if _TUNNEL.search(body):
        if _STRONGSWAN.search(body) and _LEFTID.search(body):
            return "strongswan"
        if _GENERIC.search(body):
            return "generic"
        if _SUMMARY.search(body):
            return "summary"
    raise InputError("not an AWS VPN configuration in a known layout; " + ASK)


def _vendor(body: str) -> str | None:
    for vendor, pattern in _VENDOR_LINES:
        if pattern.search(body):
            return vendor
    for match in _TESTED_ON.finditer(body):
        device = match["device"].lower()
        if "strongswan" in device:
            continue
        for vendor, word in _BRANDS:
            if word in device:
                return vendor
    return None


def _binary(text: str) -> bool:
    """True when more than 1 in 20 characters are control characters."""
    sample = text[:4096]
    control = sum(1 for c in sample if _CONTROL.match(c))
    return control * 20 > len(sample)
