"""A ``Connection`` written out in each layout AWS (or DvSum) prints.

Independent of the parsers: laid out after AWS's templates of each era, so
that render -> parse round trips test the parsers, not themselves.  Used by
the property tests and as seeds for ``make fuzz``.
"""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from agent.model import Connection, Routing, Tunnel

GENERIC_ERAS = ("2009", "2015", "2019", "current")
RULE = "=" * 80


def psk_text(tunnel: Tunnel) -> str:
    return tunnel.psk.reveal() if tunnel.psk else "<provided separately>"


def inside(tunnel: Tunnel, aws: bool = False) -> str:
    prefix = tunnel.customer_inside_cidr.network.prefixlen
    address = tunnel.aws_inside_address if aws else tunnel.customer_inside_cidr.ip
    return f"{address}/{prefix}"


# --- XML ------------------------------------------------------------------


def render_xml(connection: Connection, transit: bool = False) -> str:
    """A ``CustomerGatewayConfiguration`` laid out the way AWS does it."""
    root = ET.Element("vpn_connection", id=str(connection.vpn_connection_id))
    _put(root, "customer_gateway_id", "cgw-0123456789abcdef0")
    _put(root, "vpn_gateway_id", "" if transit else "vgw-0123456789abcdef0")
    _put(root, "vpn_connection_type", "ipsec.1")
    if connection.routing is Routing.STATIC:
        _put(root, "vpn_connection_attributes", "NoBGPVPNConnection")
    for t in connection.tunnels:
        p = t.printed
        fields: dict[str, object] = {
            "customer_gateway/tunnel_outside_address/ip_address": (
                t.customer_outside_address
            ),
            "customer_gateway/tunnel_inside_address/ip_address": (
                t.customer_inside_cidr.ip
            ),
            "customer_gateway/tunnel_inside_address/network_mask": (
                t.customer_inside_cidr.netmask
            ),
            "customer_gateway/tunnel_inside_address/network_cidr": 30,
        }
        if t.customer_inside_ipv6_cidr is not None:
            fields |= {
                "customer_gateway/tunnel_inside_ipv6_address/ip_address": (
                    t.customer_inside_ipv6_cidr.ip
                ),
                "customer_gateway/tunnel_inside_ipv6_address/prefix_length": 126,
            }
        if connection.routing is Routing.BGP:
            fields |= {
                "customer_gateway/bgp/asn": connection.customer_asn,
                "customer_gateway/bgp/hold_time": t.bgp_hold_time,
            }
        fields |= {
            "vpn_gateway/tunnel_outside_address/ip_address": t.aws_outside_address,
            "vpn_gateway/tunnel_inside_address/ip_address": t.aws_inside_address,
            "vpn_gateway/tunnel_inside_address/network_mask": "255.255.255.252",
            "vpn_gateway/tunnel_inside_address/network_cidr": 30,
        }
        if t.aws_inside_ipv6_address is not None:
            fields |= {
                "vpn_gateway/tunnel_inside_ipv6_address/ip_address": (
                    t.aws_inside_ipv6_address
                ),
                "vpn_gateway/tunnel_inside_ipv6_address/prefix_length": 126,
            }
        if connection.routing is Routing.BGP:
            fields |= {
                "vpn_gateway/bgp/asn": t.aws_asn,
                "vpn_gateway/bgp/hold_time": t.bgp_hold_time,
            }
        fields |= {
            "ike/authentication_protocol": p.ike_integrity,
            "ike/encryption_protocol": p.ike_encryption,
            "ike/lifetime": p.ike_lifetime,
            "ike/perfect_forward_secrecy": f"group{p.ike_dh_groups[0]}",
            "ike/mode": "main",
            "ike/pre_shared_key": t.psk.reveal() if t.psk else None,
            "ipsec/protocol": "esp",
            "ipsec/authentication_protocol": p.esp_integrity,
            "ipsec/encryption_protocol": p.esp_encryption,
            "ipsec/lifetime": p.esp_lifetime,
            "ipsec/perfect_forward_secrecy": f"group{p.esp_dh_groups[0]}",
            "ipsec/mode": "tunnel",
            "ipsec/clear_df_bit": "true",
            "ipsec/fragmentation_before_encryption": "true",
            "ipsec/tcp_mss_adjustment": p.mss,
            "ipsec/dead_peer_detection/interval": p.dpd_delay,
            "ipsec/dead_peer_detection/retries": p.dpd_retries,
        }
        tunnel_element = ET.SubElement(root, "ipsec_tunnel")
        for path, value in fields.items():
            if value is not None:
                _put(tunnel_element, path, value)
    ET.indent(root)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + ET.tostring(root, encoding="unicode")


