"""What ``dvsum-vpn info`` asks of this machine: local lookups only.

Nothing here sends a packet anywhere.  The outside address is the source
the kernel would choose towards a destination (``RTM_GETROUTE``, what
``ip route get`` prints), which is a lookup in the routing tables; the
addresses come from ``RTM_GETADDR``; the strongSwan version from charon
over its local VICI socket, or else from the package database.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

LOG = logging.getLogger(__name__)

# Debian's and RPM distributions' packages that carry charon, most
# specific first.
DEB_PACKAGES = ("charon-systemd", "strongswan-charon", "strongswan", "libstrongswan")
RPM_PACKAGES = ("strongswan",)
QUERY_TIMEOUT = 5.0


class HostFacts(Protocol):
    def route_source(self, destination: IPv4Address) -> IPv4Address | None: ...

    def addresses(self) -> list[IPv4Interface]: ...

    def charon_version(self, uri: str) -> str | None: ...

    def package_version(self) -> str | None: ...

    def os_name(self) -> str | None: ...


class LocalHost:
    """The real machine."""

    def route_source(self, destination: IPv4Address) -> IPv4Address | None:
        """The source address of the route towards ``destination``."""
        from agent.apply.iproute import IPRoute, NetlinkError

        try:
            with IPRoute() as ipr:
                routes = ipr.route("get", dst=str(destination))
        except (NetlinkError, OSError) as err:
            LOG.debug("route get %s: %s", destination, err)
            return None
        for route in routes:
            source = route.get_attr("RTA_PREFSRC")
            if source:
                return IPv4Address(source)
        return None

    def addresses(self) -> list[IPv4Interface]:
        from agent.apply.iproute import IPRoute, NetlinkError

        try:
            with IPRoute() as ipr:
                found = ipr.get_addr(family=socket.AF_INET)
        except (NetlinkError, OSError) as err:
            LOG.debug("addresses: %s", err)
            return []
        out = []
        for item in found:
            address = item.get_attr("IFA_ADDRESS")
            if address:
                out.append(IPv4Interface(f"{address}/{item['prefixlen']}"))
        return [a for a in out if not a.ip.is_loopback]

    def charon_version(self, uri: str) -> str | None:
        """charon's own answer over VICI, when it runs and the socket is local."""
        from agent.apply.vici import Charon
        from agent.errors import DvsumError

        if urlparse(uri).scheme != "unix":
            return None  # a TCP URI may be another machine: ask nothing there
        try:
            with Charon(uri, timeout=2.0) as charon:
                reply = charon.version()
        except (DvsumError, OSError) as err:
            LOG.debug("charon version over %s: %s", uri, err)
            return None
        version, daemon = reply.get("version"), reply.get("daemon")
        if not version:
            return None
        return f"strongSwan {version} ({daemon or 'charon'}, running)"

    def package_version(self) -> str | None:
        if shutil.which("dpkg-query"):
            for package in DEB_PACKAGES:
                status = _run(
                    ["dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Version}", package]
                )
                if status and status.startswith("ii"):
                    version = status.split()[-1]
                    return (
                        f"strongSwan {upstream(version)} (package {package} {version})"
                    )
        if shutil.which("rpm"):
            for package in RPM_PACKAGES:
                found = _run(["rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", package])
                if found and "not installed" not in found:
                    return f"strongSwan {upstream(found)} (package {package} {found})"
        return None

    def os_name(self) -> str | None:
        try:
            text = Path("/etc/os-release").read_text(encoding="utf-8")
        except OSError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key == "PRETTY_NAME":
                return value.strip().strip('"') or None
        return None


def upstream(version: str) -> str:
    """``1:5.9.8-5+deb12u6`` -> ``5.9.8``: no epoch, no packaging revision."""
    version = version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=QUERY_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        LOG.debug("%s: %s", argv[0], err)
        return None
    return done.stdout.strip() if done.returncode == 0 else None
