"""Whether ``dvsum-vpn run`` is running: its pid in supervisor.json.

``down`` asks first: with the daemon running, whatever ``down`` removes
would be put back within a second.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATUS_FILE = "supervisor.json"


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
