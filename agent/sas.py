"""What charon says about our tunnels, decoded from ``list-sas``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.apply.vici import Charon


@dataclass(frozen=True)
class ChildState:
    name: str
    uniqueid: int
    state: str  # INSTALLED, REKEYING, ...
    bytes_in: int
    bytes_out: int
    packets_in: int
    packets_out: int
    local_ts: tuple[str, ...]
    remote_ts: tuple[str, ...]


@dataclass(frozen=True)
class IkeState:
    name: str
    uniqueid: int
    state: str  # CONNECTING, ESTABLISHED, DELETING, ...
    remote_host: str
    established_s: int | None
    children: tuple[ChildState, ...]

    @property
    def installed(self) -> bool:
        return self.state == "ESTABLISHED" and any(
            c.state in ("INSTALLED", "REKEYING", "REKEYED") for c in self.children
        )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _child(details: dict[str, Any]) -> ChildState:
    return ChildState(
        name=str(details.get("name", "")),
        uniqueid=_int(details.get("uniqueid")),
        state=str(details.get("state", "")),
        bytes_in=_int(details.get("bytes-in")),
        bytes_out=_int(details.get("bytes-out")),
        packets_in=_int(details.get("packets-in")),
        packets_out=_int(details.get("packets-out")),
        local_ts=tuple(details.get("local-ts", [])),
        remote_ts=tuple(details.get("remote-ts", [])),
    )


def ike_sas(charon: Charon, names: tuple[str, ...]) -> dict[str, list[IkeState]]:
    """IKE_SAs per connection name, newest first."""
    out: dict[str, list[IkeState]] = {name: [] for name in names}
    for name, details in charon.sas():
        if name not in out:
            continue
        established = details.get("established")
        out[name].append(
            IkeState(
                name=name,
                uniqueid=_int(details.get("uniqueid")),
                state=str(details.get("state", "")),
                remote_host=str(details.get("remote-host", "")),
                established_s=_int(established) if established is not None else None,
                children=tuple(
                    _child(c) for c in details.get("child-sas", {}).values()
                ),
            )
        )
    for states in out.values():
        states.sort(key=lambda s: s.uniqueid, reverse=True)
    return out


def best(states: list[IkeState]) -> IkeState | None:
    """The SA that matters: an installed one, else the newest."""
    for state in states:
        if state.installed:
            return state
    return states[0] if states else None
