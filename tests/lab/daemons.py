"""Background daemons inside lab namespaces, each with a private /run.

A daemon is started as `ip netns exec NS unshare --mount sh -c SCRIPT` where
SCRIPT mounts a tmpfs over /run and then execs the daemon, so the pid that
Popen returns is the daemon's own pid. The private /run keeps pid files and
default sockets of several charons apart (shared/notes/lab-facts.md). When
the lab root itself lies under /run it is bound back in first.

The pid goes to a pid file in the lab tree, so a fresh process (the CLI's
`down`) can find and stop the daemon; a pid is only signalled after
/proc/PID shows it mentions the lab root, so a recycled pid is never hit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.lab import netns
from tests.lab.commands import LabError

LOG = logging.getLogger(__name__)

# $1: the lab root when it lies under /run ("" otherwise); the rest: argv.
PRIVATE_RUN = r"""
set -e
keep=$1; shift
if [ -n "$keep" ]; then mount --rbind /run /mnt; fi
mount -t tmpfs -o mode=0755 lab-run /run
if [ -n "$keep" ]; then
    mkdir -p "/run/$keep"
    mount --rbind "/mnt/$keep" "/run/$keep"
    umount -l /mnt
fi
exec "$@"
"""

STOP_TIMEOUT = 10.0


class Daemons:
    """Starts and stops the lab's daemons; remembers the Popen of each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._procs: dict[Path, subprocess.Popen[bytes]] = {}

    def start(
        self,
        ns: str,
        pidfile: Path,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
    ) -> int:
        """Start argv in namespace ns (full name); return its pid.

        Its stdout and stderr go to PIDFILE with suffix .out.
        """
        if self.alive(pidfile):
            raise LabError(f"{argv[0]} already running (pid file {pidfile})")
        keep = _under_run(self.root)
        full = [
            "ip", "netns", "exec", ns,
            "unshare", "--mount", "--propagation", "private",
            "sh", "-c", PRIVATE_RUN, "lab-run", keep, *argv,
        ]  # fmt: skip
        out = pidfile.with_suffix(".out")
        with out.open("ab") as log:
            proc = subprocess.Popen(
                full,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self._procs[pidfile] = proc
        pidfile.write_text(f"{proc.pid}\n")
        LOG.info("started %s in %s: pid %d", argv[0], ns, proc.pid)
        return proc.pid

    def pid(self, pidfile: Path) -> int | None:
        """The pid recorded in pidfile, if that process is ours and alive."""
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if not netns.process_alive(pid):
            return None
        proc = self._procs.get(pidfile)
        if proc is not None and proc.pid == pid:
            # Started by this object: its own handle says whether it runs.
            # (/proc/PID/cmdline and environ read empty while the process is
            # between exec()s of ip -> unshare -> sh -> daemon.)
            return pid if proc.poll() is None else None
        if not _mentions_root(pid, self.root):
            LOG.warning("pid %d from %s is not the lab's; ignoring", pid, pidfile)
            return None
        return pid

    def alive(self, pidfile: Path) -> bool:
        return self.pid(pidfile) is not None

    def exit_status(self, pidfile: Path) -> int | None:
        """The exit status of a daemon this object started, once it exited."""
        proc = self._procs.get(pidfile)
        return None if proc is None else proc.poll()

    def stop(self, pidfile: Path, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM the daemon, SIGKILL it after timeout; remove the pid file."""
        pid = self.pid(pidfile)
        if pid is not None:
            terminate([pid], timeout)
        proc = self._procs.pop(pidfile, None)
        if proc is not None:
            _wait(proc)
        pidfile.unlink(missing_ok=True)

    def forget_all(self) -> None:
        """Reap every daemon this object started (after they were killed)."""
        for proc in self._procs.values():
            _wait(proc)
        self._procs.clear()


def _mentions_root(pid: int, root: Path, tries: int = 5) -> bool:
    """Whether pid's command line or environment names the lab root; retried
    because both read empty for an instant while the process exec()s."""
    for _ in range(tries):
        if netns.process_mentions(pid, str(root)):
            return True
        time.sleep(0.02)
    return False


def terminate(pids: list[int], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM pids, wait until all are gone, SIGKILL the rest."""
    _signal(pids, signal.SIGTERM)
    if _wait_gone(pids, timeout):
        return
    left = [pid for pid in pids if netns.process_alive(pid)]
    LOG.warning("pids %s ignored SIGTERM for %g s; killing", left, timeout)
    _signal(left, signal.SIGKILL)
    if not _wait_gone(left, 5.0):
        raise LabError(f"processes {left} survived SIGKILL")


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        for pid in pids:
            netns.reap(pid)
        if not any(netns.process_alive(pid) for pid in pids):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _wait(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        LOG.warning("pid %d still running; killing it", proc.pid)
        proc.kill()
        proc.wait(timeout=5.0)


def _under_run(root: Path) -> str:
    """The lab root relative to /run if it lies there (see PRIVATE_RUN)."""
    resolved = root.resolve()
    run = Path("/run")
    if resolved == run:
        raise LabError("the lab root cannot be /run itself")
    if resolved.is_relative_to(run):
        return str(resolved.relative_to(run))
    return ""
