"""DNS names as the forward needs them: the forwarded domain, checked."""

from __future__ import annotations

import re
from typing import Any

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def domain_name(value: Any) -> str:
    """``value`` as a domain of two labels or more, lower case, no final dot.

    Raises ValueError for anything else (a single label would forward a
    whole top-level domain; an empty one, every name).
    """
    if not isinstance(value, str):
        raise ValueError(value)
    name = value.strip().lower().removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        raise ValueError(value)
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(value)
    return name
