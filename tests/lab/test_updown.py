"""up() and down(): repeatable, complete, and robust to a half-built lab.

These build their own labs under another prefix, next to the session lab.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab import netns, services, teardown
from tests.lab.commands import LabError
from tests.lab.fixture import TEST_PREFIX, require_lab_host
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

LOG = logging.getLogger(__name__)
# A second lab beside the session one, named after it ("dvt-" -> "dvtu-"),
# so two test runs with different DVSUM_LAB_PREFIX never share namespaces.
PREFIX = TEST_PREFIX.rstrip("-")[:7] + "u-"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root() -> Iterator[Path]:
    require_lab_host()
    path = Path(tempfile.mkdtemp(prefix="dvsum-vpn-updown-"))
    try:
        yield path
    finally:
        Lab(path, prefix=PREFIX).down()


def test_up_down_twice_leaves_nothing(root: Path) -> None:
    lab = Lab(root, prefix=PREFIX)
    for _ in range(2):
        lab.up()
        assert all(lab.daemons_alive()[n] for n in lab.pidfiles())
        pids = teardown.lab_pids(root, PREFIX)
        assert pids
        lab.down()
        assert lab.leftovers() == []
        assert [p for p in pids if netns.process_alive(p)] == []
        LOG.info("up took %.2f s", lab.up_seconds or 0.0)


def test_down_from_a_fresh_process(root: Path) -> None:
    lab = Lab(root, prefix=PREFIX)
    lab.up()
    lab.start_customer_charon()
    pids = teardown.lab_pids(root, PREFIX)
    done = subprocess.run(
        [sys.executable, "-m", "tests.lab", "down", "--root", str(root),
         "--prefix", PREFIX],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert lab.leftovers() == []
    lab.down()  # nothing left to do; collects the exit status of our children
    assert [p for p in pids if netns.process_alive(p)] == []


def test_a_failed_up_cleans_up(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "start_dnsmasq", _fail)
    lab = Lab(root, prefix=PREFIX)
    with pytest.raises(LabError, match="injected"):
        lab.up()
    assert lab.leftovers() == []


def test_down_after_a_half_built_lab(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    half = Lab(root, prefix=PREFIX)
    monkeypatch.setattr(services, "start_dnsmasq", _fail)
    monkeypatch.setattr(half, "down", lambda: None)  # as if up() was killed
    with pytest.raises(LabError, match="injected"):
        half.up()
    assert half.leftovers() != []
    Lab(root, prefix=PREFIX).down()
    assert half.leftovers() == []
    half._daemons.forget_all()


def test_down_refuses_a_tree_it_did_not_make(tmp_path: Path) -> None:
    require_lab_host()
    (tmp_path / "precious").write_text("keep me\n")
    with pytest.raises(LabError, match="not a lab tree"):
        Lab(tmp_path, prefix=PREFIX).down()
    assert (tmp_path / "precious").exists()


def _fail(*_args: object, **_kwargs: object) -> None:
    raise LabError("injected failure")
