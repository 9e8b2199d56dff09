"""What charon's log lines say about an attempt to bring a tunnel up.

``initiate`` over VICI streams charon's log lines for the attempt; the
words below are the ones charon 5.9 prints.  The first decisive line wins:
a notify error from the peer, a local refusal, or success.  Silence after
our IKE_SA_INIT means the peer never answered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# (kind, pattern): checked in this order against every line.
DECISIVE = (
    ("auth_failed", re.compile(r"received AUTHENTICATION_FAILED notify")),
    ("auth_failed", re.compile(r"with pre-shared key failed|MAC mismatched")),
    ("no_proposal", re.compile(r"received NO_PROPOSAL_CHOSEN notify")),
    ("no_proposal", re.compile(r"no acceptable proposal found|no proposal found")),
    ("ts_unacceptable", re.compile(r"received TS_UNACCEPTABLE notify")),
    ("no_psk", re.compile(r"no shared key found")),
    ("peer_refused", re.compile(r"received \S+ notify error")),
)
ESTABLISHED = re.compile(r"CHILD_SA \S+ established")
SENT = re.compile(r"sending packet: from \S+ to (\S+)")
RECEIVED = re.compile(r"received packet: from (\S+)")
RETRANSMIT = re.compile(r"retransmit \d+ of request|giving up after \d+ retransmits")
NOT_LOADED = re.compile(r"(?:config|peer config) '?[\w.-]+'? not found|no config named")
TIMED_OUT = re.compile(r"not established after \d+ ?ms")
BEHIND_NAT = "local host is behind NAT"
NOTIFY = re.compile(r"received (\S+) notify")


@dataclass(frozen=True)
class Attempt:
    """The outcome of one initiate, as charon told it."""

    kind: str  # established, no_response, auth_failed, pending, failed, ...
    line: str  # the line that decided it ("" when silence decided)
    sent: bool  # we sent at least one IKE packet
    answered: bool  # the peer sent at least one packet back
    behind_nat: bool  # charon detected NAT in front of this machine


def classify(lines: Sequence[str], error: str = "") -> Attempt:
    """Decide what happened from charon's lines and initiate's error text."""
    sent = any(SENT.search(line) for line in lines)
    answered = any(RECEIVED.search(line) for line in lines)
    nat = any(BEHIND_NAT in line for line in lines)

    def attempt(kind: str, line: str) -> Attempt:
        return Attempt(kind, line, sent, answered, nat)

    for line in lines:
        for kind, pattern in DECISIVE:
            if pattern.search(line):
                return attempt(kind, line.strip())
    for line in lines:
        if ESTABLISHED.search(line):
            return attempt("established", line.strip())
    if NOT_LOADED.search(error) or any(NOT_LOADED.search(line) for line in lines):
        return attempt("not_loaded", error or lines[-1])
    if not answered and (sent or any(RETRANSMIT.search(line) for line in lines)):
        return attempt("no_response", "")
    if not lines and TIMED_OUT.search(error):
        # Joined an attempt already under way and heard nothing from it in
        # the window: the SA's state has to tell (see tunnels.py).
        return attempt("pending", "")
    if not error:
        # initiate returned success without saying "established": charon
        # found the CHILD_SA already up.
        return attempt("established", lines[-1].strip() if lines else "")
    if answered:
        return attempt("incomplete", lines[-1].strip() if lines else error)
    return attempt("failed", error)


def peer_notify(line: str) -> str | None:
    """The notify type in a 'received X notify' line (AUTHENTICATION_FAILED)."""
    match = NOTIFY.search(line)
    return match.group(1) if match else None
