"""Tests that need kernel ESP and XFRM interfaces: they run inside the VM
tier (`make test-vm`), which sets DVSUM_VM=1.  On a host without that
kernel support they are not collected at all: they belong to another tier,
as the README's "Tests" section says."""

import os

from tests.lab.fixture import lab, pytest_runtest_makereport

__all__ = ["lab", "pytest_runtest_makereport"]

if os.environ.get("DVSUM_VM") != "1":
    collect_ignore_glob = ["test_*.py"]
