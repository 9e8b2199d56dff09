"""What this machine offers the data plane, probed once per run."""

from __future__ import annotations

import logging
import os
from ipaddress import IPv4Address
from pathlib import Path

from agent.apply.netlink import Netlink
from agent.config import Config
from agent.errors import ConfigError
from agent.plan import Host

LOG = logging.getLogger(__name__)

LIBIPSEC_DEVICE = "ipsec0"


def kernel_has_esp(modules: Path = Path("/lib/modules")) -> bool:
    """Whether the running kernel has ESP built in, loaded or loadable."""
    try:
        loaded = Path("/proc/modules").read_text()
    except OSError:
        loaded = ""
    if any(line.startswith("esp4 ") for line in loaded.splitlines()):
        return True
    release = os.uname().release
    for listing in ("modules.builtin", "modules.dep"):
        try:
            text = (modules / release / listing).read_text()
        except OSError:
            continue
        if "/esp4.ko" in text:
            return True
    return False


def probe(config: Config, netlink: Netlink) -> Host:
    esp = kernel_has_esp()
    if config.data_plane == "route":
        # TODO(#4): route-based mode on XFRM interfaces; the plan and the
        # swanctl rendering already support it, the interfaces do not yet.
        raise ConfigError(
            "data_plane: route-based mode is not available in this version; "
            "use policy or auto"
        )
    data_plane = "policy"
    if config.data_plane == "auto":
        LOG.info("data plane: auto -> policy (kernel esp=%s)", esp)
    return Host(
        data_plane=data_plane,
        libipsec=not esp,
        tunnel_device=LIBIPSEC_DEVICE,
        source_address=_source_address(config, netlink),
    )


def _source_address(config: Config, netlink: Netlink) -> IPv4Address:
    local = netlink.addresses()
    if config.source_address is not None:
        if config.source_address not in local:
            raise ConfigError(
                f"source_address: {config.source_address} is not an address "
                "of this machine"
            )
        return config.source_address
    for address in local:
        if address in config.customer_cidr:
            return address
    raise ConfigError(
        f"source_address: no address of this machine is inside customer_cidr "
        f"{config.customer_cidr}; set source_address"
    )
