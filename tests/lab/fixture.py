"""pytest support for lab tests: the session-wide `lab` fixture and a guard.

The guard never skips: a lab test on a machine that cannot run it (not
root, a tool missing) fails and says what is missing, so a green run always
means the lab really ran. The fixture builds one lab per session in a fresh
temporary root and takes it down afterwards, whatever happened.

tests/lab/conftest.py imports the fixture and the report hook; a conftest
for agent tests elsewhere can do the same.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.lab.charon import CHARON
from tests.lab.lab import Lab
from tests.lab.services import DNSMASQ, NGINX

LOG = logging.getLogger(__name__)

# Tests use their own prefix so they never touch a lab started by hand or by
# `make demo KEEP=1` (which use dvl-).
TEST_PREFIX = os.environ.get("DVSUM_LAB_PREFIX", "dvt-")

TOOLS = (
    "ip", "unshare", "nft", "openssl", "curl", "swanctl", "ss", "sysctl",
    "tcpdump", "getent",
)  # fmt: skip
FILES = {
    CHARON: "charon (strongswan-charon)",
    "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so": (
        "kernel-libipsec (libcharon-extra-plugins)"
    ),
    NGINX: "nginx (nginx-light)",
    DNSMASQ: "dnsmasq (dnsmasq-base)",
    "/dev/net/tun": "the TUN device",
}


def host_problems() -> list[str]:
    """Why this machine cannot run the lab (empty when it can)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (network namespaces, charon)")
    problems += [f"missing tool: {tool}" for tool in TOOLS if not shutil.which(tool)]
    problems += [
        f"missing {what}: {path}"
        for path, what in FILES.items()
        if not Path(path).exists()
    ]
    return problems


def require_lab_host() -> None:
    """Fail the calling test (never skip) if the lab cannot run here."""
    problems = host_problems()
    if problems:
        pytest.fail(
            "lab tests cannot run on this machine (run `make setup` as root):\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """One lab for the session, in a fresh temporary root; always removed."""
    require_lab_host()
    root = Path(tempfile.mkdtemp(prefix="dvsum-vpn-lab-"))
    data_plane = os.environ.get("DVSUM_LAB_DATA_PLANE", "policy")
    instance = Lab(root, prefix=TEST_PREFIX, data_plane=data_plane)
    try:
        instance.up()
        LOG.info("lab up in %.2f s", instance.up_seconds or 0.0)
        yield instance
    finally:
        instance.down()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, None, None]:
    """On a failing lab test, attach the end of every lab log to the report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and call.when in ("call", "setup"):
        instance = getattr(item, "funcargs", {}).get("lab")
        if isinstance(instance, Lab):
            report.sections.append(("lab logs", instance.log_tails()))
