"""Whether ``dvsum-vpn run`` is running: its pid in supervisor.json.

``down`` asks first: with the daemon running, whatever ``down`` removes
would be put back within a second.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from agent.errors import TransientError

STATUS_FILE = "supervisor.json"
ABSTRACT_NAME = "\0dvsum-vpn-run"


def view(run_dir: Path) -> dict[str, Any]:
    """The status file as the daemon last wrote it; empty without one."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def running(run_dir: Path) -> int | None:
    """The daemon's pid when a live ``dvsum-vpn run`` wrote the status file."""
    try:
        pid = int(view(run_dir)["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or b"run" not in cmdline:
        return None
    return pid


def claim(run_dir: Path) -> socket.socket:
    """Be the one ``dvsum-vpn run`` of this network namespace for as long as
    the returned socket is open; a second one is refused (two would fight
    over every route and SA).  The name is an abstract UNIX socket: it
    belongs to the network namespace, whatever config or run_dir a second
    daemon was given, and vanishes with the process."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(ABSTRACT_NAME)
    except OSError as err:
        sock.close()
        pid = running(run_dir)
        who = f" (pid {pid})" if pid else ""
        raise TransientError(
            f"run: another dvsum-vpn run{who} supervises this machine "
            "(its network namespace); one supervisor only"
        ) from err
    return sock
