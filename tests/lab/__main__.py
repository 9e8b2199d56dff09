"""`python -m tests.lab up|down|status [--root DIR] [--prefix P]`.

up builds the lab and leaves it running (down removes it); status says
which namespaces and daemons are there and which tunnel the landing zone
returns through. Exit status: 0 on success (status: the lab is complete),
1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tests.lab.commands import LabError
from tests.lab.fixture import host_problems
from tests.lab.lab import DEFAULT_PREFIX, DEFAULT_ROOT, Lab

LOG = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="lab: %(message)s",
    )
    problems = host_problems()
    if problems:
        print("the lab cannot run here:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    lab = Lab(args.root, prefix=args.prefix)
    try:
        if args.command == "up":
            return _up(lab)
        if args.command == "down":
            lab.down()
            return 0
        return _status(lab)
    except LabError as exc:
        print(f"lab {args.command} failed: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):
            print(note, file=sys.stderr)
        return 1


def _up(lab: Lab) -> int:
    lab.up()
    print(f"lab up in {lab.up_seconds:.2f} s, root {lab.root}")
    print(f"  AWS file:        {lab.aws_xml}")
    print(f"  PSK file:        {lab.psk_txt}")
    print(f"  agent config:    {lab.config_yaml}")
    print(f"  lab CA:          {lab.ca_pem}")
    print(f"  gateway:         ip netns exec {lab.ns('cgw')} ...")
    print(f"  customer charon: {lab.customer.conf} (not started)")
    print(f"  down:            python -m tests.lab down --root {lab.root}")
    return 0


def _status(lab: Lab) -> int:
    namespaces = lab.namespaces()
    alive = lab.daemons_alive() if lab.root.is_dir() else {}
    for name, present in namespaces.items():
        print(f"namespace {name:12} {'present' if present else 'missing'}")
    for name, up in alive.items():
        print(f"daemon    {name:24} {'alive' if up else 'not running'}")
    tunnel = lab.return_tunnel() if namespaces[lab.ns("lz")] else None
    print(f"return tunnel: {tunnel if tunnel else 'none'}")
    if not any(namespaces.values()) and not lab.root.exists():
        print(f"no lab at {lab.root} (prefix {lab.prefix})")
    alive.pop("cgw/charon", None)
    complete = all(namespaces.values()) and bool(alive) and all(alive.values())
    return 0 if complete and tunnel else 1


if __name__ == "__main__":
    sys.exit(main())
