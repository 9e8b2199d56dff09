"""``make demo``: the main job end to end on the lab's embedded default.

Builds the lab, imports the AWS file it wrote (PSKs from their own file),
starts charon in the customer gateway namespace with the agent's drop-in,
runs ``dvsum-vpn up`` there and fetches https://apis.dvsum.ai/health-check
by name through the tunnel, verified against the lab CA.  Then it takes
everything down again, unless KEEP=1 (``make demo-down`` removes it later).
Every command it runs is printed first, so the demo reads as a how-to.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.lab.agent_run import COMMAND, REPO
from tests.lab.fixture import host_problems
from tests.lab.lab import DEFAULT_PREFIX, DEFAULT_ROOT, Lab


def _run(argv: list[str], timeout: float = 90.0) -> int:
    shown = list(argv)
    for start in range(len(argv)):
        if argv[start : start + len(COMMAND)] == COMMAND:
            shown[start : start + len(COMMAND)] = ["dvsum-vpn"]
            break
    print(f"\n$ {shlex.join(shown)}", flush=True)
    return subprocess.run(argv, timeout=timeout, cwd=REPO, check=False).returncode


def _in_gateway(lab: Lab, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", lab.ns("cgw"), *argv]


def demo(lab: Lab) -> int:
    print(f"== building the lab (namespaces {lab.prefix}*, root {lab.root})")
    lab.up()
    print(f"lab up in {lab.up_seconds:.2f} s")
    config = ["--config", str(lab.config_yaml)]
    agent = [*COMMAND, *config]

    print("\n== importing the AWS configuration file the lab wrote")
    code = _run(
        _in_gateway(lab, [*agent, "import", str(lab.aws_xml),
                          "--psk-file", str(lab.psk_txt), "--json"])
    )  # fmt: skip
    if code:
        return code

    print("\n== starting charon in the gateway namespace (reads the drop-in)")
    lab.start_customer_charon()

    print("\n== bringing both tunnels up")
    start = time.monotonic()
    code = _run(_in_gateway(lab, [*agent, "up", "--timeout", "45"]))
    print(f"(up took {time.monotonic() - start:.1f} s)")
    if code:
        return code

    print("\n== the guide's health check, by name, through the tunnel")
    code = _run(
        _in_gateway(lab, ["curl", "-sS", "--max-time", "5", "--cacert",
                          str(lab.ca_pem), "https://apis.dvsum.ai/health-check"])
    )  # fmt: skip
    print()
    if code:
        return code
    _run(_in_gateway(lab, ["getent", "hosts", "apis.dvsum.ai"]))
    _run(_in_gateway(lab, ["ip", "route", "get", "10.0.151.182"]))
    return _run(_in_gateway(lab, [*agent, "status"]))


def teardown(lab: Lab) -> None:
    print("\n== taking everything down")
    if lab.config_yaml.exists() and lab.customer_charon_alive():
        _run(_in_gateway(lab, [*COMMAND, "--config", str(lab.config_yaml), "down"]))
    lab.down()
    print("lab removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.demo")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--down", action="store_true", help="only take it down")
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("KEEP") == "1",
        help="leave the lab running (KEEP=1)",
    )
    args = parser.parse_args(argv)
    problems = host_problems()
    if problems:
        print("the demo cannot run here:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    lab = Lab(args.root, prefix=args.prefix)
    if args.down:
        teardown(lab)
        return 0
    code = 1
    try:
        code = demo(lab)
    finally:
        if args.keep and code == 0:
            print(
                f"\nthe lab stays up (KEEP=1); `make demo-down` removes it.\n"
                f"try: ip netns exec {lab.ns('cgw')} "
                f"{REPO}/.venv/bin/dvsum-vpn --config {lab.config_yaml} status"
            )
        else:
            teardown(lab)
    print("\ndemo: " + ("OK" if code == 0 else f"FAILED (exit {code})"))
    return code


if __name__ == "__main__":
    sys.exit(main())
