"""Making a resolver read our edit, after checking it will accept it.

Each backend has its own way; ``dns.reload_command`` replaces it where the
resolver runs differently (another unit name, no systemd).
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence

from agent.errors import ApplyError

LOG = logging.getLogger(__name__)

# dnsmasq reads server= lines only when it starts; unbound re-reads its
# whole configuration on reload.
DEFAULTS = {
    "dnsmasq": ("systemctl", "restart", "dnsmasq.service"),
    "unbound": ("unbound-control", "reload"),
}
# Run before the default reload: a reload with a broken configuration
# stops unbound, which would take every name down with it.
CHECKS = {"unbound": ("unbound-checkconf",)}
TIMEOUT = 30.0


def command(backend: str, override: Sequence[str]) -> tuple[str, ...]:
    return tuple(override) or DEFAULTS[backend]


def check(backend: str, override: Sequence[str]) -> None:
    """Have the resolver check its configuration, where it can."""
    argv = CHECKS.get(backend)
    if argv is not None and not override:
        _run(backend, argv, "configuration check")


def reload(backend: str, override: Sequence[str]) -> None:
    _run(backend, command(backend, override), "reload")
    LOG.info("%s: reloaded (%s)", backend, shlex.join(command(backend, override)))


def _run(backend: str, argv: Sequence[str], what: str) -> None:
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError as err:
        raise ApplyError(
            f"{backend}: {what}: {argv[0]} not found; set dns.reload_command"
        ) from err
    except subprocess.TimeoutExpired as err:
        raise ApplyError(
            f"{backend}: {what}: {shlex.join(argv)} took over {TIMEOUT:g} s"
        ) from err
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise ApplyError(
            f"{backend}: {what} failed: {shlex.join(argv)} exited "
            f"{done.returncode}: {' / '.join(said)}"
        )
