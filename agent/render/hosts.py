"""DNS approach A: the agent's marked block in the hosts file.

Only the lines between the markers are ours; every other byte of the file,
its final newline or lack of one included, is kept as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address

BEGIN = "# BEGIN dvsum-vpn: DvSum service endpoints (managed; edits are lost)"
END = "# END dvsum-vpn"
# The END marker when the file had no final newline and we added one before
# our block; ``strip`` then takes that newline away again.
END_JOINED = "# END dvsum-vpn (newline added before the block)"


def block(names: Sequence[tuple[str, IPv4Address]], end: str = END) -> str:
    width = max(len(str(address)) for _, address in names)
    body = [f"{address!s:<{width}}  {name}" for name, address in names]
    return "\n".join([BEGIN, *body, end]) + "\n"


def _span(text: str) -> tuple[int, int, str] | None:
    start = text.find(BEGIN + "\n")
    if start < 0 or (start > 0 and text[start - 1] != "\n"):
        return None
    for end in (END, END_JOINED):
        stop = text.find("\n" + end + "\n", start)
        if stop >= 0:
            return start, stop + len(end) + 2, end
    return None


def strip(text: str) -> str:
    """``text`` without our block (and without a newline we added)."""
    span = _span(text)
    if span is None:
        return text
    start, stop, end = span
    if end == END_JOINED and start > 0:
        start -= 1
    return text[:start] + text[stop:]


def merge(text: str, names: Sequence[tuple[str, IPv4Address]]) -> str:
    """``text`` with our block in place of the old one, or appended."""
    base = strip(text)
    if base and not base.endswith("\n"):
        return base + "\n" + block(names, END_JOINED)
    return base + block(names)


def present(text: str) -> tuple[tuple[str, IPv4Address], ...] | None:
    """The names our block maps, or None when there is no block."""
    span = _span(text)
    if span is None:
        return None
    start, stop, _ = span
    pairs = []
    for line in text[start:stop].splitlines()[1:-1]:
        fields = line.split()
        if len(fields) == 2:
            pairs.append((fields[1], IPv4Address(fields[0])))
    return tuple(pairs)


def shadowing(
    text: str, names: Sequence[tuple[str, IPv4Address]]
) -> list[tuple[str, str]]:
    """(name, address) of lines outside our block that map one of our names
    to another address: the resolver takes the first match in the file."""
    ours = dict(names)
    found = []
    for line in strip(text).splitlines():
        fields = line.split("#", 1)[0].split()
        for name in fields[1:]:
            if name in ours and fields[0] != str(ours[name]):
                found.append((name, fields[0]))
    return found
