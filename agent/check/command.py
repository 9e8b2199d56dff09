"""``dvsum-vpn check [--json] [--report FILE] [--ca-file F] [--no-initiate]``.

Exit status: 0 when every check passes, 1 when any fails (the table, the
JSON and the report say which, why, and what to do).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path

from agent.check.context import Options
from agent.errors import AccessError, InputError
from agent.inputs import Inputs

EXIT_FAILED = 1
REPORT_MODE = 0o644  # no secrets in it; meant to be sent to DvSum


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="also write a text report"
    )
    parser.add_argument(
        "--ca-file", type=Path, metavar="PEM",
        help="CA bundle for the services' certificates (default: system store)",
    )  # fmt: skip
    parser.add_argument(
        "--no-initiate", action="store_true",
        help="do not re-initiate a tunnel that is down to see why",
    )  # fmt: skip


def run(inputs: Inputs, args: argparse.Namespace) -> int:
    from agent.apply import files
    from agent.check import output, runner

    _require_file("--ca-file", args.ca_file)
    if args.report is not None:
        # Refused before the checks run, not after: never a device, a FIFO,
        # a directory or a symbolic link (a report is often aimed at /tmp).
        files.replaceable(args.report, "--report", follow_symlinks=False)
    if os.geteuid() != 0:
        raise AccessError("check: run as root (charon, raw ICMP, the PSK file)")
    options = Options(ca_file=args.ca_file, initiate=not args.no_initiate)
    report = runner.run(runner.context(inputs, options))
    if args.json:
        print(json.dumps(output.public(report), indent=2))
    else:
        print(output.table(report))
    if args.report is not None:
        files.write_atomic(
            args.report, output.report_text(report), REPORT_MODE, field="--report",
            follow_symlinks=False,
        )  # fmt: skip
        print(f"wrote {args.report}", file=sys.stderr)
    return 0 if report.ok else EXIT_FAILED


def _require_file(flag: str, path: Path | None) -> None:
    """A file the flag names must be there: its absence is the operator's
    mistake, not a failed TLS check."""
    if path is None:
        return
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise InputError(f"{flag}: {path}: {err.strerror}") from err
    if not stat.S_ISREG(mode):
        raise InputError(f"{flag}: {path}: not a regular file")
