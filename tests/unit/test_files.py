"""Owned files: atomic, with the mode asked for, unchanged when equal."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from agent.apply import files
from agent.errors import AccessError, ApplyError, InputError


def test_new_file_gets_the_mode_even_under_a_wide_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "d" / "secret.conf"
        assert files.write_atomic(path, "k = v\n", 0o600) is True
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "k = v\n"


def test_rewriting_the_same_content_changes_nothing(tmp_path):
    path = tmp_path / "f"
    files.write_atomic(path, "a\n", 0o644)
    inode = path.stat().st_ino
    assert files.write_atomic(path, "a\n", 0o644) is False
    assert path.stat().st_ino == inode


def test_a_wrong_mode_is_corrected(tmp_path):
    path = tmp_path / "f"
    path.write_text("a\n")
    path.chmod(0o666)
    assert files.write_atomic(path, "a\n", 0o600) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_temporary_file_is_left_behind(tmp_path):
    files.write_atomic(tmp_path / "f", "a\n", 0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_remove_reports_whether_it_existed(tmp_path):
    path = tmp_path / "f"
    assert files.remove(path) is False
    path.write_text("")
    assert files.remove(path) is True


def test_read_text_keeps_crlf_so_a_shared_file_keeps_its_bytes(tmp_path):
    path = tmp_path / "hosts"
    path.write_bytes(b"127.0.0.1 localhost\r\n10.9.9.9 other\n")
    assert files.read_text(path) == "127.0.0.1 localhost\r\n10.9.9.9 other\n"


def test_a_path_under_a_file_is_bad_input_naming_the_field(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(InputError) as caught:
        files.write_atomic(tmp_path / "f" / "x", "a\n", 0o600, field="--report")
    assert str(caught.value) == (
        f"--report: {tmp_path / 'f' / 'x'}: cannot be created there: Not a directory"
    )


def _refuse_with(number: int):
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(number, os.strerror(number))

    return refuse


def test_eperm_as_root_says_the_os_refused_not_run_as_root(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "geteuid", lambda: 0)
    monkeypatch.setattr(files.tempfile, "mkstemp", _refuse_with(errno.EPERM))
    with pytest.raises(ApplyError) as caught:
        files.write_atomic(tmp_path / "f", "a\n", 0o600, field="psk_file")
    assert caught.value.exit_code == 5
    assert str(caught.value) == (
        f"psk_file: {tmp_path / 'f'}: the OS refused: operation not permitted "
        "(immutable?)"
    )


def test_eacces_as_a_user_says_run_as_root(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(files.tempfile, "mkstemp", _refuse_with(errno.EACCES))
    with pytest.raises(AccessError) as caught:
        files.write_atomic(tmp_path / "f", "a\n", 0o600)
    assert caught.value.exit_code == 4
    assert "run as root" in str(caught.value)


def test_only_a_regular_file_is_ever_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path, Path("/dev/null")):
        with pytest.raises(InputError, match="not a regular file"):
            files.write_atomic(target, "x", 0o644, field="--report")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_is_refused_when_it_must_not_be_followed(tmp_path):
    real = tmp_path / "real"
    real.write_text("secret\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(InputError, match="symbolic link"):
        files.write_atomic(link, "report\n", 0o644, follow_symlinks=False)
    assert real.read_text() == "secret\n"
