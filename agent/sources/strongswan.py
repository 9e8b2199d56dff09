"""AWS's "Strongswan" text download (ipsec.conf style, VTI commands) -> RAW.

Each "IPSEC Tunnel #N" block carries a ``conn TunnelN`` section, an
ipsec.secrets line (``LEFT RIGHT : PSK "..."``), a commented ``leftupdown``
line whose ``-ll``/``-lr`` arguments are the inside addresses, and
``ip addr add INSIDE remote INSIDE`` / ``ip link set ... mtu N`` commands.
The blocks end at the "Tunnel Heartbeat" chapter; the scripts after it are
not read.  Downloaded for IKEv1 it says ``keyexchange=ikev1``.
"""

from __future__ import annotations

import re

from agent.sources.raw import (
    LineTracker,
    Raw,
    RawTunnel,
    new_raw,
    open_tunnel,
    put_inside,
)

_TUNNEL = re.compile(r"\s*IPSEC Tunnel #\d+\s*", re.I)
_END = re.compile(r"\s*(Tunnel Heartbeat|Automated Tunnel Healthcheck)\b.*", re.I)
_HEADER = re.compile(r"\s*Your VPN Connection ID\s*:\s*(?P<value>\S+)\s*", re.I)
_OPTION = re.compile(
    r"\s*(?P<key>leftid|right|keyexchange|ike|ikelifetime|esp|lifetime|dpddelay)"
    r"=(?P<value>\S+)\s*"
)
_UPDOWN = re.compile(
    r"\s*#*\s*leftupdown=.*\s-ll\s+(?P<local>[^\s\"]+)\s+-lr\s+(?P<remote>[^\s\"]+).*"
)
_SECRET = re.compile(r'\s*\S+\s+\S+\s*:\s*PSK\s+"(?P<value>[^"]*)"\s*')
_INSIDE = re.compile(r".*\bip addr add (?P<local>\S+) remote (?P<remote>\S+) dev .*")
_MTU = re.compile(r".*\bip link set \S+ up mtu (?P<value>\d+)\s*")
_DURATION = re.compile(r"(?P<count>\d{1,9})(?P<unit>[smhd]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(text: str) -> Raw:
    raw = new_raw()
    tunnel: RawTunnel | None = None
    fields = LineTracker({})
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _TUNNEL.fullmatch(line):
            tunnel, fields = open_tunnel(raw, lineno)
        elif _END.fullmatch(line):
            tunnel = None
        elif tunnel is None:
            if match := _HEADER.fullmatch(line):
                raw["vpn_connection_id"] = match["value"]
                raw["lines"] = {"vpn_connection_id": lineno}
        else:
            fields.before()
            _line(tunnel, line)
            fields.after(lineno)
    return raw


def _line(tunnel: RawTunnel, line: str) -> None:
    if match := _OPTION.fullmatch(line):
        _option(tunnel, match["key"], match["value"])
    elif match := _SECRET.fullmatch(line):
        tunnel.setdefault("psk", match["value"])
    elif (
        match := _INSIDE.fullmatch(line) or _UPDOWN.fullmatch(line)
    ) and "customer_inside_address" not in tunnel:
        put_inside(tunnel, "customer", match["local"])
        put_inside(tunnel, "aws", match["remote"])
    elif match := _MTU.fullmatch(line):
        tunnel.setdefault("mtu", match["value"])


def _option(tunnel: RawTunnel, key: str, value: str) -> None:
    if key == "leftid":
        tunnel["customer_outside_address"] = value
    elif key == "right":
        tunnel["aws_outside_address"] = value
    elif key == "keyexchange":
        tunnel["ike_version"] = value
    elif key in ("ike", "esp"):
        _proposal(tunnel, key, value)
    elif key == "ikelifetime":
        tunnel["ike_lifetime"] = _seconds(value)
    elif key == "lifetime":
        tunnel["esp_lifetime"] = _seconds(value)
    elif key == "dpddelay":
        tunnel["dpd_delay"] = _seconds(value)


def _proposal(tunnel: RawTunnel, kind: str, value: str) -> None:
    """``aes128-sha1-modp1024!`` -> encryption, integrity, DH groups."""
    first = value.rstrip("!").split(",")[0]
    encryption, _, rest = first.partition("-")
    integrity, _, groups = rest.partition("-")
    prefix = "ike" if kind == "ike" else "esp"
    tunnel[f"{prefix}_encryption"] = encryption
    if integrity:
        tunnel[f"{prefix}_integrity"] = integrity
    if groups:
        tunnel[f"{prefix}_dh_groups"] = groups.split("-")


def _seconds(value: str) -> str:
    """strongSwan's ``8h`` -> ``"28800"``; anything else unchanged."""
    match = _DURATION.fullmatch(value)
    if match is None:
        return value
    return str(int(match["count"]) * _SECONDS[match["unit"]])
