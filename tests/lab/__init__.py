"""The dvsum-vpn lab: DvSum's AWS side in network namespaces (see lab.py)."""

from tests.lab.addresses import ADDRESSES, Addresses, AwsTunnel
from tests.lab.commands import LabError
from tests.lab.lab import DEFAULT_PREFIX, DEFAULT_ROOT, Lab

__all__ = [
    "ADDRESSES",
    "DEFAULT_PREFIX",
    "DEFAULT_ROOT",
    "Addresses",
    "AwsTunnel",
    "Lab",
    "LabError",
]
