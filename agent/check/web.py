"""Checks over TLS: the certificate, the health checks, the WebSocket upgrade.

Each service is reached by its name, at the address the system resolver
gave it, all three at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, TypeVar

from agent.check import bounded, tls
from agent.check.result import Item, failed, passed

T = TypeVar("T")

Target = tuple[str, IPv4Address | None]  # name, the address it resolved to

# The guide's expected answers to GET /health-check.
HEALTH = {
    "apis.dvsum.ai": {"status": "OK", "mode": "privatelink"},
    "s3-storage.dvsum.ai": {"status": "OK"},
    "socket-api.dvsum.ai": {"status": "OK"},
}
HEALTH_PATH = "/health-check"

SOCKET_NAME = "socket-api.dvsum.ai"
SOCKET_PATH = "/socket"
# The guide: 403 (or 400) means the upgrade reached the server, which wants
# a session token; 101 would mean it was accepted outright.
SOCKET_REACHED = (101, 400, 401, 403)
UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "ZHZzdW0tdnBuIGNoZWNrIQ==",
}


def tls_items(targets: Sequence[Target], ca_file: Path | None) -> list[Item]:
    def one(name: str, address: IPv4Address) -> Item:
        facts = tls.handshake(name, address, ca_file)
        return passed(
            name,
            f"{name} at {address}: {facts['version']}, {facts['subject']}, "
            f"issuer {facts['issuer']}, verified",
            name=name, address=str(address), **facts,
        )  # fmt: skip

    return _each(targets, one)


def health_items(targets: Sequence[Target], ca_file: Path | None) -> list[Item]:
    def one(name: str, address: IPv4Address) -> Item:
        reply = tls.exchange(name, address, ca_file, HEALTH_PATH)
        facts = {"name": name, "address": str(address), "status": reply.status,
                 "body": reply.body[:200]}  # fmt: skip
        shown = f"GET https://{name}{HEALTH_PATH}: {reply.status}"
        if reply.status != 200:
            return failed(name, "status", f"{shown} {reply.reason}", **facts)
        kind = body_kind(name, reply.body)
        if kind != "ok":
            return failed(name, kind, f"{shown}, body {reply.body[:80]!r}", **facts)
        return passed(
            name, f"{shown} {reply.body.strip()} in "
            f"{reply.seconds * 1000:.0f} ms", **facts,
        )  # fmt: skip

    return _each(targets, one)


def body_kind(name: str, body: str) -> str:
    """ok, or what is wrong with a health-check body."""
    want = HEALTH.get(name, {"status": "OK"})
    try:
        got = json.loads(body)
    except ValueError:
        return "body"
    if not isinstance(got, dict):
        return "body"
    if "mode" in want and got.get("mode") not in (None, want["mode"]):
        # The service said how it was reached: not through PrivateLink.
        return "not_privatelink"
    if any(got.get(key) != value for key, value in want.items()):
        return "body"
    return "ok"


def websocket_items(targets: Sequence[Target], ca_file: Path | None) -> list[Item]:
    def one(name: str, address: IPv4Address) -> Item:
        reply = tls.exchange(name, address, ca_file, SOCKET_PATH, headers=UPGRADE)
        facts = {"name": name, "address": str(address), "status": reply.status}
        shown = f"upgrade on wss://{name}{SOCKET_PATH}: {reply.status} {reply.reason}"
        if reply.status in SOCKET_REACHED:
            return passed(name, f"{shown}: reached the server", **facts)
        if reply.status == 404:
            return failed(name, "not_found", shown, **facts)
        if reply.status >= 500:
            return failed(name, "server_error", shown, **facts)
        return failed(name, "unexpected_status", shown, **facts)

    return _each([t for t in targets if t[0] == SOCKET_NAME], one)


def _each(
    targets: Sequence[Target], one: Callable[[str, IPv4Address], Item]
) -> list[Item]:
    """Run ``one`` for every target that has an address, all at once."""
    runnable = [(n, a) for n, a in targets if a is not None]
    outcomes = bounded.call_all(
        [functools.partial(one, n, a) for n, a in runnable], tls.TIMEOUT + 0.3
    )
    results = dict(zip([n for n, _ in runnable], outcomes, strict=True))
    items = []
    for name, address in targets:
        if address is None:
            items.append(failed(name, "no_address",
                                f"{name}: does not resolve", name=name))  # fmt: skip
            continue
        items.append(_item(name, address, results[name]))
    return items


def _item(name: str, address: IPv4Address, outcome: bounded.Outcome[Item]) -> Item:
    facts: dict[str, Any] = {"name": name, "address": str(address)}
    if outcome.done and outcome.value is not None:
        return outcome.value
    if not outcome.done:
        return failed(name, "timeout",
                      f"{name} at {address}: no answer in {tls.TIMEOUT:g} s",
                      stage="connect", **facts)  # fmt: skip
    err = outcome.error
    if isinstance(err, tls.Failure):
        return failed(name, err.kind, f"{name} at {address}: {err}",
                      stage=err.stage, **facts)  # fmt: skip
    return failed(name, "error", f"{name} at {address}: {err!r}", **facts)
