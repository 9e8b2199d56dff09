"""What this machine offers the data plane, probed once per run."""

from __future__ import annotations

import logging
import os
from ipaddress import IPv4Address
from pathlib import Path

from agent.apply.netlink import Netlink
from agent.config import Config
from agent.dns import detect
from agent.errors import ConfigError
from agent.plan import Host

LOG = logging.getLogger(__name__)

LIBIPSEC_DEVICE = "ipsec0"


def _kernel_has(module: str, modules: Path = Path("/lib/modules")) -> bool:
    """Whether the running kernel has ``module`` built in, loaded or loadable."""
    if Path("/sys/module", module).is_dir():
        return True
    try:
        loaded = Path("/proc/modules").read_text()
    except OSError:
        loaded = ""
    if any(line.split(" ", 1)[0] == module for line in loaded.splitlines()):
        return True
    release = os.uname().release
    for listing in ("modules.builtin", "modules.dep"):
        try:
            text = (modules / release / listing).read_text()
        except OSError:
            continue
        if f"/{module}.ko" in text:
            return True
    return False


def kernel_has_esp() -> bool:
    return _kernel_has("esp4")


def kernel_has_xfrm_interfaces() -> bool:
    """XFRM interfaces (Linux >= 4.19, ``xfrm_interface``) and kernel ESP."""
    return _kernel_has("xfrm_interface") and kernel_has_esp()


def data_plane(config: Config) -> str:
    """The mode ``auto`` resolves to here, or the one the config forces."""
    capable = kernel_has_xfrm_interfaces()
    if config.data_plane == "route" and not capable:
        raise ConfigError(
            "data_plane: route needs kernel ESP and XFRM interfaces "
            "(xfrm_interface), which this kernel lacks; use policy or auto"
        )
    mode = config.data_plane
    if mode == "auto":
        mode = "route" if capable else "policy"
    if mode == "policy" and kernel_has_esp():
        # TODO(#4): policy mode over kernel XFRM policies (no TUN device, the
        # route via the default gateway) for kernels with ESP but without
        # XFRM interfaces; only the kernel-libipsec flavour exists now.
        raise ConfigError(
            "data_plane: policy-based mode on a kernel with ESP is not "
            "supported yet; use route (or auto) on this machine"
        )
    return mode


def probe(config: Config, netlink: Netlink) -> Host:
    esp = kernel_has_esp()
    mode = data_plane(config)
    LOG.debug("data plane: %s -> %s (kernel esp=%s)", config.data_plane, mode, esp)
    return Host(
        data_plane=mode,
        libipsec=not esp,
        tunnel_device=LIBIPSEC_DEVICE,
        source_address=_source_address(config, netlink),
        dns_backend=_dns_backend(config),
    )


def _dns_backend(config: Config) -> str | None:
    if config.dns.mode != "forward":
        return None
    if config.dns.backend != "auto":
        return config.dns.backend
    found = detect.detect()
    LOG.log(
        logging.DEBUG if found.backend else logging.WARNING,
        "dns.backend auto: %s", found.reason,
    )  # fmt: skip
    return found.backend


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