def _put(parent: ET.Element, path: str, value: object) -> None:
    """Set the text at ``path`` below ``parent``, making elements as needed."""
    node = parent
    for tag in path.split("/"):
        found = node.find(tag)
        node = found if found is not None else ET.SubElement(node, tag)
    node.text = str(value)


# --- describe-vpn-connections JSON ----------------------------------------


def render_json(
    connection: Connection, options: dict[str, dict[str, object]] | None = None
) -> str:
    """``describe-vpn-connections`` output; ``options`` by AWS outside
    address, merged into each tunnel's TunnelOptions (listed in reverse
    order, as AWS may)."""
    options = options or {}
    tunnel_options = []
    for t in reversed(connection.tunnels):
        item: dict[str, object] = {
            "OutsideIpAddress": str(t.aws_outside_address),
            "TunnelInsideCidr": str(t.customer_inside_cidr.network),
        }
        if t.psk:
            item["PreSharedKey"] = t.psk.reveal()
        item |= options.get(str(t.aws_outside_address), {})
        tunnel_options.append(item)
    data = {
        "VpnConnections": [
            {
                "CustomerGatewayConfiguration": render_xml(connection),
                "CustomerGatewayId": "cgw-0123456789abcdef0",
                "Category": "VPN",
                "State": "available",
                "Type": "ipsec.1",
                "VpnConnectionId": connection.vpn_connection_id,
                "VpnGatewayId": "vgw-0123456789abcdef0",
                "Options": {
                    "StaticRoutesOnly": connection.routing is Routing.STATIC,
                    "TunnelOptions": tunnel_options,
                },
            }
        ]
    }
    return json.dumps(data, indent=4) + "\n"


# --- Generic text, every era ----------------------------------------------


def render_generic(connection: Connection, era: str = "current") -> str:
    """AWS's "Generic / Vendor Agnostic" download as worded in ``era``."""
    gateway = "VPN Gateway" if era == "2009" else "Virtual Private Gateway"
    dash = "- " if era == "2019" else "  - "
    out = [
        "Amazon Web Services\nVirtual Private Cloud\n",
        f"VPN Connection Configuration\n{RULE}",
        f"Your VPN Connection ID\t\t         : {connection.vpn_connection_id}",
        f"Your {gateway} ID          : vgw-0123456789abcdef0",
        "Your Customer Gateway ID    \t\t : cgw-0123456789abcdef0\n",
    ]
    word = "IPsec" if era == "2019" else "IPSec"
    for number, t in enumerate(connection.tunnels, start=1):
        out += [f"\n{word} Tunnel #{number}", RULE]
        out += _generic_tunnel(
            connection, t, era, dash=dash, gateway=gateway, word=word
        )
    out += ["", "Additional Notes and Questions", RULE, "", f"{dash}XSL Version: x"]
    return "\n".join(out) + "\n"


