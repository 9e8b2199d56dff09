"""Run one job script in a fresh VM and collect what it left.

The guest boots the cached image, settles, runs the job from the repository
share with the repository copied to a writable /root/repo (the job's working
directory; DVSUM_VM=1, DVSUM_VM_REPO, DVSUM_VM_OUT, DVSUM_VM_WORKTREE are
set), writes its exit code and logs to the output share and powers off.
The output directory then holds:

    console.log         the serial console (kernel, systemd, the job)
    job.log             what the job printed
    exit-code           the job's exit code
    journal.txt         the guest's journal of the whole boot
    systemd-analyze.txt the guest's boot time as systemd saw it

The result is the job's exit code; 124 when the host's hard timeout killed
qemu, 125 when the guest ended without reporting one (a panic, a failed
boot, a runner error: the console's fatal lines end the run at once).
No qemu outlives run_job().
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.vm.cache import Image
from tests.vm.console import Console, Events
from tests.vm.qemu import Machine

TIMED_OUT = 124
NO_EXIT_CODE = 125
OUT_MARK = ".dvsum-vm-out"
RESULTS = ("console.log", "job.log", "exit-code", "journal.txt",
           "systemd-analyze.txt", "qemu.log", "qemu.cmdline", "job")  # fmt: skip
GUEST_OUT = "/srv/out"
FATAL_GRACE = 3.0


@dataclass(frozen=True)
class Result:
    exit_code: int
    reason: str
    boot_seconds: float | None
    job_seconds: float | None
    total_seconds: float
    out: Path

    def summary(self) -> str:
        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f} s"

        return (
            f"boot {fmt(self.boot_seconds)}, job {fmt(self.job_seconds)}, "
            f"total {fmt(self.total_seconds)}: {self.reason} "
            f"(exit {self.exit_code}; logs in {self.out})"
        )


class RunError(RuntimeError):
    """The run could not be started (bad job path, unusable output dir)."""


def run_job(
    job: Path,
    *,
    image: Image,
    repo: Path,
    out: Path,
    timeout: float,
    memory_mb: int = 2048,
    echo: bool = True,
) -> Result:
    """Boot `image`, run `job` inside, return its exit code and timings."""
    repo = repo.resolve()
    _prepare_out(out)
    guest_job = _guest_job_path(job.resolve(), repo, out)
    machine = Machine(image=image, repo=repo, out=out.resolve(), memory_mb=memory_mb)
    argv = machine.argv(guest_job, epoch=int(time.time()))
    (out / "qemu.cmdline").write_text(" ".join(argv) + "\n")
    with tempfile.TemporaryDirectory(prefix="dvsum-vm-") as tmp:
        return _boot(argv, out, timeout, tmp, echo=echo)


def _boot(
    argv: list[str], out: Path, timeout: float, tmp: str, *, echo: bool
) -> Result:
    start = time.monotonic()
    # qemu keeps -snapshot's overlay in TMPDIR: ours is removed afterwards.
    env = {**os.environ, "TMPDIR": tmp}
    with (out / "qemu.log").open("wb") as qemu_log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=qemu_log, env=env, start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        console = Console(proc.stdout, out / "console.log", echo=echo)
        console.start()
        try:
            timed_out = not _wait(proc, console, start + timeout)
        finally:
            _stop(proc)
        console.join()
    total = time.monotonic() - start
    return _result(console.events, out, start, total, timeout if timed_out else None)


def _wait(proc: subprocess.Popen[bytes], console: Console, deadline: float) -> bool:
    """Wait for qemu to exit, or for a fatal console line (then give the
    guest a moment to finish printing); False when the deadline passed."""
    while proc.poll() is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if console.ended.wait(min(left, 1.0)):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=FATAL_GRACE)
            return True
    return True


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Make sure qemu is gone: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _result(
    events: Events, out: Path, start: float, total: float, timed_out: float | None
) -> Result:
    """timed_out: the timeout that killed qemu, None when it ended by itself."""
    boot = None if events.booted is None else events.booted - start
    job = None
    if events.job_start is not None and events.job_end is not None:
        job = events.job_end - events.job_start
    code = _exit_code(out)
    if code is None:
        code = events.exit_code
    if timed_out is not None:
        reason = f"timed out after {timed_out:g} s; qemu killed"
        code = TIMED_OUT
    elif code is None:
        code = NO_EXIT_CODE
        reason = "the guest ended without an exit code"
        if events.fatal:
            reason += f": {events.fatal}"
    else:
        reason = "job passed" if code == 0 else "job failed"
    return Result(code, reason, boot, job, total, out)


def _exit_code(out: Path) -> int | None:
    try:
        return int((out / "exit-code").read_text().strip())
    except (OSError, ValueError):
        return None


def _prepare_out(out: Path) -> None:
    """An empty output directory; only a previous run's results are removed."""
    out.mkdir(parents=True, exist_ok=True)
    mark = out / OUT_MARK
    if any(out.iterdir()) and not mark.exists():
        raise RunError(f"{out} is not empty and not a VM output directory")
    for name in RESULTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    mark.touch()


def _guest_job_path(job: Path, repo: Path, out: Path) -> str:
    """Where the guest finds the job: in its copy of the repository, or in
    the output share when the script lies outside the repository."""
    if not job.is_file():
        raise RunError(f"no job script {job}")
    if job.is_relative_to(repo):
        path = str(job.relative_to(repo))
    else:
        copied = out / "job" / job.name
        copied.parent.mkdir()
        shutil.copy2(job, copied)
        path = f"{GUEST_OUT}/job/{job.name}"
    if any(c.isspace() for c in path):
        raise RunError(f"the job's path must not contain whitespace: {path}")
    return path
