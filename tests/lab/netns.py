"""Network namespaces: create, list, delete, and the processes inside them."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from tests.lab.commands import run

LOG = logging.getLogger(__name__)

NETNS_DIR = Path("/run/netns")
ETC_NETNS = Path("/etc/netns")


def exists(ns: str) -> bool:
    return (NETNS_DIR / ns).exists()


def create(ns: str) -> None:
    """Create ns with loopback up and no forwarding or reverse-path filter."""
    run(["ip", "netns", "add", ns])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    sysctl(ns, "net.ipv4.conf.all.rp_filter", "0")
    sysctl(ns, "net.ipv4.conf.default.rp_filter", "0")
    # The lab is IPv4 only: no router solicitations or link-local chatter.
    sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "1")
    sysctl(ns, "net.ipv6.conf.default.disable_ipv6", "1")


def sysctl(ns: str, key: str, value: str) -> None:
    """Set a per-namespace sysctl (net.*) inside ns."""
    run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"])


def delete(ns: str) -> None:
    """Remove ns; its interfaces go with it once no process holds it."""
    if exists(ns):
        run(["ip", "netns", "delete", ns], check=False)


def pids(ns: str) -> list[int]:
    """Processes whose network namespace is ns (empty if ns is gone)."""
    if not exists(ns):
        return []
    done = run(["ip", "netns", "pids", ns], check=False)
    return [int(word) for word in done.stdout.split() if word.isdigit()]


def veth(ns_a: str, name_a: str, ns_b: str, name_b: str) -> None:
    """A veth pair created directly inside the two namespaces.

    Created in place (never in the host namespace) so interface names cannot
    collide with the machine's own, and both ends are brought up.
    """
    run(
        [
            "ip", "-n", ns_a, "link", "add", name_a, "type", "veth",
            "peer", "name", name_b, "netns", ns_b,
        ]
    )  # fmt: skip
    run(["ip", "-n", ns_a, "link", "set", name_a, "up"])
    run(["ip", "-n", ns_b, "link", "set", name_b, "up"])


def etc_dir(ns: str) -> Path:
    """/etc/netns/NS: files here replace /etc/FILE under `ip netns exec`."""
    return ETC_NETNS / ns


def process_alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state follows the command name, which is in parentheses.
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def process_mentions(pid: int, needle: str) -> bool:
    """True if pid's command line or environment contains needle.

    Used before signalling a pid read from a pid file, so a recycled pid
    belonging to someone else is never touched.
    """
    for name in ("cmdline", "environ"):
        try:
            data = Path(f"/proc/{pid}/{name}").read_bytes()
        except OSError:
            continue
        if needle.encode() in data:
            return True
    return False


def reap(pid: int) -> None:
    """Collect pid's exit status if it is our child (no zombie left)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
