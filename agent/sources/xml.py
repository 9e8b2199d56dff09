"""The ``CustomerGatewayConfiguration`` XML (``<vpn_connection>``) -> RAW.

The same XML for virtual private gateways and transit gateways (whose
``vpn_gateway_id`` is empty), static (``NoBGPVPNConnection``) and BGP, with
or without ``tunnel_inside_ipv6_address`` next to the IPv4 inside address.

A DOCTYPE or ENTITY declaration is refused before parsing: AWS never sends
one, and entities are how XML is made to exhaust memory.  The document is
read with expat directly so each field keeps the line it stands on.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.parsers import expat

from agent.errors import InputError
from agent.sources.detect import ASK
from agent.sources.raw import Raw, RawTunnel, new_raw

ROOT = "vpn_connection"
NO_BGP = "NoBGPVPNConnection"

_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)
# A lone surrogate cannot be encoded for expat; a JSON string can carry one.
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# RAW key -> path below <ipsec_tunnel>.
_FIELDS = {
    "customer_outside_address": "customer_gateway/tunnel_outside_address/ip_address",
    "customer_inside_address": "customer_gateway/tunnel_inside_address/ip_address",
    "customer_inside_prefix": "customer_gateway/tunnel_inside_address/network_cidr",
    "customer_inside_ipv6_address": (
        "customer_gateway/tunnel_inside_ipv6_address/ip_address"
    ),
    "customer_inside_ipv6_prefix": (
        "customer_gateway/tunnel_inside_ipv6_address/prefix_length"
    ),
    "aws_outside_address": "vpn_gateway/tunnel_outside_address/ip_address",
    "aws_inside_address": "vpn_gateway/tunnel_inside_address/ip_address",
    "aws_inside_ipv6_address": "vpn_gateway/tunnel_inside_ipv6_address/ip_address",
    "aws_asn": "vpn_gateway/bgp/asn",
    "bgp_hold_time": "vpn_gateway/bgp/hold_time",
    "psk": "ike/pre_shared_key",
    "ike_version": "ike/ike_version",
    "ike_encryption": "ike/encryption_protocol",
    "ike_integrity": "ike/authentication_protocol",
    "ike_lifetime": "ike/lifetime",
    "esp_encryption": "ipsec/encryption_protocol",
    "esp_integrity": "ipsec/authentication_protocol",
    "esp_lifetime": "ipsec/lifetime",
    "dpd_delay": "ipsec/dead_peer_detection/interval",
    "dpd_retries": "ipsec/dead_peer_detection/retries",
    "mss": "ipsec/tcp_mss_adjustment",
}
_GROUPS = {
    "ike_dh_groups": "ike/perfect_forward_secrecy",
    "esp_dh_groups": "ipsec/perfect_forward_secrecy",
}
# Used only when the preferred path above is absent.
_FALLBACKS = {
    "customer_inside_prefix": "customer_gateway/tunnel_inside_address/network_mask",
    "bgp_hold_time": "customer_gateway/bgp/hold_time",
}
_CUSTOMER_BGP = "customer_gateway/bgp"


class _Document:
    """The parsed tree and the line of every element in it."""

    def __init__(self, root: ET.Element, lines: dict[ET.Element, int]) -> None:
        self.root = root
        self.lines = lines

    def text(self, element: ET.Element, path: str) -> tuple[str, int] | None:
        found = element.find(path)
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip(), self.lines.get(found, 0)


def parse(text: str) -> Raw:
    doc = _document(text)
    root = doc.root
    raw = new_raw()
    raw["vpn_connection_id"] = root.get("id")
    raw["lines"] = {"vpn_connection_id": doc.lines.get(root, 0)}
    for element in root.findall("ipsec_tunnel"):
        tunnel = _tunnel(doc, element)
        raw["tunnels"].append(tunnel)

    asns = [doc.text(e, "asn") for e in root.iterfind(f"ipsec_tunnel/{_CUSTOMER_BGP}")]
    asn = next((a for a in asns if a is not None), None)
    if asn is not None:
        raw["customer_asn"], raw["lines"]["customer_asn"] = asn
    attributes = doc.text(root, "vpn_connection_attributes")
    no_bgp = attributes is not None and attributes[0] == NO_BGP
    raw["routing"] = "bgp" if asn is not None and not no_bgp else "static"
    return raw


def _document(text: str) -> _Document:
    if _DECLARATION.search(text):
        raise InputError(
            "XML with a DOCTYPE or ENTITY declaration is refused: AWS never sends one"
        )
    if _SURROGATE.search(text):
        raise InputError("the XML holds a character that is not text (a surrogate)")
    body = text.lstrip("\ufeff \t\r\n")
    skipped = text[: len(text) - len(body)].count("\n")
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attributes: dict[str, str]) -> None:
        lines[builder.start(tag, attributes)] = parser.CurrentLineNumber + skipped

    def refuse(*_: object) -> None:
        raise InputError("XML with an ENTITY declaration is refused")

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(body, True)
        root = builder.close()
    except expat.ExpatError as err:
        raise InputError(
            f"not well-formed XML: {expat.ErrorString(err.code)} at line "
            f"{err.lineno + skipped}, column {err.offset + 1}"
        ) from err
    if root.tag != ROOT:
        raise InputError(f"XML root is <{root.tag}>, expected <{ROOT}>; {ASK}")
    return _Document(root, lines)


def _tunnel(doc: _Document, element: ET.Element) -> RawTunnel:
    tunnel: RawTunnel = {"line": doc.lines.get(element, 0)}
    lines: dict[str, int] = {}
    for key, path in _FIELDS.items():
        found = doc.text(element, path)
        if found is None and key in _FALLBACKS:
            found = doc.text(element, _FALLBACKS[key])
        if found is not None:
            tunnel[key], lines[key] = found
    for key, path in _GROUPS.items():
        found = doc.text(element, path)
        if found is not None:
            tunnel[key] = [found[0]]
            lines[key] = found[1]
    tunnel["lines"] = lines
    return tunnel
