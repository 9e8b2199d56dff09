"""The ``CustomerGatewayConfiguration`` XML (``<vpn_connection>``) -> RAW.

``aws ec2 describe-vpn-connections`` returns this XML as a string inside
its JSON; the JSON itself is accepted too, when it holds one connection.
A DOCTYPE or ENTITY declaration is refused before parsing: AWS never sends
one, and entities are how XML is made to exhaust memory.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from xml.parsers.expat import ErrorString

from agent.errors import InputError
from agent.sources.detect import ASK
from agent.sources.raw import Raw, RawTunnel, line_of, new_raw

ROOT = "vpn_connection"
NO_BGP = "NoBGPVPNConnection"

_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)

# RAW key -> path below <ipsec_tunnel>.
_FIELDS = {
    "customer_outside_address": "customer_gateway/tunnel_outside_address/ip_address",
    "customer_inside_address": "customer_gateway/tunnel_inside_address/ip_address",
    "customer_inside_prefix": "customer_gateway/tunnel_inside_address/network_cidr",
    "aws_outside_address": "vpn_gateway/tunnel_outside_address/ip_address",
    "aws_inside_address": "vpn_gateway/tunnel_inside_address/ip_address",
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
_CUSTOMER_MASK = "customer_gateway/tunnel_inside_address/network_mask"
_CUSTOMER_BGP = "customer_gateway/bgp"


def parse(text: str) -> Raw:
    text = unwrap(text)
    root = _root(text)
    raw = new_raw()
    raw["vpn_connection_id"] = root.get("id")
    starts = [line_of(text, m.start()) for m in re.finditer(r"<ipsec_tunnel\b", text)]
    elements = root.findall("ipsec_tunnel")
    for index, element in enumerate(elements):
        tunnel = _tunnel(element)
        if len(starts) == len(elements):
            tunnel["line"] = starts[index]
        raw["tunnels"].append(tunnel)

    asns = [_text(e, "asn") for e in root.iterfind(f"ipsec_tunnel/{_CUSTOMER_BGP}")]
    raw["customer_asn"] = next((a for a in asns if a is not None), None)
    attributes = _text(root, "vpn_connection_attributes")
    raw["routing"] = "bgp" if asns and attributes != NO_BGP else "static"
    return raw


def unwrap(text: str) -> str:
    """The XML, from itself or from ``describe-vpn-connections`` JSON."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith(("{", '"')):
        return text
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg} at line {err.lineno}") from err
    if isinstance(data, str):
        return data
    connections = data.get("VpnConnections") if isinstance(data, dict) else None
    if isinstance(data, dict) and connections is None:
        connections = [data]
    if not isinstance(connections, list) or len(connections) != 1:
        count = len(connections) if isinstance(connections, list) else 0
        raise InputError(
            f"the JSON holds {count} VPN connections; give one with "
            "`aws ec2 describe-vpn-connections --vpn-connection-ids vpn-...`"
        )
    first = connections[0]
    config = (
        first.get("CustomerGatewayConfiguration") if isinstance(first, dict) else None
    )
    if not isinstance(config, str):
        raise InputError(
            "the JSON has no CustomerGatewayConfiguration; ask DvSum for the "
            "XML or the Generic download"
        )
    return config


def _root(text: str) -> ET.Element:
    if _DECLARATION.search(text):
        raise InputError(
            "XML with a DOCTYPE or ENTITY declaration is refused: AWS never sends one"
        )
    try:
        root = ET.fromstring(text.lstrip("\ufeff \t\r\n"))
    except ET.ParseError as err:
        line, column = err.position
        raise InputError(
            f"not well-formed XML: {ErrorString(err.code)} at line {line}, "
            f"column {column + 1}"
        ) from err
    if root.tag != ROOT:
        raise InputError(f"XML root is <{root.tag}>, expected <{ROOT}>; {ASK}")
    return root


def _tunnel(element: ET.Element) -> RawTunnel:
    tunnel: RawTunnel = {}
    for key, path in _FIELDS.items():
        value = _text(element, path)
        if value is not None:
            tunnel[key] = value
    for key, path in _GROUPS.items():
        value = _text(element, path)
        if value is not None:
            tunnel[key] = [value]
    mask = _text(element, _CUSTOMER_MASK)
    if "customer_inside_prefix" not in tunnel and mask is not None:
        tunnel["customer_inside_prefix"] = mask
    if "bgp_hold_time" not in tunnel:
        hold_time = _text(element, f"{_CUSTOMER_BGP}/hold_time")
        if hold_time is not None:
            tunnel["bgp_hold_time"] = hold_time
    return tunnel


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()
