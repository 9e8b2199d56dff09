"""Whether ``dvsum-vpn run`` is running: its pid in supervisor.json.

``down`` asks first: with the daemon running, whatever ``down`` removes
would be put back within a second.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO

from agent.errors import TransientError

STATUS_FILE = "supervisor.json"
LOCK_FILE = "supervisor.lock"


def running(run_dir: Path) -> int | None:
    """The daemon's pid when a live ``dvsum-vpn run`` wrote the status file."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text())
        pid = int(data["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or b"run" not in cmdline:
        return None
    return pid


def claim(run_dir: Path) -> IO[bytes]:
    """Hold the supervisor's lock for as long as the returned file is open;
    a second ``dvsum-vpn run`` is refused (two would fight over every
    route and SA)."""
    run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    handle = (run_dir / LOCK_FILE).open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as err:
        handle.close()
        pid = running(run_dir)
        who = f" (pid {pid})" if pid else ""
        raise TransientError(
            f"run: another dvsum-vpn run{who} holds {run_dir / LOCK_FILE}; "
            "one supervisor per machine"
        ) from err
    return handle
