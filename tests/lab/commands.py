"""Running the lab's commands: on the host, or inside a lab namespace.

Every failure raises LabError with the command and what it printed, so a
failing test shows why without re-running anything.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class LabError(RuntimeError):
    """A lab step failed; the message says which and what it printed."""


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv, capture its output as text; raise LabError if check fails."""
    cmd = list(argv)
    LOG.debug("run: %s", shlex.join(cmd))
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(
            f"timed out after {timeout:g} s: {shlex.join(cmd)}\n"
            f"{_text(exc.stdout)}{_text(exc.stderr)}"
        ) from exc
    except FileNotFoundError as exc:
        raise LabError(f"command not found: {cmd[0]}") from exc
    if check and done.returncode != 0:
        raise LabError(
            f"exit {done.returncode}: {shlex.join(cmd)}\n"
            f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()}"
        )
    return done


def ns_argv(ns: str, argv: Sequence[str]) -> list[str]:
    """argv run inside network namespace ns (full name)."""
    return ["ip", "netns", "exec", ns, *argv]


def ns_run(
    ns: str,
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """run() inside network namespace ns (full name)."""
    return run(ns_argv(ns, argv), check=check, timeout=timeout, input_text=input_text)


def ip_batch(ns: str | None, lines: Sequence[str]) -> None:
    """Run many `ip` commands in one process (`ip -batch -`), in ns if given."""
    argv = ["ip", "-n", ns, "-batch", "-"] if ns else ["ip", "-batch", "-"]
    run(argv, input_text="\n".join(lines) + "\n")


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value
