"""Owned files: written atomically with an explicit mode, or not at all."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
from pathlib import Path

from agent.errors import AccessError, ApplyError, DvsumError, InputError

LOG = logging.getLogger(__name__)


def read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        # newline="": no translation, so a CRLF in a shared file survives.
        with path.open(encoding="utf-8", newline="") as text:
            return text.read()
    except FileNotFoundError:
        return None


def write_atomic(
    path: Path,
    text: str,
    mode: int,
    *,
    quiet: bool = False,
    field: str = "",
    follow_symlinks: bool = True,
) -> bool:
    """Make ``path`` hold ``text`` with ``mode``; return whether it changed.

    The data goes to a temporary file in the same directory, created with
    ``mode`` from the start (never wider), is fsynced and renamed over the
    target, so a crash leaves the old file or the new one, never half.
    A refusal names ``field`` (the setting or flag that gave the path) and
    maps to an exit code: a path that cannot be a file 2, not root 4,
    refused as root (immutable, read-only) 5.  Only a regular file is ever
    replaced (never a device, FIFO, socket or directory); a symbolic link is
    written through unless ``follow_symlinks`` is False, then refused.
    """
    replaceable(path, field, follow_symlinks)
    try:
        changed = _write(path, text.encode("utf-8"), mode)
    except OSError as err:
        raise refused(path, err, field) from err
    if changed:
        LOG.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s: written mode=%04o",
            path,
            mode,
        )
    return changed


def replaceable(path: Path, field: str = "", follow_symlinks: bool = True) -> None:
    """Raise InputError unless ``path`` is absent or a regular file (or,
    with ``follow_symlinks``, a link to one): what write_atomic may replace."""
    where = f"{field}: {path}" if field else str(path)
    if path.is_symlink() and not follow_symlinks:
        raise InputError(f"{where}: a symbolic link; refusing to write through it")
    try:
        st = Path(os.path.realpath(path)).stat()
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{where}: not a regular file; refusing to replace it")


def refused(path: Path, err: OSError, field: str = "") -> DvsumError:
    """The error to raise for ``err`` met while writing ``path``."""
    where = f"{field}: {path}" if field else str(path)
    if err.errno in (errno.ENOTDIR, errno.ENOENT):
        return InputError(f"{where}: cannot be created there: {err.strerror}")
    if err.errno in (errno.EACCES, errno.EPERM) and os.geteuid() != 0:
        return AccessError(f"{where}: not permitted: {err.strerror}; run as root")
    if err.errno == errno.EPERM:
        return ApplyError(
            f"{where}: the OS refused: operation not permitted (immutable?)"
        )
    return ApplyError(f"{where}: write failed: {err.strerror}")


def _write(path: Path, data: bytes, mode: int) -> bool:
    if path.is_symlink():
        # The operator's link stays a link: write what it points to.
        path = Path(os.path.realpath(path))
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    same_mode = st is not None and stat.S_IMODE(st.st_mode) == mode
    if same_mode and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, path)
    except OSError as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if err.errno != errno.EBUSY:
            raise
        _write_in_place(path, data, mode)
        return True
    _fsync_dir(path.parent)
    return True


def _write_in_place(path: Path, data: bytes, mode: int) -> None:
    """A bind-mounted file (a container's /etc/hosts) cannot be renamed
    over: rewrite it where it is, which a crash can leave half written."""
    LOG.warning("%s: rename refused (busy: bind-mounted?); rewriting it in place", path)
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.fchmod(fd, mode)
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(path: Path) -> bool:
    """Remove ``path``; return whether it existed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(path.parent)
    LOG.info("%s: removed", path)
    return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
