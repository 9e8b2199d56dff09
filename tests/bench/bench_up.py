"""``make bench``: how long ``up`` takes to both tunnels, and its footprint.

Each trial: a fresh charon in the lab's gateway namespace, ``import``,
then ``dvsum-vpn up`` timed from exec to exit (both tunnels ESTABLISHED
with their CHILD_SAs installed), ``up`` again (the no-change path), and
``down``.  Prints p50 and max over the trials, and the peak RSS of the
``up`` process.  Numbers, not assertions: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.lab.agent_run import COMMAND, REPO, import_lab_file, take_down
from tests.lab.lab import Lab


def _timed(lab: Lab, *argv: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one agent command in the gateway."""
    wrapper = (
        "import resource, subprocess, sys, time;"
        "t = time.monotonic();"
        "rc = subprocess.run(sys.argv[1:]).returncode;"
        "print(time.monotonic() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc,"
        " file=sys.stderr)"
    )
    argv_full = [
        "ip", "netns", "exec", lab.ns("cgw"), sys.executable, "-c", wrapper,
        *COMMAND, "--config", str(lab.config_yaml), *argv,
    ]  # fmt: skip
    done = subprocess.run(
        argv_full, capture_output=True, text=True, cwd=REPO, check=False
    )
    seconds, rss, rc = done.stderr.strip().splitlines()[-1].split()
    if rc != "0":
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{done.stderr}")
    return float(seconds), int(rss)


def _report(name: str, values: list[float], unit: str) -> None:
    print(
        f"{name:32} p50 {statistics.median(values):8.2f} {unit}   "
        f"max {max(values):8.2f} {unit}   (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_up")
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dvsum-vpn-bench-"))
    lab = Lab(root, prefix=os.environ.get("DVSUM_LAB_PREFIX", "dvb-"))
    cold, warm, rss = [], [], []
    try:
        lab.up()
        for _ in range(args.trials):
            if import_lab_file(lab).returncode != 0:
                raise SystemExit("bench: import failed")
            lab.start_customer_charon()
            time.sleep(0.3)
            seconds, peak = _timed(lab, "up", "--timeout", "30")
            cold.append(seconds)
            rss.append(peak / 1024)
            seconds, _ = _timed(lab, "up", "--timeout", "30")
            warm.append(seconds)
            take_down(lab)
    finally:
        lab.down()
    print(f"dvsum-vpn up, lab, kernel-libipsec ({args.trials} trials)")
    _report("up: both tunnels installed", cold, "s")
    _report("up again: nothing to change", warm, "s")
    _report("up: peak RSS", rss, "MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
