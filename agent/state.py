"""What the agent made on this machine, so ``down`` can remove exactly it.

Written after each ``up`` to ``state_dir/applied.json`` (no secrets), read
by ``down`` even when config.yaml changed in between.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.apply import files

NAME = "applied.json"


@dataclass(frozen=True)
class DnsApplied:
    """The forward ``up`` set up: in which resolver, where, how reloaded."""

    backend: str
    edit: str  # the file (dnsmasq, unbound) or the link (systemd-resolved)
    domain: str
    reload_command: tuple[str, ...] = ()


@dataclass(frozen=True)
class Applied:
    connections: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    route: str | None = None
    nft_table: bool = False
    interfaces: tuple[str, ...] = ()
    hosts: str | None = None
    files: tuple[str, ...] = field(default=())
    dns: DnsApplied | None = None


def read(state_dir: Path) -> Applied | None:
    text = files.read_text(state_dir / NAME)
    if text is None:
        return None
    try:
        data = json.loads(text)
        return Applied(
            connections=tuple(data.get("connections", ())),
            secrets=tuple(data.get("secrets", ())),
            route=data.get("route"),
            nft_table=bool(data.get("nft_table")),
            interfaces=tuple(data.get("interfaces", ())),
            hosts=data.get("hosts"),
            files=tuple(data.get("files", ())),
            dns=_dns(data.get("dns")),
        )
    except (ValueError, AttributeError, TypeError, KeyError):
        return None


def _dns(data: Any) -> DnsApplied | None:
    if not isinstance(data, dict):
        return None
    return DnsApplied(
        backend=str(data["backend"]),
        edit=str(data["edit"]),
        domain=str(data["domain"]),
        reload_command=tuple(str(word) for word in data.get("reload_command", ())),
    )


def write(state_dir: Path, applied: Applied) -> None:
    text = json.dumps(asdict(applied), indent=2, sort_keys=True) + "\n"
    files.write_atomic(state_dir / NAME, text, 0o644)


def clear(state_dir: Path) -> None:
    files.remove(state_dir / NAME)
