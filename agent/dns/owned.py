"""Writing and taking out our edit in a resolver's configuration file.

What the text is comes from ``block``; this module reads the file, writes
it atomically only when it differs, and can put the old text back when
the resolver refuses the new one.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from agent.apply import files
from agent.dns import block
from agent.errors import ApplyError

# Our own files: the resolver may re-read them after dropping privileges.
MODE = 0o644


@dataclass(frozen=True)
class Change:
    path: Path
    before: str | None  # the text before; None: the file did not exist


def ensure(path: Path, body: str) -> Change | None:
    """Put ``body`` in place at ``path``; the change made, or None."""
    current = files.read_text(path)
    text = block.wanted(current, body)
    if text == current:
        return None
    if not path.parent.is_dir():
        raise ApplyError(
            f"{path.parent}: no such directory: is the resolver installed "
            "with its configuration directory? (paths in config.yaml)"
        )
    own = current is None or block.ours(current)
    files.write_atomic(path, text, MODE if own else _mode(path))
    return Change(path, current)


def undo(change: Change) -> None:
    """Put back the text ``change`` replaced."""
    if change.before is None:
        files.remove(change.path)
    else:
        files.write_atomic(change.path, change.before, _mode(change.path))


def remove(path: Path) -> Change | None:
    """Take our edit out of ``path``; the change made, or None."""
    current = files.read_text(path)
    if current is None:
        return None
    rest = block.undone(current)
    if rest is None:
        files.remove(path)
    elif rest != current:
        files.write_atomic(path, rest, _mode(path))
    else:
        return None
    return Change(path, current)


def present(path: Path, body: str) -> bool:
    current = files.read_text(path)
    return current is not None and block.wanted(current, body) == current


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
