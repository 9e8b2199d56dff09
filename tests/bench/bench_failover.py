"""``make bench``: outages under failure, with the agent and without it.

Two labs run side by side, each with its own AWS side:

- ``agent``: ``dvsum-vpn run`` supervises the tunnels (defaults, except a
  5 s failback hold-down so trials do not wait a minute each);
- ``strongswan``: the same swanctl and charon settings loaded once by
  ``dvsum-vpn up``, then charon alone (DPD 10 s, dpd_action restart,
  retransmissions giving up after 3 tries): the plain strongSwan baseline.

A ticker on the customer LAN opens a TCP connection to apis.dvsum.ai's
private address every 200 ms through the tunnel; a trial's outage is its
longest run of failed probes, from the first failure to the next success.
AWS's return path follows its own SAs as AWS's does (tests/lab/aws_router).
Numbers, not assertions: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.lab import outages
from tests.lab.agent_run import agent, import_lab_file, take_down
from tests.lab.aws_router import ReturnPath, _installed
from tests.lab.lab import Lab
from tests.lab.supervisor_run import Supervisor
from tests.lab.ticker import Ticks
from tests.lab.ticker import outages as outage_runs

TICK = 0.2
STOP = threading.Event()  # Ctrl-C: finish the current trial, clean up
LIMIT = 120.0  # the longest a trial waits for traffic to come back

SCENARIOS = {
    "blackhole-other": "active tunnel blackholed, AWS replies on the other",
    "blackhole-dead": "active tunnel blackholed, AWS replies on the dead one",
    "endpoint-restart": "AWS endpoint restarts without state (down 3 s)",
    "clean-delete": "AWS deletes the active tunnel (IKE delete)",
}


class Side:
    def __init__(self, kind: str, root: Path, prefix: str, say: Callable[[str], None]):
        self.kind = kind
        self.lab = Lab(root, prefix=prefix)
        self.say = say
        self.supervisor: Supervisor | None = None
        self.ticks: Ticks | None = None
        self.router: ReturnPath | None = None
        self.results: dict[str, list[float]] = {name: [] for name in SCENARIOS}
        self.failback_lost: list[int] = []
        self.repairs: dict[str, list[float]] = {"route": [], "hosts": []}
        self.footprint: dict[str, float] = {}

    # -- life cycle ------------------------------------------------------------

    def up(self) -> None:
        lab = self.lab
        lab.up()
        if import_lab_file(lab).returncode != 0:
            raise SystemExit(f"bench {self.kind}: import failed")
        lab.config_yaml.write_text(
            lab.config_yaml.read_text() + "supervise:\n  hold_down: 5\n"
        )
        lab.start_customer_charon()
        if self.kind == "agent":
            self.supervisor = Supervisor(lab, "bench-supervisor")
            self.supervisor.start()
            if not self.supervisor.wait_ready(60):
                raise SystemExit(f"bench agent: not ready\n{self.supervisor.log()}")
        else:
            done = agent(lab, "up", "--timeout", "60")
            if done.returncode != 0:
                raise SystemExit(f"bench strongswan: up failed\n{done.stderr}")
        service = str(lab.addresses.services["apis.dvsum.ai"])
        self.ticks = Ticks(lab.ns("lan"), service, interval=TICK)
        self.router = ReturnPath(lab)
        self.router.start()
        self.steady()

    def down(self) -> None:
        if self.router is not None:
            self.router.__exit__()
        if self.ticks is not None:
            self.ticks.close()
        if self.supervisor is not None:
            self.supervisor.close()
        for number in (1, 2):
            outages.restore(self.lab, number)
        take_down(self.lab)
        self.lab.down()

    def steady(self, timeout: float = 180.0) -> None:
        """Both tunnels up on both sides, traffic on tunnel 1, flowing."""
        lab = self.lab

        def ready() -> bool:
            if not (_installed(lab, 1) and _installed(lab, 2)):
                return False
            if self.supervisor is not None and not _agent_settled(lab):
                return False
            if self.supervisor is None and not _carried_by_tunnel1(lab):
                return False
            # Only now, with our side of tunnel 1 up again, may AWS move its
            # replies back to it (its old SA there may be a stale one).
            if lab.return_tunnel() != 1:
                lab.set_return_tunnel(1)
                return False
            return self._flowing(since=time.monotonic() - 1.0)

        if not outages.wait_for(ready, timeout, step=0.5):
            raise SystemExit(f"bench {self.kind}: no steady state\n{lab.log_tails()}")

    def _flowing(self, since: float) -> bool:
        assert self.ticks is not None
        recent = self.ticks.since(since)
        return len(recent) >= 3 and all(ok for _, ok in recent[-3:])

    # -- trials ------------------------------------------------------------------

    def trial(self, scenario: str) -> float:
        lab = self.lab
        assert self.ticks is not None
        if scenario == "blackhole-other":
            lab.set_return_tunnel(2)
            time.sleep(1.0)
        start = time.monotonic()
        if scenario.startswith("blackhole"):
            outages.blackhole(lab, 1)
        elif scenario == "endpoint-restart":
            lab.restart_aws_endpoint(1, down_for=3.0)
        else:
            outages.delete_tunnel(lab, 1)
        self._wait_recovered(start, settle=8.0)
        outage = max(outage_runs(self.ticks.since(start)), default=0.0)
        if scenario.startswith("blackhole"):
            outages.restore(lab, 1)
        restored = time.monotonic()
        self.steady()
        if scenario == "blackhole-other" and self.supervisor is not None:
            self.failback_lost.append(self.ticks.lost(restored))
        return outage

    def _wait_recovered(self, start: float, settle: float) -> None:
        """Until ``settle`` seconds passed and traffic flows again."""

        def recovered() -> bool:
            return time.monotonic() - start >= settle and self._flowing(
                since=time.monotonic() - 1.0
            )

        outages.wait_for(recovered, LIMIT, step=0.2)

    def repair_trials(self, trials: int) -> None:
        lab = self.lab
        for _ in range(trials):
            start = time.monotonic()
            lab.exec("cgw", "ip", "route", "del", "10.0.0.0/16")
            outages.wait_for(
                lambda: "10.0.0.0/16" in lab.exec("cgw", "ip", "route").stdout, 10, 0.01
            )
            self.repairs["route"].append(time.monotonic() - start)
            text = lab.hosts.read_text()
            kept = [line for line in text.splitlines(True) if "dvsum" not in line]
            start = time.monotonic()
            lab.hosts.write_text("".join(kept))
            outages.wait_for(lambda: "apis.dvsum.ai" in lab.hosts.read_text(), 10, 0.01)
            self.repairs["hosts"].append(time.monotonic() - start)
            time.sleep(0.5)

    def measure_footprint(self, seconds: float = 20.0) -> None:
        assert self.supervisor is not None and self.supervisor.proc is not None
        pid = self.supervisor.proc.pid
        ticks_per_s = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks_per_s

        before, t0 = cpu(), time.monotonic()
        time.sleep(seconds)
        used, wall = cpu() - before, time.monotonic() - t0
        rss = 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
        self.footprint = {"rss_mb": rss, "idle_cpu_percent": 100 * used / wall}


def _agent_settled(lab: Lab) -> bool:
    try:
        data = json.loads((lab.agent.run_dir / "supervisor.json").read_text())
    except (OSError, ValueError):
        return False
    states = [t["state"] for t in data["tunnels"].values()]
    return data["active"] == 1 and states == ["healthy", "healthy"]


def _carried_by_tunnel1(lab: Lab) -> bool:
    """Plain strongSwan: both CHILD_SAs installed on our side, tunnel 1's
    (the narrow selectors) carrying."""
    done = agent(lab, "status", "--json")
    if done.returncode != 0:
        return False
    data = json.loads(done.stdout)
    installed = all(t["child_state"] == "INSTALLED" for t in data["tunnels"])
    return installed and data.get("active") == "dvsum-tunnel1"


def run_side(side: Side, trials: int, scenarios: list[str]) -> Side:
    try:
        side.up()
        for scenario in scenarios:
            for number in range(1, trials + 1):
                if STOP.is_set():
                    return side
                outage = side.trial(scenario)
                side.results[scenario].append(outage)
                side.say(f"{side.kind}: {scenario} trial {number}: {outage:.1f} s")
        if side.kind == "agent":
            side.repair_trials(trials)
            side.measure_footprint()
    finally:
        side.down()
    return side


def _line(name: str, values: list[float], unit: str = "s") -> str:
    if not values:
        return f"  {name:30} (not measured)"
    return (
        f"  {name:30} p50 {statistics.median(values):6.2f} {unit}  "
        f"max {max(values):6.2f} {unit}  (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_failover")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    scenarios = args.scenario or list(SCENARIOS)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            print(line, file=sys.stderr, flush=True)

    base = Path(tempfile.mkdtemp(prefix="dvsum-vpn-bench-failover-"))
    sides = [
        Side("agent", base / "agent", "dvfa-", say),
        Side("strongswan", base / "strongswan", "dvfs-", say),
    ]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_side, s, args.trials, scenarios) for s in sides]
        try:
            done = [f.result() for f in futures]
        except KeyboardInterrupt:
            STOP.set()
            say("bench: interrupted; finishing the current trials and cleaning up")
            done = [f.result() for f in futures]
    agent_side, plain = done
    took = time.monotonic() - start
    print(
        f"failover outages, lab, kernel-libipsec, probe every {TICK:g} s "
        f"({args.trials} trials each, {took:.0f} s in all)"
    )
    for scenario, title in SCENARIOS.items():
        if scenario not in scenarios:
            continue
        print(title)
        print(_line("with dvsum-vpn run", agent_side.results[scenario]))
        print(_line("plain strongSwan", plain.results[scenario]))
    if agent_side.failback_lost:
        print("failback to the primary after the hold-down (agent)")
        print(f"  probes lost per trial: {agent_side.failback_lost}")
    print("repair by the agent (plain strongSwan never repairs)")
    print(_line("route deleted", agent_side.repairs["route"]))
    print(_line("hosts block removed", agent_side.repairs["hosts"]))
    if agent_side.footprint:
        print(
            f"agent footprint: RSS {agent_side.footprint['rss_mb']:.1f} MB, "
            f"idle CPU {agent_side.footprint['idle_cpu_percent']:.2f} % of one core"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
