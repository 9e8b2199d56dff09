"""AWS VPN configuration files, in any layout we read, -> one ``Connection``.

``detect`` names the layout, its module turns the text into RAW (strings,
unchecked), :mod:`agent.sources.build` validates RAW into the model (shape
and ranges), :mod:`agent.requirements` checks it against DvSum's
requirements, and :mod:`agent.sources.merge` adds PSKs that came apart
from the file.  Problems from both layers are reported together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent import requirements
from agent.model import Connection
from agent.psk import PskKey
from agent.secret import Secret
from agent.sources import build, describe, generic, merge, strongswan, summary, xml
from agent.sources.detect import detect
from agent.sources.raw import Raw

__all__ = ["LAYOUTS", "detect", "load", "parse"]

LAYOUTS: dict[str, Callable[[str], Raw]] = {
    "xml": xml.parse,
    "json": describe.parse,
    "generic": generic.parse,
    "summary": summary.parse,
    "strongswan": strongswan.parse,
}


def parse(text: str) -> tuple[str, Raw]:
    """The layout's name and the file's RAW fields, unchecked."""
    layout = detect(text)
    return layout, LAYOUTS[layout](text.removeprefix("\ufeff"))


def load(text: str, psks: Mapping[PskKey, Secret] | None = None) -> Connection:
    """The validated connection; InputError lists every problem found.

    ``psks`` (keyed by AWS outside address, or ``tunnel1``/``tunnel2``
    numbered by address, lower first) win over the file's own keys.
    """
    layout, raw = parse(text)
    built = build.read(raw, layout)
    problems = list(built.problems)
    for index, tunnel in enumerate(built.tunnels):
        if tunnel is not None:
            problems += requirements.errors(index, tunnel)
    if problems or built.connection is None:
        raise build.error(problems)
    connection = built.connection
    return merge.with_psks(connection, psks) if psks else connection
