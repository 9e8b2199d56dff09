"""The JSON of ``aws ec2 describe-vpn-connections`` -> RAW.

The JSON carries the ``CustomerGatewayConfiguration`` XML as a string (read
by :mod:`agent.sources.xml`) and, in ``Options.TunnelOptions``, what each
tunnel really accepts: algorithm lists, IKE versions, lifetimes, DPD
timeout and action, startup action.  Those go to RAW's ``tunnel_options``
as they are; build matches them to the XML's tunnels by outside address.

Accepted shapes: ``{"VpnConnections": [one]}`` (describe), ``{"VpnConnection":
{...}}`` (create, modify), the connection object itself, a list holding one,
or the bare XML string (``--query 'VpnConnections[0].CustomerGatewayConfiguration'``).
"""

from __future__ import annotations

import json
from typing import Any

from agent.errors import InputError
from agent.sources import xml
from agent.sources.raw import OPTION_KEYS, OPTION_LISTS, Raw

ONE = "`aws ec2 describe-vpn-connections --vpn-connection-ids vpn-...`"

# AWS's field names (either spelling the SDKs and CLI use), lower-cased,
# -> RAW option key.
_OPTION_NAMES = {key.replace("_", ""): key for key in OPTION_KEYS} | {
    "ikeversionset": "ike_versions",
}


def parse(text: str) -> Raw:
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as err:
        raise InputError(
            f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from err
    except (RecursionError, ValueError) as err:
        # Nested too deeply, or a number too long to convert.
        raise InputError(f"not valid JSON: {err}") from err
    if isinstance(data, str):
        return _xml(data)
    connection = _connection(data)
    config = connection.get("CustomerGatewayConfiguration")
    if not isinstance(config, str) or not config.strip():
        raise InputError(
            "the JSON has no CustomerGatewayConfiguration, which holds the "
            f"customer gateway's address and the inside addresses; run {ONE} "
            "without --query"
        )
    raw = _xml(config)
    options = connection.get("Options")
    items = options.get("TunnelOptions") if isinstance(options, dict) else None
    if isinstance(items, list):
        raw["tunnel_options"] = [_options(item) for item in items]
    return raw


def _xml(text: str) -> Raw:
    """The XML's RAW without line numbers: they are not lines of this file."""
    raw = xml.parse(text)
    raw.pop("lines", None)
    for tunnel in raw["tunnels"]:
        tunnel.pop("line", None)
        tunnel.pop("lines", None)
    return raw


def _connection(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "VpnConnections" in data:
        data = data["VpnConnections"]
    elif isinstance(data, dict) and isinstance(data.get("VpnConnection"), dict):
        data = data["VpnConnection"]
    if isinstance(data, list):
        if len(data) != 1 or not isinstance(data[0], dict):
            ids = [c.get("VpnConnectionId") for c in data if isinstance(c, dict)]
            named = ", ".join(str(i) for i in ids if i) or "none named"
            raise InputError(
                f"the JSON holds {len(data)} VPN connections ({named}); give one "
                f"with {ONE}"
            )
        data = data[0]
    if not isinstance(data, dict):
        raise InputError(f"the JSON is not a VPN connection; give the output of {ONE}")
    return data


def _options(item: Any) -> dict[str, Any]:
    """One ``TunnelOptions`` entry: values as strings, lists as lists."""
    out: dict[str, Any] = {}
    if not isinstance(item, dict):
        return out
    for name, value in item.items():
        key = _OPTION_NAMES.get(str(name).lower())
        if key is None:
            continue
        if key in OPTION_LISTS and isinstance(value, list):
            out[key] = [
                _scalar(v.get("Value") if isinstance(v, dict) else v) for v in value
            ]
        elif key in OPTION_LISTS:
            # AWS always gives a list here; a bare value is refused by name.
            out[key] = _scalar(value)
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> str:
    """JSON scalars as text; anything else as a marker build refuses."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return f"<{type(value).__name__}>"
