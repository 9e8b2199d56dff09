"""Files the operator gives (AWS file, PSK file, config.yaml), read safely.

Each is a regular file of at most ``LIMIT`` bytes, read with one bounded
read: a device, a FIFO or a runaway file is refused by name before it can
block the agent or fill its memory.  Every failure names the field and the
path, and maps to an exit code: bad input 2, not permitted 4.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agent.errors import AccessError, InputError

LIMIT = 1 << 20  # 1 MiB; AWS's files are tens of KiB

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def read_text(path: Path, field: str, error: type[InputError] = InputError) -> str:
    """The file's UTF-8 text; ``error`` (exit 2) or AccessError (exit 4)."""
    where = f"{field}: {path}"
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as err:
        raise error(f"{where}: no such file") from err
    except NotADirectoryError as err:
        raise error(f"{where}: no such file (a parent is not a directory)") from err
    except PermissionError as err:
        raise AccessError(f"{where}: not readable: {err.strerror}") from err
    except OSError as err:
        raise error(f"{where}: cannot open: {err.strerror}") from err
    try:
        mode = os.fstat(fd).st_mode
        for test, kind in _KINDS:
            if test(mode):
                raise error(f"{where}: {kind}, not a regular file")
        data = _read_at_most(fd, LIMIT + 1)
    except OSError as err:
        raise error(f"{where}: cannot read: {err.strerror}") from err
    finally:
        os.close(fd)
    if len(data) > LIMIT:
        raise error(f"{where}: larger than 1 MiB; not an AWS or agent file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{where}: not a UTF-8 text file") from err


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
