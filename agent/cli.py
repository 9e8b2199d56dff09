"""The ``dvsum-vpn`` command: one line per error, documented exit codes.

Exit codes: 0 success; 1 unexpected error (a bug: a traceback goes to the
log); 2 bad input or config; 3 charon or the network not ready; 4 not
permitted (run as root); 5 a change to the machine failed; 6 the tunnels
are not both established (up: within --timeout; status: now; prefer: the
chosen one).  ``check`` exits 1 when any of its checks fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import __version__, importer, info, info_text, inputs, logs
from agent import config as config_mod
from agent.check import command as check_command
from agent.errors import AccessError, DvsumError, InputError, TransientError

LOG = logging.getLogger("agent")

EXIT_NOT_ESTABLISHED = 6

# Commands that talk to charon or change the machine.
NEEDS_ROOT = frozenset({"up", "down", "status", "prefer", "render", "run"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.setup(args.verbose)
    try:
        if args.command in NEEDS_ROOT and os.geteuid() != 0:
            raise AccessError(f"{args.command}: run as root")
        return int(args.func(args))
    except InputError as err:
        for line in err.lines():
            print(f"dvsum-vpn: {line}", file=sys.stderr)
        return err.exit_code
    except DvsumError as err:
        print(f"dvsum-vpn: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception:
        LOG.exception("unexpected error; please report it with this traceback")
        print(
            "dvsum-vpn: unexpected error (a bug); the traceback is above or in "
            "`journalctl -t dvsum-vpn`",
            file=sys.stderr,
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dvsum-vpn",
        description="The customer end of DvSum's AWS Site-to-Site VPN.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"config file (default ${config_mod.CONFIG_ENV} or "
        f"{config_mod.DEFAULT_PATH})",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log detail"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("import", help="validate an AWS VPN file and its PSKs")
    p.add_argument("file", type=Path, help="the AWS configuration file")
    p.add_argument("--psk-file", type=Path, help="PSKs: 'ADDRESS: KEY' per line")
    p.add_argument("--customer-cidr", help="your network, when creating config.yaml")
    p.add_argument("--dry-run", action="store_true", help="validate, write nothing")
    p.add_argument("--json", action="store_true", help="print the connection as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("render", help="write what `up` would write under DIR")
    p.add_argument("--root", type=Path, required=True, help="target directory")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("up", help="bring both tunnels up and route through them")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    p.add_argument("--no-wait", action="store_true", help="do not wait for SAs")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("run", help="the daemon: keep both tunnels up, fail over")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="tunnel states and who carries traffic")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("check", help="the guide's connectivity tests, with causes")
    check_command.add_arguments(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("prefer", help="move traffic to tunnel 1 or 2, or auto")
    p.add_argument("tunnel", choices=("1", "2", "auto"))
    p.set_defaults(func=cmd_prefer)

    p = sub.add_parser("down", help="remove everything the agent made")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    c = csub.add_parser("check", help="validate config.yaml and its files")
    c.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="config file to check"
    )
    c.add_argument("--json", action="store_true", help="print the findings as JSON")
    c.set_defaults(func=cmd_config_check)

    p = sub.add_parser("info", help="what DvSum asks you to send before setup")
    info.add_arguments(p)
    p.set_defaults(func=cmd_info)
    return parser


def _config_path(args: argparse.Namespace) -> Path:
    return args.config or config_mod.default_path()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False))


def cmd_import(args: argparse.Namespace) -> int:
    result = importer.run(
        args.file, args.psk_file, _config_path(args), args.customer_cidr, args.dry_run
    )
    if args.json:
        _print_json(result.connection.public())
    else:
        for tunnel in result.connection.by_address():
            _say(
                f"tunnel {tunnel.aws_outside_address}: inside "
                f"{tunnel.customer_inside_cidr} <-> {tunnel.aws_inside_address}"
            )
    for path in result.written:
        _say(f"wrote {path}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from agent import render_root

    loaded = inputs.load(_config_path(args))
    for path in render_root.write(loaded, args.root, _say):
        _say(f"wrote {path}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from agent import status, up

    loaded = inputs.load(_config_path(args))
    outcome = up.up(loaded, args.timeout, _say, wait=not args.no_wait)
    data = status.collect(loaded)
    if args.json:
        _print_json(data)
    else:
        print(status.format_text(data))
    if outcome.pending and not args.no_wait:
        _say(
            f"dvsum-vpn: not established after {args.timeout:g} s: "
            f"{', '.join(outcome.pending)} (see `dvsum-vpn status`)"
        )
        return EXIT_NOT_ESTABLISHED
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from agent.supervise.daemon import Daemon

    if args.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
    logs.timestamps()
    return Daemon(_config_path(args)).run()


def cmd_status(args: argparse.Namespace) -> int:
    from agent import status

    data = status.collect(inputs.load(_config_path(args)))
    if args.json:
        _print_json(data)
    else:
        print(status.format_text(data))
    healthy = data["route"]["present"] and all(
        t["child_state"] == "INSTALLED" for t in data["tunnels"]
    )
    return 0 if healthy else EXIT_NOT_ESTABLISHED


def cmd_check(args: argparse.Namespace) -> int:
    return check_command.run(inputs.load(_config_path(args)), args)


def cmd_prefer(args: argparse.Namespace) -> int:
    from agent import prefer, status

    loaded = inputs.load(_config_path(args))
    number = None if args.tunnel == "auto" else int(args.tunnel)
    prefer.prefer(loaded, number, _say)
    print(status.format_text(status.collect(loaded)))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from agent import down
    from agent.supervise import presence

    config = config_mod.load(_config_path(args))
    pid = presence.running(config.paths.run_dir)
    if pid is not None:
        raise TransientError(
            f"down: dvsum-vpn run (pid {pid}) is running and would put everything "
            "back; stop it first: systemctl stop dvsum-vpn"
        )
    failures = down.down(config, _say)
    # Each failure was logged; the exit code is the first one's (3 when
    # charon was not there, 5 when a change failed).
    return failures[0].exit_code if failures else 0


def cmd_config_check(args: argparse.Namespace) -> int:
    from agent import config_check

    report = config_check.check(_config_path(args))
    if args.json:
        _print_json(report.public())
    else:
        for where, message in report.warnings:
            LOG.warning("%s: %s", where, message)
        for where, message in report.errors:
            _say(f"dvsum-vpn: {where}: {message}" if where else f"dvsum-vpn: {message}")
        if report.ok:
            _say(f"{report.config}: ok")
    return 0 if report.ok else InputError.exit_code


def cmd_info(args: argparse.Namespace) -> int:
    facts = info.collect(_config_path(args), info.Given.from_args(args))
    if args.json:
        _print_json(facts.public())
    else:
        print(info_text.format_text(facts))
    return 0
