"""Reading the guest's serial console while the VM runs.

Every line goes to console.log in the output directory. Lines the guest's
runner (tests/vm/guest/run-job) prints as "dvsum-vm: ..." are markers; the
host notes when it saw each, which gives boot and job times on the host's
clock. What the job prints between "job start" and "job exit" is echoed
live unless quiet.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MARKER = "dvsum-vm: "
EXIT_RE = re.compile(r"job exit (\d+)")
# Lines after which the guest can only hang or reboot: the run ends there.
FATAL = (
    "Kernel panic",
    "Target filesystem doesn't have requested",
    "Gave up waiting for root",
    "(initramfs) ",
)


@dataclass
class Events:
    """What the console showed, with host monotonic times."""

    booted: float | None = None
    job_start: float | None = None
    job_end: float | None = None
    exit_code: int | None = None
    fatal: str | None = None
    last_lines: list[str] = field(default_factory=list)


class Console:
    """A thread copying qemu's stdout (the serial console) to a log file."""

    KEEP = 40

    def __init__(self, stream: IO[bytes], log: Path, *, echo: bool) -> None:
        self.events = Events()
        self._stream = stream
        self._log = log
        self._echo = echo
        self._in_job = False
        self._thread = threading.Thread(target=self._pump, daemon=True)
        # Set on a fatal line and when the console closes (qemu exited).
        self.ended = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def _pump(self) -> None:
        with self._log.open("w", encoding="utf-8", errors="replace") as log:
            for raw in iter(self._stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                log.write(line + "\n")
                log.flush()
                self._line(line)
        self.ended.set()

    def _line(self, line: str) -> None:
        now = time.monotonic()
        events = self.events
        events.last_lines = [*events.last_lines[-(self.KEEP - 1) :], line]
        if events.fatal is None and any(text in line for text in FATAL):
            events.fatal = line.strip()
            self.ended.set()
        at = line.find(MARKER)
        if at == -1:
            if self._in_job and self._echo:
                print(line, flush=True)
            return
        text = line[at + len(MARKER) :]
        print(f"vm: guest: {text}", flush=True)
        if text.startswith("booted"):
            events.booted = now
        elif text.startswith("job start"):
            events.job_start = now
            self._in_job = True
        elif match := EXIT_RE.match(text):
            events.job_end = now
            events.exit_code = int(match.group(1))
            self._in_job = False
