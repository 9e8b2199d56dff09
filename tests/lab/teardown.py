"""Removing a lab completely, knowing nothing but its root and prefix.

Order matters: processes first (while their namespaces can still be listed),
then the namespaces, then /etc/netns entries, then the tree. Each step runs
even when an earlier one failed; the first failure is raised at the end.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.lab import netns
from tests.lab.addresses import NAMESPACES
from tests.lab.commands import LabError
from tests.lab.daemons import terminate

LOG = logging.getLogger(__name__)

# up() writes this first; down() removes a non-empty root only if it is there.
MARKER = ".dvsum-vpn-lab"
# A marker line: up() created /etc/netns, so down() removes it once empty.
CREATED_ETC_NETNS = "created /etc/netns"


def lab_pids(root: Path, prefix: str) -> list[int]:
    """Every process inside the lab's namespaces or named by a pid file."""
    pids: set[int] = set()
    for name in NAMESPACES:
        pids.update(netns.pids(prefix + name))
    if root.is_dir():
        for pidfile in root.rglob("*.pid"):
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            # Only a live process that names the lab root is one of ours.
            if netns.process_alive(pid) and netns.process_mentions(pid, str(root)):
                pids.add(pid)
    return sorted(pids)


def down(root: Path, prefix: str) -> None:
    """Stop every lab process, delete namespaces, /etc/netns entries, root."""
    errors: list[str] = []
    marker = root / MARKER
    created_etc = marker.exists() and CREATED_ETC_NETNS in marker.read_text()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("stop processes", lambda: terminate(lab_pids(root, prefix))),
        ("delete namespaces", lambda: _delete_namespaces(prefix)),
        ("remove /etc/netns entries", lambda: _remove_etc(prefix, created_etc)),
        ("remove the lab tree", lambda: remove_root(root)),
    ]
    for what, step in steps:
        try:
            step()
        except (OSError, LabError) as exc:
            LOG.error("lab down: %s failed: %s", what, exc)
            errors.append(f"{what}: {exc}")
    if errors:
        raise LabError("lab down incomplete:\n" + "\n".join(errors))


def leftovers(root: Path, prefix: str) -> list[str]:
    """What of the lab still exists (empty after a complete down())."""
    found = [f"process {pid}" for pid in lab_pids(root, prefix)]
    found += [f"namespace {prefix + n}" for n in NAMESPACES if netns.exists(prefix + n)]
    found += [
        f"{netns.etc_dir(prefix + n)}"
        for n in NAMESPACES
        if netns.etc_dir(prefix + n).exists()
    ]
    if root.exists():
        found.append(str(root))
    return found


def _delete_namespaces(prefix: str) -> None:
    for name in NAMESPACES:
        netns.delete(prefix + name)
    left = [prefix + n for n in NAMESPACES if netns.exists(prefix + n)]
    if left:
        raise LabError(f"namespaces not deleted: {', '.join(left)}")


def _remove_etc(prefix: str, created_etc: bool) -> None:
    for name in NAMESPACES:
        directory = netns.etc_dir(prefix + name)
        if directory.exists():
            shutil.rmtree(directory)
    if created_etc and netns.ETC_NETNS.is_dir() and not any(netns.ETC_NETNS.iterdir()):
        netns.ETC_NETNS.rmdir()


def remove_root(root: Path) -> None:
    """Remove the lab tree, refusing anything that up() did not create."""
    if not root.exists():
        return
    if not root.is_dir():
        raise LabError(f"{root} is not a directory; not removing it")
    if (root / MARKER).exists():
        shutil.rmtree(root)
    elif not any(root.iterdir()):
        root.rmdir()
    else:
        raise LabError(f"{root} is not a lab tree (no {MARKER}); not removing it")
