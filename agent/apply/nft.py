"""nftables through libnftables' own Python binding.

The binding speaks nft's language and JSON directly, in one process, with
atomic transactions: a whole table is replaced in one commit, so there is
never a moment without clamping.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from agent.errors import ApplyError
from agent.render import nft as render

LOG = logging.getLogger(__name__)


class Nft:
    def __init__(self) -> None:
        import nftables

        self._nft = nftables.Nftables()
        self._nft.set_json_output(False)

    def _cmd(self, script: str) -> str:
        rc, output, error = self._nft.cmd(script)
        if rc != 0:
            raise ApplyError(f"nftables: {error.strip() or 'command failed'}")
        return str(output)

    def _json(self, script: str) -> dict[str, Any] | None:
        self._nft.set_json_output(True)
        try:
            rc, output, _ = self._nft.cmd(script)
        finally:
            self._nft.set_json_output(False)
        if rc != 0:
            return None  # ENOENT: no such table
        return dict(json.loads(output))

    def comments(self) -> tuple[str, ...] | None:
        """Comments of our table's rules in order, or None without a table."""
        listing = self._json(f"list table {render.FAMILY} {render.TABLE}")
        if listing is None:
            return None
        return tuple(
            item["rule"].get("comment", "")
            for item in listing.get("nftables", [])
            if "rule" in item
        )

    def listing(self) -> str | None:
        """Our table as ``nft list table`` prints it, or None without one."""
        rc, output, _ = self._nft.cmd(f"list table {render.FAMILY} {render.TABLE}")
        return str(output) if rc == 0 else None

    def replace(self, script: str) -> None:
        """Swap in ``script`` as our whole table, in one transaction."""
        self._cmd(
            f"add table {render.FAMILY} {render.TABLE}\n"
            f"delete table {render.FAMILY} {render.TABLE}\n" + script
        )
        LOG.info("nftables: table %s %s replaced", render.FAMILY, render.TABLE)

    def delete(self) -> bool:
        if self.comments() is None:
            return False
        self._cmd(f"delete table {render.FAMILY} {render.TABLE}")
        LOG.info("nftables: table %s %s deleted", render.FAMILY, render.TABLE)
        return True
