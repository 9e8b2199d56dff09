"""Run the checks in two phases, each check within its own budget.

Phase one asks the machine and charon (tunnels, route) and the resolver
(dns); phase two sends packets to the services (tcp, mtu, tls, https,
websocket), using the addresses phase one resolved.  Inside a phase the
checks run at once, so a healthy run takes about as long as its slowest
probe and a failing one about two budgets.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any

from agent.apply.netlink import Netlink
from agent.check import bounded, diagnosis, mtu, resolve, route, tcp, tunnels, web
from agent.check.context import CHECK_BUDGET, Context, Options
from agent.check.result import Findings, Result, failed
from agent.check.seen import Diagnosis
from agent.errors import AccessError, DvsumError
from agent.inputs import Inputs
from agent.up import plan_for

LOG = logging.getLogger(__name__)

Check = Callable[[], Findings]


@dataclass(frozen=True)
class Report:
    started: str  # UTC, ISO 8601
    seconds: float
    results: tuple[Result, ...]
    diagnoses: tuple[Diagnosis, ...]
    facts: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def first_failure(self) -> str | None:
        return next((r.name for r in self.results if not r.ok), None)


def context(inputs: Inputs, options: Options) -> Context:
    with Netlink() as netlink:
        plan = plan_for(inputs, netlink)
    return Context(inputs.config, plan, options)


def run(ctx: Context) -> Report:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.monotonic()
    first = _phase({
        "tunnels": functools.partial(tunnels.check, ctx),
        "route": functools.partial(route.check, ctx),
        "dns": functools.partial(resolve.check, ctx),
    })  # fmt: skip
    resolved = _resolved(first["dns"])
    endpoints = [(n, ctx.expected.get(n) or resolved.get(n)) for n in ctx.names]
    before = _counters(ctx)
    second = _phase({
        "tcp": functools.partial(_tcp, endpoints),
        "mtu": functools.partial(_mtu, ctx, endpoints),
        "tls": functools.partial(_web, web.tls_items, ctx, resolved, "verified"),
        "https": functools.partial(_web, web.health_items, ctx, resolved, "200 OK"),
        "websocket": functools.partial(
            _web, web.websocket_items, ctx, resolved, "reached the server"
        ),
    })  # fmt: skip
    after = _counters(ctx)
    results = tuple({**first, **second}[name] for name in diagnosis.ORDER)
    facts = _facts(ctx, first["tunnels"], _delta(before, after))
    return Report(
        started=started,
        seconds=time.monotonic() - start,
        results=results,
        diagnoses=diagnosis.diagnose(results, facts),
        facts=facts,
    )


def _phase(checks: Mapping[str, Check]) -> dict[str, Result]:
    names = list(checks)
    outcomes = bounded.call_all(
        [functools.partial(_timed, name, checks[name]) for name in names],
        CHECK_BUDGET,
    )
    out = {}
    for name, outcome in zip(names, outcomes, strict=True):
        if outcome.done and outcome.value is not None:
            out[name] = outcome.value
        elif not outcome.done:
            item = failed(name, "check_timeout",
                          f"no result within {CHECK_BUDGET:g} s")  # fmt: skip
            out[name] = Result(name, (item,), item.detail, CHECK_BUDGET)
        else:
            out[name] = _crashed(name, outcome.error)
    return out


def _timed(name: str, check: Check) -> Result:
    start = time.monotonic()
    try:
        found = check()
    except BaseException as err:
        result = _crashed(name, err)
        return Result(name, result.items, result.summary, time.monotonic() - start)
    return Result(name, found.items, found.summary, time.monotonic() - start,
                  found.facts)  # fmt: skip


def _crashed(name: str, error: BaseException | None) -> Result:
    if isinstance(error, AccessError):
        item = failed(name, "not_permitted", str(error))
    elif isinstance(error, DvsumError):
        item = failed(name, "error", str(error))
    else:
        LOG.error("check %s: unexpected error (a bug)", name, exc_info=error)
        item = failed(name, "bug", f"unexpected error (a bug): {error!r}")
    return Result(name, (item,), item.detail, 0.0)


# -- phase two's checks, on phase one's addresses ------------------------------


def _resolved(dns: Result) -> dict[str, IPv4Address]:
    """What the system resolver gave for each name."""
    return {
        item.facts["name"]: IPv4Address(item.facts["address"])
        for item in dns.items
        if item.facts.get("via") == "system" and item.facts.get("address")
    }


def _summary(items: list[Any], word: str) -> str:
    bad = [i for i in items if not i.ok]
    if bad:
        return "; ".join(i.detail for i in bad)
    return f"{len(items)} of {len(items)} {word}"


def _tcp(endpoints: list[tuple[str, IPv4Address | None]]) -> Findings:
    known = [(n, a) for n, a in endpoints if a is not None]
    items = tcp.probe(known) + [
        failed(n, "no_address", f"{n}: no private address known", name=n)
        for n, a in endpoints
        if a is None
    ]
    return Findings(tuple(items), _summary(items, "open"))


def _mtu(ctx: Context, endpoints: list[tuple[str, IPv4Address | None]]) -> Findings:
    known = [(n, a) for n, a in endpoints if a is not None]
    if not known:
        item = failed("mtu", "no_address", "no service address to probe")
        return Findings((item,), item.detail)
    name, address = known[0]
    item = mtu.probe(name, address, ctx.plan.route.mtu, ctx.options.ca_file)
    return Findings((item,), item.detail)


def _web(
    items_for: Callable[..., list[Any]],
    ctx: Context,
    resolved: dict[str, IPv4Address],
    word: str,
) -> Findings:
    targets = [(n, resolved.get(n)) for n in ctx.names]
    items = items_for(targets, ctx.options.ca_file)
    return Findings(tuple(items), _summary(items, word))


# -- run-wide facts --------------------------------------------------------------


def _counters(ctx: Context) -> dict[str, dict[str, int]] | None:
    outcome = bounded.call(functools.partial(tunnels.snapshot, ctx), 1.0)
    return outcome.value if outcome.done else None


def _delta(
    before: dict[str, dict[str, int]] | None, after: dict[str, dict[str, int]] | None
) -> dict[str, dict[str, int]]:
    """Bytes each tunnel moved between the snapshots (same SA only)."""
    if not before or not after:
        return {}
    out = {}
    for name, now in after.items():
        then = before.get(name)
        if then is None or then["sa"] != now["sa"] or not now["sa"]:
            continue
        out[name] = {key: now[key] - then[key] for key in now if key != "sa"}
    return out


def _facts(
    ctx: Context, tunnels_result: Result, counters: dict[str, dict[str, int]]
) -> dict[str, Any]:
    plan = ctx.plan
    return {
        "customer_cidr": str(ctx.config.customer_cidr),
        "landing_zone": str(ctx.config.landing_zone),
        "data_plane": plan.data_plane,
        "libipsec": plan.libipsec,
        "local_id": str(plan.local_id),
        "dns_mode": ctx.config.dns.mode,
        "tunnels": [
            {
                "name": t.name,
                "role": t.role,
                "aws_outside_address": str(t.tunnel.aws_outside_address),
            }
            for t in plan.tunnels
        ],
        "charon_version": tunnels_result.facts.get("charon_version"),
        "counters": counters,
    }
