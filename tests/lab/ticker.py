"""Traffic through the tunnel as a user sees it: a TCP connect every tick.

Run inside a lab namespace (``python -m tests.lab.ticker ADDRESS PORT
INTERVAL``); prints ``<monotonic start> <1|0>`` per probe, flushed, until
killed.  ``Ticks`` runs it from the LAN host and reads the lines back;
``outages`` turns them into outage lengths.  The probing itself is the
agent's own prober (agent.supervise.probe), with no source binding.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from ipaddress import IPv4Address
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    from agent.supervise.probe import Prober, Result, Target

    address, port, interval = IPv4Address(argv[0]), int(argv[1]), float(argv[2])

    def post(result: Result) -> None:
        print(f"{result.started:.3f} {1 if result.ok else 0}", flush=True)

    prober = Prober(Target(address, port, None), interval, 1.0, post)
    prober.tunnel = 0
    prober.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


class Ticks:
    """A ticker in namespace ``ns``; ``results`` fills as lines arrive."""

    def __init__(self, ns: str, address: str, port: int = 443, interval: float = 0.2):
        self.results: list[tuple[float, bool]] = []
        self._proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.lab.ticker",
             address, str(port), str(interval)],
            stdout=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            started, ok = line.split()
            self.results.append((float(started), ok == "1"))

    def close(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> Ticks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def since(self, start: float) -> list[tuple[float, bool]]:
        return sorted(r for r in self.results if r[0] >= start)

    def lost(self, start: float) -> int:
        return sum(1 for _, ok in self.since(start) if not ok)


def outages(results: list[tuple[float, bool]]) -> list[float]:
    """Each run of failed probes as seconds from its first failure to the
    next success (a run still failing at the end counts to the last probe)."""
    runs, first = [], None
    for started, ok in sorted(results):
        if not ok and first is None:
            first = started
        elif ok and first is not None:
            runs.append(started - first)
            first = None
    if first is not None and results:
        runs.append(max(r[0] for r in results) - first)
    return runs


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