def _generic_tunnel(
    connection: Connection, t: Tunnel, era: str, *, dash: str, gateway: str, word: str
) -> list[str]:
    p = t.printed
    ike_dh = p.ike_dh_groups[0]
    out = ["#1: Internet Key Exchange Configuration", "", "Configure the IKE SA:"]
    if era in ("2019", "current") and p.ike_version:
        out.append(f"{dash}IKE version              : IKEv{p.ike_version} ")
    out += [
        f"{dash}Authentication Method    : Pre-Shared Key ",
        f"{dash}Pre-Shared Key           : {psk_text(t)}",
        f"{dash}Authentication Algorithm : {p.ike_integrity}",
        f"{dash}Encryption Algorithm     : {p.ike_encryption}",
        f"{dash}Lifetime                 : {p.ike_lifetime} seconds",
        f"{dash}Phase 1 Negotiation Mode : main",
    ]
    if era in ("2019", "current"):
        out.append(f"{dash}Diffie-Hellman           : Group {ike_dh}")
    else:
        out.append(f"{dash}Perfect Forward Secrecy  : Diffie-Hellman Group {ike_dh}")
    out += [
        "",
        f"#2: {word} Configuration",
        "",
        f"{dash}Protocol                 : esp",
        f"{dash}Authentication Algorithm : {p.esp_integrity}",
        f"{dash}Encryption Algorithm     : {p.esp_encryption}",
        f"{dash}Lifetime                 : {p.esp_lifetime} seconds",
        f"{dash}Mode                     : tunnel",
        f"{dash}Perfect Forward Secrecy  : Diffie-Hellman Group {p.esp_dh_groups[0]}",
        "\t",
        f"{dash}DPD Interval             : {p.dpd_delay}",
        f"{dash}DPD Retries              : {p.dpd_retries}",
        "",
        f"{dash}TCP MSS Adjustment       : {p.mss} bytes",
        f"{dash}Clear Don't Fragment Bit : enabled",
        "",
        "#3: Tunnel Interface Configuration",
        "",
        "Outside IP Addresses:",
    ]
    customer = (
        "Customer Gateway:        :"
        if era in ("2009", "2019")
        else ("Customer Gateway \t\t        :")
    )
    out += [
        f"{dash}{customer} {t.customer_outside_address} ",
        f"{dash}{gateway}\t        : {t.aws_outside_address}",
        "\t\t",
        "Inside IP Addresses",
        f"{dash}Customer Gateway         \t\t: {inside(t)}",
        f"{dash}{gateway}             : {inside(t, aws=True)}",
    ]
    if t.customer_inside_ipv6_cidr is not None and t.aws_inside_ipv6_address:
        out += [
            "",
            "Inside IPv6 Addresses",
            f"{dash}Customer Gateway         : {t.customer_inside_ipv6_cidr}",
            f"{dash}{gateway}  : {t.aws_inside_ipv6_address}/126",
        ]
    if era != "2009" and p.mtu is not None:
        out += ["", f"{dash}Tunnel interface MTU     : {p.mtu} bytes"]
    out += [""]
    bgp = connection.routing is Routing.BGP
    if bgp or era == "2009":
        # The oldest template prints this section, empty, for static ones.
        asn = connection.customer_asn if bgp else ""
        aws_asn = t.aws_asn if bgp else ""
        neighbor = t.aws_inside_address if bgp else ""
        hold = t.bgp_hold_time if bgp else ""
        out += [
            "#4: Border Gateway Protocol (BGP) Configuration:",
            "",
            "BGP Configuration Options:",
            f"{dash}Customer Gateway ASN\t          : {asn}",
            f"{dash}{gateway.replace(' ', '  ', 1)} ASN          : {aws_asn}",
            f"{dash}Neighbor IP Address     \t\t  : {neighbor}",
            f"{dash}Neighbor Hold Time       : {hold}",
            "",
        ]
    else:
        out += [
            "#4: Static Routing Configuration:",
            "",
            "Static Route Configuration Options:",
            "",
            f"{dash}Next hop       : {t.aws_inside_address}",
            "",
        ]
    return out


# --- DvSum's summary ------------------------------------------------------


