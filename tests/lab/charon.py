"""One charon per namespace: its strongswan.conf, start, and VICI access.

Each instance reads its own strongswan.conf (STRONGSWAN_CONF), listens for
VICI on a socket in the lab tree, logs to a file there, and runs with
kernel-libipsec (ESP in userspace over the TUN device ipsec0, since this
kernel has no ESP) next to kernel-netlink.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import vici

from tests.lab.commands import LabError, run
from tests.lab.daemons import Daemons

LOG = logging.getLogger(__name__)

CHARON = "/usr/lib/ipsec/charon"
TUN_DEVICE = "ipsec0"
START_TIMEOUT = 15.0

# The plugins every lab charon loads (load_modular: each has `load = yes`,
# so a drop-in included later can still switch one on or off).
PLUGINS = (
    "random", "nonce", "openssl", "aes", "sha1", "sha2", "hmac", "kdf",
    "gmp", "curve25519", "pem", "pkcs1", "x509", "pubkey", "constraints",
    "revocation", "socket-default", "counters", "vici",
    "kernel-libipsec", "kernel-netlink",
)  # fmt: skip

# Marks charon's own routing rule (table 220) so that no packet matches it:
# libipsec ignores install_routes = no, and its routes with 0/0 selectors
# would swallow IKE and ESP to the other peer (shared/notes/lab-facts.md).
FWMARK = "0x2200"


@dataclass(frozen=True)
class CharonPaths:
    """Where one charon instance keeps its files (all in <root>/<ns>/)."""

    directory: Path

    @property
    def conf(self) -> Path:
        return self.directory / "strongswan.conf"

    @property
    def vici(self) -> Path:
        return self.directory / "charon.vici"

    @property
    def log(self) -> Path:
        return self.directory / "charon.log"

    @property
    def pidfile(self) -> Path:
        return self.directory / "charon.pid"

    @property
    def dropin_dir(self) -> Path:
        return self.directory / "strongswan.d"

    @property
    def swanctl_dir(self) -> Path:
        return self.directory / "swanctl"


def render_conf(
    paths: CharonPaths,
    *,
    fwmark: bool,
    retransmit: tuple[int, int, int] | None = None,
    include_dropins: bool = False,
) -> str:
    """strongswan.conf for one instance.

    fwmark: set kernel-netlink's fwmark here (the AWS peers); the customer
    gateway leaves it to the agent's drop-in. retransmit: (tries, timeout,
    base). include_dropins: include <dir>/strongswan.d/*.conf last, so
    drop-ins override what is written here.
    """
    lines = [
        f"# Written by the dvsum-vpn lab for the charon in {paths.directory.name}.",
        "charon {",
        "    load_modular = yes",
        "    install_virtual_ip = no",
    ]
    if retransmit is not None:
        tries, timeout, base = retransmit
        lines += [
            f"    retransmit_tries = {tries}",
            f"    retransmit_timeout = {timeout}",
            f"    retransmit_base = {base}",
        ]
    lines += [
        "    filelog {",
        "        lab {",
        f"            path = {paths.log}",
        "            time_format = %H:%M:%S",
        "            ike_name = yes",
        "            append = yes",
        "            flush_line = yes",
        "            default = 1",
        "            ike = 2",
        "            cfg = 2",
        "        }",
        "    }",
        "    syslog {",
        "        daemon {",
        "            default = -1",
        "        }",
        "    }",
        "    plugins {",
    ]
    for plugin in PLUGINS:
        lines += [f"        {plugin} {{", "            load = yes"]
        if plugin == "vici":
            lines.append(f"            socket = unix://{paths.vici}")
        if plugin == "kernel-netlink" and fwmark:
            lines.append(f"            fwmark = {FWMARK}")
        lines.append("        }")
    lines += ["    }", "}", ""]
    if include_dropins:
        lines += [
            "# Drop-ins (the agent's) come last so that they override the above.",
            f"include {paths.dropin_dir}/*.conf",
            "",
        ]
    return "\n".join(lines)


def start(daemons: Daemons, ns: str, paths: CharonPaths, tun: bool = True) -> int:
    """Start charon in ns and wait until VICI answers (and, with ``tun``,
    kernel-libipsec's ipsec0 exists)."""
    paths.vici.unlink(missing_ok=True)
    pid = daemons.start(
        ns, paths.pidfile, [CHARON], env={"STRONGSWAN_CONF": str(paths.conf)}
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not daemons.alive(paths.pidfile):
            raise LabError(
                f"charon in {ns} exited (status {daemons.exit_status(paths.pidfile)})"
                f"\n{log_tail(paths)}"
            )
        if _vici_answers(paths.vici) and (not tun or _has_tun(ns)):
            LOG.info("charon in %s ready (pid %d)", ns, pid)
            return pid
        time.sleep(0.05)
    raise LabError(
        f"charon in {ns} not ready after {START_TIMEOUT:g} s\n{log_tail(paths)}"
    )


@contextmanager
def session(vici_socket: Path, timeout: float = 30.0) -> Iterator[vici.Session]:
    """A VICI session on the instance's socket (closed afterwards)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(vici_socket))
        yield vici.Session(sock)
    finally:
        sock.close()


def log_tail(paths: CharonPaths, lines: int = 40) -> str:
    """The end of the instance's log and output, for error messages."""
    parts = []
    for path in (paths.log, paths.pidfile.with_suffix(".out")):
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path}\n" + "\n".join(text))
    return "\n".join(parts)


def _vici_answers(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with session(path, timeout=2.0) as ses:
            ses.version()
    except OSError:
        return False
    return True


def _has_tun(ns: str) -> bool:
    done = run(["ip", "-n", ns, "link", "show", TUN_DEVICE], check=False)
    return done.returncode == 0
