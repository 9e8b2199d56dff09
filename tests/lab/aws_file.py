"""What DvSum sends for the lab connection: the AWS XML file and the PSKs.

The XML has exactly the layout of AWS's "generic" CustomerGatewayConfiguration
for a static VGW connection (shared/samples/aws/01-xml-static-vgw.xml),
including what AWS prints whatever the tunnel allows (group2, main mode).
"""

from __future__ import annotations

import logging
import os
import secrets
import string
from pathlib import Path
from xml.sax.saxutils import escape

from tests.lab.addresses import Addresses, AwsTunnel

LOG = logging.getLogger(__name__)

# AWS: 8-64 characters of letters, digits, "." and "_", not starting with 0.
PSK_ALPHABET = string.ascii_letters + string.digits + "._"
PSK_LENGTH = 32


def new_psk() -> str:
    """A random PSK that AWS would accept."""
    first = secrets.choice(PSK_ALPHABET.replace("0", ""))
    rest = "".join(secrets.choice(PSK_ALPHABET) for _ in range(PSK_LENGTH - 1))
    return first + rest


def new_id(kind: str) -> str:
    """An AWS-looking resource id: vpn-, cgw- or vgw- and 17 hex digits."""
    return f"{kind}-{secrets.token_hex(9)[:17]}"


TUNNEL = """\
  <ipsec_tunnel>
    <customer_gateway>
      <tunnel_outside_address>
        <ip_address>{customer_outside}</ip_address>
      </tunnel_outside_address>
      <tunnel_inside_address>
        <ip_address>{customer_inside}</ip_address>
        <network_mask>{netmask}</network_mask>
        <network_cidr>{prefixlen}</network_cidr>
      </tunnel_inside_address>
    </customer_gateway>
    <vpn_gateway>
      <tunnel_outside_address>
        <ip_address>{aws_outside}</ip_address>
      </tunnel_outside_address>
      <tunnel_inside_address>
        <ip_address>{aws_inside}</ip_address>
        <network_mask>{netmask}</network_mask>
        <network_cidr>{prefixlen}</network_cidr>
      </tunnel_inside_address>
    </vpn_gateway>
    <ike>
      <authentication_protocol>sha1</authentication_protocol>
      <encryption_protocol>aes-128-cbc</encryption_protocol>
      <lifetime>28800</lifetime>
      <perfect_forward_secrecy>group2</perfect_forward_secrecy>
      <mode>main</mode>
      <pre_shared_key>{psk}</pre_shared_key>
    </ike>
    <ipsec>
      <protocol>esp</protocol>
      <authentication_protocol>hmac-sha1-96</authentication_protocol>
      <encryption_protocol>aes-128-cbc</encryption_protocol>
      <lifetime>3600</lifetime>
      <perfect_forward_secrecy>group2</perfect_forward_secrecy>
      <mode>tunnel</mode>
      <clear_df_bit>true</clear_df_bit>
      <fragmentation_before_encryption>true</fragmentation_before_encryption>
      <tcp_mss_adjustment>1379</tcp_mss_adjustment>
      <dead_peer_detection>
        <interval>10</interval>
        <retries>3</retries>
      </dead_peer_detection>
    </ipsec>
  </ipsec_tunnel>
"""

HEAD = """\
<?xml version="1.0" encoding="UTF-8"?>
<vpn_connection id="{vpn_id}">
  <customer_gateway_id>{cgw_id}</customer_gateway_id>
  <vpn_gateway_id>{vgw_id}</vpn_gateway_id>
  <vpn_connection_type>ipsec.1</vpn_connection_type>
  <vpn_connection_attributes>NoBGPVPNConnection</vpn_connection_attributes>
"""


def render_xml(
    addr: Addresses, psks: dict[int, str], ids: dict[str, str] | None = None
) -> str:
    """The CustomerGatewayConfiguration XML for the lab connection.

    psks: tunnel number -> PSK. ids: "vpn", "cgw", "vgw" -> id (random when
    not given). Like AWS's own file it ends without a newline.
    """
    ids = ids or {kind: new_id(kind) for kind in ("vpn", "cgw", "vgw")}
    parts = [HEAD.format(vpn_id=ids["vpn"], cgw_id=ids["cgw"], vgw_id=ids["vgw"])]
    parts += [_tunnel(addr, t, psks[t.number]) for t in addr.tunnels]
    parts.append("</vpn_connection>")
    return "".join(parts)


def render_psk_lines(addr: Addresses, psks: dict[int, str]) -> str:
    """The PSK file DvSum sends separately: `<aws outside>: <psk>` lines."""
    return "".join(f"{t.outside}: {psks[t.number]}\n" for t in addr.tunnels)


def write_private(path: Path, text: str) -> None:
    """Write text to path with mode 0600 from the start."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _tunnel(addr: Addresses, tunnel: AwsTunnel, psk: str) -> str:
    inside = tunnel.customer_inside
    return TUNNEL.format(
        customer_outside=addr.customer_public,
        customer_inside=inside.ip,
        aws_outside=tunnel.outside,
        aws_inside=tunnel.aws_inside,
        netmask=inside.netmask,
        prefixlen=inside.network.prefixlen,
        psk=escape(psk),
    )
