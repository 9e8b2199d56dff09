"""``dvsum-vpn prefer 1|2|auto``: the operator's choice of tunnel.

Stored as one word in ``state_dir/prefer`` so that it outlives the command
and ``up``, the daemon and ``status`` all honour it; ``auto`` removes the
file and hands the choice back to ``primary`` in config.yaml.
"""

from __future__ import annotations

from pathlib import Path

from agent.apply import files

NAME = "prefer"


def read(state_dir: Path) -> int | None:
    text = files.read_text(state_dir / NAME)
    if text is None or text.strip() not in ("1", "2"):
        return None
    return int(text.strip())


def write(state_dir: Path, number: int | None) -> None:
    if number is None:
        files.remove(state_dir / NAME)
    else:
        files.write_atomic(state_dir / NAME, f"{number}\n", 0o644)
