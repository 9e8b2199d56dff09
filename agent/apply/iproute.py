"""pyroute2's IPRoute, without the rest of pyroute2.

pyroute2 0.7's package ``__init__`` imports every module the library
registers as an entry point (NDB, IPDB, ethtool, nftables, ...): 26 MB of
resident memory, of which the agent uses none.  Registering the package
module without running that ``__init__`` and importing only
``pyroute2.iproute.linux`` costs 15 MB, which keeps the daemon near
35 MB.  When something imported pyroute2 the usual way first, that module
is used as it is.
"""

from __future__ import annotations

import importlib.util
import sys
import types


def _register_package() -> None:
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: the import below says so
    package = types.ModuleType("pyroute2")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules["pyroute2"] = package


_register_package()

from pyroute2.iproute.linux import IPRoute  # noqa: E402
from pyroute2.netlink.exceptions import NetlinkError  # noqa: E402

__all__ = ["IPRoute", "NetlinkError"]
