"""Our edit in a resolver's configuration: a file of our own, or a marked
block inside a file that belongs to someone else.

Pure: text in, text out.  A file that does not exist yet, or whose first
line is our header, is ours entirely.  Any other file keeps every byte and
gets our lines between two markers, so taking them out gives back the file
as it was, its final newline or lack of one included.
"""

from __future__ import annotations

from agent.files_header import header

HEADER = header("up")
BEGIN = "# BEGIN dvsum-vpn: DNS forward to DvSum (managed; edits are lost)"
END = "# END dvsum-vpn DNS forward"
# The END marker when the file had no final newline and one was added
# before our block; taking the block out takes that newline out too.
END_JOINED = "# END dvsum-vpn DNS forward (newline added before the block)"


def ours(text: str) -> bool:
    """Whether the whole file is ours (it starts with our header)."""
    return text.startswith(HEADER + "\n")


def wanted(current: str | None, body: str) -> str:
    """The file's text with our edit ``body`` in place."""
    if current is None or ours(current):
        return f"{HEADER}\n{body}"
    return merge(current, body)


def undone(current: str) -> str | None:
    """``current`` without our edit; None when the whole file is ours."""
    if ours(current):
        return None
    return strip(current)


def _span(text: str) -> tuple[int, int, str] | None:
    start = text.find(BEGIN + "\n")
    while start > 0 and text[start - 1] != "\n":
        start = text.find(BEGIN + "\n", start + 1)
    if start < 0:
        return None
    for end in (END, END_JOINED):
        stop = text.find("\n" + end + "\n", start)
        if stop >= 0:
            return start, stop + len(end) + 2, end
    return None


def merge(text: str, body: str) -> str:
    """``text`` with our block: replaced where it stands, else appended."""
    span = _span(text)
    if span is not None:
        start, stop, end = span
        return text[:start] + f"{BEGIN}\n{body}{end}\n" + text[stop:]
    if text and not text.endswith("\n"):
        return f"{text}\n{BEGIN}\n{body}{END_JOINED}\n"
    return f"{text}{BEGIN}\n{body}{END}\n"


def strip(text: str) -> str:
    """``text`` without our block (and without a newline we added)."""
    span = _span(text)
    if span is None:
        return text
    start, stop, end = span
    if end == END_JOINED and start > 0:
        start -= 1
    return text[:start] + text[stop:]
