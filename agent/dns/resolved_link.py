"""The seam to systemd-resolved: a link's DNS settings over D-Bus.

Reads go through ``busctl --json=short``, changes through ``resolvectl``
(both ship with systemd); ``agent.dns.resolved`` holds the pure half.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from agent.dns import resolved
from agent.dns.resolved import LinkDns
from agent.errors import ApplyError, TransientError

LOG = logging.getLogger(__name__)

TIMEOUT = 10.0
# Where resolved keeps the settings given to each link, one file per index.
NETIF = Path("/run/systemd/resolve/netif")

Stamp = tuple[int, int, int, int]


def stamp(link: str) -> Stamp | None:
    """A cheap marker that changes when the link's settings may have: its
    index, and the inode, size and time of the file resolved saves them
    in.  Only ever compared; the file's text is resolved's own business.
    None when there is no such file (then only a read can tell)."""
    try:
        index = socket.if_nametoindex(link)
        st = os.stat(NETIF / str(index))
    except OSError:
        return None
    return (index, st.st_ino, st.st_size, st.st_mtime_ns)


def read(link: str) -> LinkDns | None:
    """The link's DNS settings as resolved holds them; None: no such link."""
    try:
        index = socket.if_nametoindex(link)
    except OSError:
        return None
    out = _run(
        ["busctl", "--json=short", "get-property", resolved.BUS_NAME,
         resolved.object_path(index), resolved.LINK_INTERFACE,
         *resolved.PROPERTIES],
        transient=True,
    )  # fmt: skip
    try:
        return resolved.parse(out)
    except (ValueError, KeyError, TypeError) as err:
        raise ApplyError(
            f"systemd-resolved: unexpected answer for {link}: {err}"
        ) from err


def apply(link: str, want: LinkDns) -> None:
    for argv in resolved.commands(link, want):
        _run(argv)
    LOG.info(
        "systemd-resolved: %s dns=%s domains=%s default-route=%s",
        link, " ".join(want.servers), " ".join(want.domains), want.default_route,
    )  # fmt: skip


def revert(link: str) -> None:
    _run(["resolvectl", "revert", link])
    LOG.info("systemd-resolved: %s settings reverted", link)


def flush() -> None:
    """Drop cached answers (public ones for the domain among them)."""
    _run(["resolvectl", "flush-caches"])


def _run(argv: Sequence[str], transient: bool = False) -> str:
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError as err:
        raise ApplyError(f"systemd-resolved: {argv[0]} not found") from err
    except subprocess.TimeoutExpired as err:
        raise TransientError(
            f"systemd-resolved: {shlex.join(argv)} took over {TIMEOUT:g} s"
        ) from err
    if done.returncode != 0:
        error = TransientError if transient else ApplyError
        raise error(
            f"systemd-resolved: {shlex.join(argv)} exited {done.returncode}: "
            f"{done.stderr.strip()}"
        )
    return done.stdout
