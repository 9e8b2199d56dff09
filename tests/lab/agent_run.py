"""Run the real ``dvsum-vpn`` command against a lab, as an operator would.

The agent runs inside the customer gateway namespace with the lab's
config.yaml, so every path it writes lies in the lab tree (and the
namespace's own hosts file).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lab.lab import Lab

COMMAND = [sys.executable, "-m", "agent"]
REPO = Path(__file__).resolve().parents[2]


def agent(
    lab: Lab, *argv: str, timeout: float = 90.0
) -> subprocess.CompletedProcess[str]:
    """``dvsum-vpn --config <lab config> ARGV`` in the gateway namespace."""
    return subprocess.run(
        ["ip", "netns", "exec", lab.ns("cgw"), *COMMAND,
         "--config", str(lab.config_yaml), *argv],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False,
    )  # fmt: skip


def import_lab_file(lab: Lab) -> subprocess.CompletedProcess[str]:
    return agent(lab, "import", str(lab.aws_xml), "--psk-file", str(lab.psk_txt))


def bring_up(lab: Lab, timeout: float = 45.0) -> subprocess.CompletedProcess[str]:
    """import, start charon with the agent's drop-in, then ``up``."""
    done = import_lab_file(lab)
    if done.returncode != 0:
        return done
    lab.restart_customer_charon() if lab.customer_charon_alive() else (
        lab.start_customer_charon()
    )
    return agent(lab, "up", "--timeout", str(timeout), "--json")


def take_down(lab: Lab) -> subprocess.CompletedProcess[str]:
    """``down``, then stop charon: the lab is as ``Lab.up()`` left it."""
    done = agent(lab, "down")
    lab.stop_customer_charon()
    for path in (lab.agent.aws_file, lab.agent.psk_file):
        path.unlink(missing_ok=True)
    return done
