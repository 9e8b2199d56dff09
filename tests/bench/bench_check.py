"""``make bench``: how long ``dvsum-vpn check`` takes, healthy and faulty.

In the lab, with both tunnels up: the healthy run's wall time from exec to
exit (``--trials`` times), then each fault of tests/lab/faults.py once,
printing the run's wall time, the first failing check, what it found, and
the slowest check of the run.  Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.lab import faults
from tests.lab.agent_run import agent, bring_up, take_down
from tests.lab.lab import Lab

Fault = Callable[[Lab], contextlib.AbstractContextManager[Any]]


@contextlib.contextmanager
def _primary_down(lab: Lab) -> Any:
    lab.set_return_tunnel(2)  # AWS replies on the tunnel that is up
    try:
        with faults.tunnel_down(lab, 1):
            yield
    finally:
        lab.set_return_tunnel(1)


FAULTS: list[tuple[str, Fault]] = [
    ("one tunnel down", _primary_down),
    ("both tunnels down", lambda lab: faults.tunnel_down(lab, 1, 2)),
    ("route deleted", faults.route_deleted),
    ("names resolve to public", faults.names_public),
    ("wrong PSK", lambda lab: faults.wrong_psk(lab, 2)),
    ("path MTU 1400, ICMP dropped", faults.path_mtu),
    ("a service down", lambda lab: faults.service_down(lab, "s3-storage.dvsum.ai")),
    ("WebSocket refusing", faults.websocket_refuses),
]


def _check(lab: Lab) -> tuple[float, dict[str, Any]]:
    start = time.monotonic()
    done = agent(lab, "check", "--json", "--ca-file", str(lab.ca_pem), timeout=60)
    seconds = time.monotonic() - start
    if not done.stdout:
        raise SystemExit(f"bench: check printed nothing:\n{done.stderr}")
    return seconds, json.loads(done.stdout)


def _recover(lab: Lab) -> None:
    done = agent(lab, "up", "--timeout", "20")
    if done.returncode != 0:
        raise SystemExit(f"bench: up after a fault failed:\n{done.stderr}")


def _first(report: dict[str, Any]) -> tuple[str, str]:
    name = report["first_failure"] or "-"
    for check in report["checks"]:
        if check["name"] == name:
            kinds = sorted({i["kind"] for i in check["items"] if not i["ok"]})
            return name, ",".join(kinds)
    return name, "-"


def _slowest(report: dict[str, Any], failing: bool) -> tuple[str, float]:
    checks = [c for c in report["checks"] if not c["ok"]] if failing else (
        report["checks"])  # fmt: skip
    if not checks:
        return "-", 0.0
    slowest = max(checks, key=lambda c: c["seconds"])
    return slowest["name"], float(slowest["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_check")
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dvsum-vpn-bench-"))
    lab = Lab(root, prefix=os.environ.get("DVSUM_LAB_PREFIX", "dvb-"))
    healthy: list[float] = []
    inside: list[float] = []
    rows = []
    try:
        lab.up()
        if bring_up(lab).returncode != 0:
            raise SystemExit("bench: up failed")
        for _ in range(args.trials):
            seconds, report = _check(lab)
            if not report["ok"]:
                raise SystemExit(f"bench: healthy check failed: {_first(report)}")
            healthy.append(seconds)
            inside.append(report["seconds"])
        for name, fault in FAULTS:
            with fault(lab):
                seconds, report = _check(lab)
            rows.append((name, seconds, _first(report), _slowest(report, True)))
            _recover(lab)
        take_down(lab)
    finally:
        lab.down()
    print(f"dvsum-vpn check, lab, kernel-libipsec ({args.trials} healthy trials)")
    print(
        f"healthy run, exec to exit     p50 {statistics.median(healthy):6.2f} s   "
        f"max {max(healthy):6.2f} s   (checks alone: p50 "
        f"{statistics.median(inside):.2f} s)"
    )
    print(f"{'fault':30} {'run':>7}  {'first failing check':32} slowest failing")
    for name, seconds, (check, kinds), (slow, slow_s) in rows:
        print(
            f"{name:30} {seconds:5.2f} s  {check + ' (' + kinds + ')':32} "
            f"{slow} {slow_s:.2f} s"
        )
    worst = max(rows, key=lambda r: r[3][1])
    print(
        f"slowest failing check: {worst[3][1]:.2f} s ({worst[3][0]}, "
        f"fault: {worst[0]}); slowest faulty run: {max(r[1] for r in rows):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