def render_summary(connection: Connection) -> str:
    """The summary layout of DvSum's guide (BGP lines when BGP)."""
    out = [f"VPN Connection ID          : {connection.vpn_connection_id}"]
    if connection.routing is Routing.BGP:
        out.append("VPN routing mode           : BGP")
        out.append(f"BGP ASN                    : {connection.customer_asn}")
    for number, t in enumerate(connection.tunnels, start=1):
        p = t.printed
        out += [
            "",
            f"IPSec Tunnel #{number}",
            "─" * 65,
            f"IKE version                : IKEv{p.ike_version or 2}",
            "Authentication method      : Pre-Shared Key (PSK)",
            f"Pre-Shared Key             : {psk_text(t)}",
            f"Authentication algorithm   : {p.ike_integrity}",
            f"Encryption algorithm       : {p.ike_encryption}",
            f"IKE lifetime               : {p.ike_lifetime} seconds",
            f"Diffie-Hellman group       : Group {p.ike_dh_groups[0]}",
            "",
            "ESP (IPSec Phase 2)",
            f"Authentication algorithm   : {p.esp_integrity}",
            f"Encryption algorithm       : {p.esp_encryption}",
            f"ESP lifetime               : {p.esp_lifetime} seconds (1 hour)",
            f"Perfect Forward Secrecy    : DH Group {p.esp_dh_groups[0]}",
            "",
            "Outside IP addresses",
            f"  Customer Gateway (your side)   : {t.customer_outside_address}",
            f"  Virtual Private Gateway        : {t.aws_outside_address}",
            "",
            "Inside IP addresses (for BGP or tunnel interface)",
            f"  Customer Gateway               : {inside(t)}",
            f"  Virtual Private Gateway        : {inside(t, aws=True)}",
            "",
            f"MTU                        : {p.mtu} bytes",
            f"TCP MSS adjustment         : {p.mss} bytes",
            f"DPD interval               : {p.dpd_delay} seconds  |  DPD retries: "
            f"{p.dpd_retries}",
        ]
        if connection.routing is Routing.BGP:
            out += [
                f"Virtual Private Gateway ASN : {t.aws_asn}",
                f"BGP neighbor               : {t.aws_inside_address}",
                f"BGP hold time              : {t.bgp_hold_time}",
            ]
    return "\n".join(out) + "\n"


# --- AWS's Strongswan download --------------------------------------------

STRONGSWAN_GROUPS = {2: "modp1024", 5: "modp1536", 14: "modp2048", 15: "modp3072"}


def render_strongswan(connection: Connection, updown_only: bool = False) -> str:
    """AWS's "Strongswan" download: ipsec.conf, ipsec.secrets, VTI commands.

    Printed algorithms must be strongSwan names (aes128, sha1) and DH
    groups those of :data:`STRONGSWAN_GROUPS`.  ``updown_only`` leaves out
    the ``ip addr add`` commands, so only the commented ``leftupdown`` line
    carries the inside addresses.
    """
    rule = "-" * 116
    out = [
        "Amazon Web Services\nVirtual Private Cloud\n",
        f"Your VPN Connection ID                  : {connection.vpn_connection_id}",
        "",
    ]
    for number, t in enumerate(connection.tunnels, start=1):
        p = t.printed
        ike = f"{p.ike_encryption}-{p.ike_integrity}-"
        ike += STRONGSWAN_GROUPS[p.ike_dh_groups[0]]
        esp = f"{p.esp_encryption}-{p.esp_integrity}-"
        esp += STRONGSWAN_GROUPS[p.esp_dh_groups[0]]
        out += [
            rule,
            f"IPSEC Tunnel #{number}",
            rule,
            "#1: Enable Packet Forwarding and Configure the Tunnel",
            "",
            f"conn Tunnel{number}",
            "\tauto=start",
            "\tleft=%defaultroute",
            f"\tleftid={t.customer_outside_address}",
            f"\tright={t.aws_outside_address}",
            "\ttype=tunnel",
            "\tleftauth=psk",
            "\trightauth=psk",
            f"\tkeyexchange=ikev{p.ike_version or 2}",
            f"\tike={ike}",
            f"\tikelifetime={p.ike_lifetime}s",
            f"\tesp={esp}",
            f"\tlifetime={p.esp_lifetime}s",
            f"\tdpddelay={p.dpd_delay}s",
            f"\tmark={number}00",
            f'\t#leftupdown="/etc/ipsec.d/aws-updown.sh -ln Tunnel{number} -ll '
            f'{inside(t)} -lr {inside(t, aws=True)} -m {number}00 -r <VPC CIDR>"',
            "",
            f"{t.customer_outside_address} {t.aws_outside_address} : "
            f'PSK "{psk_text(t)}"',
            "",
        ]
        if not updown_only:
            out += [
                f"sudo ip addr add {inside(t)} remote {inside(t, aws=True)} "
                f"dev Tunnel{number}",
                f"sudo ip link set Tunnel{number} up mtu {p.mtu}",
                "",
            ]
    out += [rule, "Tunnel Heartbeat", rule, "", "ip addr add 1.2.3.4 remote x dev y"]
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Connection], str]] = {
    "xml": render_xml,
    "json": render_json,
    "summary": render_summary,
    **{
        f"generic-{era}": functools.partial(render_generic, era=era)
        for era in GENERIC_ERAS
    },
}
