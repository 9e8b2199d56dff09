"""Logging: the journal under systemd, plain stderr lines otherwise."""

from __future__ import annotations

import logging
import os
import sys


def setup(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    root = logging.getLogger()
    root.setLevel(max(level, logging.DEBUG))
    handler: logging.Handler
    if os.environ.get("JOURNAL_STREAM") and not sys.stderr.isatty():
        from systemd.journal import JournalHandler

        handler = JournalHandler(SYSLOG_IDENTIFIER="dvsum-vpn")
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("dvsum-vpn: %(levelname)s: %(message)s"))
    root.handlers[:] = [handler]
    # pyroute2 logs at INFO about its own internals; keep it to warnings.
    logging.getLogger("pyroute2").setLevel(logging.WARNING)


def timestamps() -> None:
    """Outside the journal (which stamps every line itself), prefix the
    time: a daemon's log is read after the fact."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setFormatter(
                logging.Formatter(
                    "%(asctime)s.%(msecs)03d dvsum-vpn: %(levelname)s: %(message)s",
                    datefmt="%H:%M:%S",
                )
            )
