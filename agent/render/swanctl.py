"""swanctl: the connections and secrets for both tunnels.

One structure, two spellings: ``connections()`` returns the VICI
``load-conn`` messages the agent sends, and ``render()`` writes the very
same settings as swanctl.conf text, so the file on disk always says what
charon was told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent import profile, requirements
from agent.files_header import header
from agent.plan import Plan, TunnelPlan

Message = dict[str, Any]


def connections(plan: Plan) -> dict[str, Message]:
    """``load-conn`` messages keyed by connection name."""
    return {t.name: _connection(plan, t) for t in plan.tunnels}


def secrets(plan: Plan) -> list[Message]:
    """``load-shared`` messages, one per tunnel; they hold the PSKs."""
    out = []
    for tunnel in plan.tunnels:
        psk = tunnel.tunnel.psk
        if psk is None:
            raise ValueError(f"{tunnel.name}: no pre-shared key")
        out.append(
            {
                "id": tunnel.name,
                "type": "IKE",
                "data": psk.reveal(),
                "owners": [str(plan.local_id), str(tunnel.tunnel.aws_outside_address)],
            }
        )
    return out


def render(plan: Plan) -> str:
    """swanctl.conf text for both tunnels, secrets included (mode 0600)."""
    lines = [header("dvsum-vpn up"), "", "connections {"]
    for name, message in connections(plan).items():
        lines += _section(name, message, 1)
    lines += ["}", "", "secrets {"]
    for secret in secrets(plan):
        body = {
            "id-local": secret["owners"][0],
            "id-remote": secret["owners"][1],
            "secret": '"' + secret["data"] + '"',
        }
        lines += _section(f"ike-{secret['id']}", body, 1)
    lines += ["}", ""]
    return "\n".join(lines)


def _connection(plan: Plan, tunnel: TunnelPlan) -> Message:
    aws = str(tunnel.tunnel.aws_outside_address)
    proposals = requirements.proposals(tunnel.tunnel)
    child: Message = {
        "local_ts": [str(ts) for ts in tunnel.local_ts],
        "remote_ts": [str(ts) for ts in tunnel.remote_ts],
        "esp_proposals": list(proposals.esp),
        "rekey_time": f"{profile.CHILD_REKEY_TIME}s",
        "life_time": f"{profile.DVSUM.esp_lifetime}s",
        "rand_time": f"{profile.CHILD_RAND_TIME}s",
        "mode": "tunnel",
        "reqid": str(tunnel.reqid),
        "dpd_action": "restart",
        "close_action": "start",
        "start_action": "none",
    }
    if tunnel.if_id is not None:
        child["if_id_in"] = str(tunnel.if_id)
        child["if_id_out"] = str(tunnel.if_id)
    return {
        "version": "2",
        "remote_addrs": [aws],
        "proposals": list(proposals.ike),
        "rekey_time": f"{profile.IKE_REKEY_TIME}s",
        "over_time": f"{profile.IKE_OVER_TIME}s",
        "dpd_delay": f"{profile.DVSUM.dpd_delay}s",
        "encap": "yes",
        "mobike": "no",
        "unique": "replace",
        "keyingtries": "0",
        "local-1": {"auth": "psk", "id": str(plan.local_id)},
        "remote-1": {"auth": "psk", "id": aws},
        "children": {tunnel.child: child},
    }


def _section(name: str, body: Mapping[str, Any], depth: int) -> list[str]:
    pad = "    " * depth
    lines = [f"{pad}{name} {{"]
    for key, value in body.items():
        if isinstance(value, Mapping):
            lines += _section(key, value, depth + 1)
        else:
            lines.append(f"{pad}    {key} = {_value(value)}")
    lines.append(f"{pad}}}")
    return lines


def _value(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ",".join(value)
