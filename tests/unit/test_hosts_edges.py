"""/etc/hosts as machines really have it: a shadowing line above our block,
a symlink, a bind mount that cannot be renamed over."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os

import pytest

from agent import config as config_mod
from agent import up
from agent.apply import files
from agent.errors import ApplyError
from agent.inputs import Inputs
from agent.plan import build
from agent.render import hosts
from tests.unit.conftest import CONFIG


def _setup(tmp_path, connection, host, hosts_path):
    paths = config_mod.Paths(hosts=hosts_path, state_dir=tmp_path / "state")
    config = dataclasses.replace(
        config_mod.parse(CONFIG, tmp_path / "c.yaml"), paths=paths
    )
    plan = build(config, connection, host)
    return Inputs(config, connection), plan


def test_a_shadowing_line_is_warned_about_once_not_every_call(
    tmp_path, connection, host, caplog
):
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n203.0.113.9 apis.dvsum.ai\n")
    inputs, plan = _setup(tmp_path, connection, host, path)
    with caplog.at_level(logging.WARNING, logger="agent.up"):
        for _ in range(5):
            up.step_dns(plan, inputs)
    assert caplog.messages == [
        f"{path}: a line before our block maps apis.dvsum.ai to 203.0.113.9, "
        "and the first line wins; remove it"
    ]
    caplog.clear()
    path.write_text(path.read_text().replace("203.0.113.9", "203.0.113.10"))
    with caplog.at_level(logging.WARNING, logger="agent.up"):
        up.step_dns(plan, inputs)
        up.step_dns(plan, inputs)
    assert len(caplog.messages) == 1
    assert "203.0.113.10" in caplog.messages[0]


def test_a_symlinked_hosts_file_stays_a_symlink(tmp_path, connection, host):
    target = tmp_path / "real" / "hosts"
    target.parent.mkdir()
    target.write_text("127.0.0.1 localhost\n")
    link = tmp_path / "hosts"
    link.symlink_to(target)
    inputs, plan = _setup(tmp_path, connection, host, link)
    assert up.step_dns(plan, inputs) is True
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert hosts.present(target.read_text()) == plan.hosts


def test_a_bind_mounted_file_is_rewritten_in_place(tmp_path, monkeypatch, caplog):
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n")
    inode = path.stat().st_ino

    def busy(_src: object, _dst: object) -> None:
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))

    monkeypatch.setattr(files.os, "rename", busy)
    with caplog.at_level(logging.WARNING, logger="agent.apply.files"):
        assert files.write_atomic(path, "127.0.0.1 localhost\n10.0.0.1 x\n", 0o644)
    assert path.read_text() == "127.0.0.1 localhost\n10.0.0.1 x\n"
    assert path.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts"]
    assert caplog.messages == [
        f"{path}: rename refused (busy: bind-mounted?); rewriting it in place"
    ]


def test_other_rename_failures_are_not_rewritten_in_place(tmp_path, monkeypatch):
    path = tmp_path / "hosts"
    path.write_text("old\n")

    def full(_src: object, _dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "rename", full)
    with pytest.raises(ApplyError, match="write failed: No space left"):
        files.write_atomic(path, "new\n", 0o644)
    assert path.read_text() == "old\n"
