"""Operator input files: regular, at most 1 MiB, errors that name them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent import cli, infile
from agent.errors import AccessError, ConfigError, InputError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"


def test_a_file_of_exactly_one_mib_is_read(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"a" * infile.LIMIT)
    assert len(infile.read_text(path, "aws_file")) == infile.LIMIT


def test_a_file_over_one_mib_is_refused_naming_field_and_path(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"a" * (infile.LIMIT + 1))
    with pytest.raises(ConfigError) as caught:
        infile.read_text(path, "aws_file", ConfigError)
    assert str(caught.value) == (
        f"aws_file: {path}: larger than 1 MiB; not an AWS or agent file"
    )


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: Path("/dev/zero"), "a character device"),
        (lambda p: (os.mkfifo(p / "fifo"), p / "fifo")[1], "a FIFO"),
        (lambda p: p, "a directory"),
    ],
)
def test_what_is_not_a_regular_file_is_refused_without_reading(tmp_path, make, kind):
    path = make(tmp_path)
    with pytest.raises(InputError) as caught:
        infile.read_text(path, "--psk-file")
    assert str(caught.value) == f"--psk-file: {path}: {kind}, not a regular file"


def test_under_a_file_is_no_such_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="a parent is not a directory"):
        infile.read_text(tmp_path / "f" / "x", "aws_file")


def test_an_unreadable_file_is_not_permitted(tmp_path, monkeypatch):
    def refuse(*_args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(infile.os, "open", refuse)
    with pytest.raises(AccessError) as caught:
        infile.read_text(tmp_path / "x", "config")
    assert caught.value.exit_code == 4
    assert (
        str(caught.value)
        == f"config: {tmp_path / 'x'}: not readable: Permission denied"
    )


def test_import_of_dev_zero_is_exit_2_naming_the_file(tmp_path, capsys):
    conf = tmp_path / "config.yaml"
    code = cli.main(["--config", str(conf), "import", "/dev/zero"])
    err = capsys.readouterr().err
    assert (code, err) == (
        2,
        "dvsum-vpn: FILE: /dev/zero: a character device, not a regular file\n",
    )


def test_import_psk_file_dev_zero_is_exit_2(tmp_path, capsys):
    conf = tmp_path / "config.yaml"
    sample = str(SAMPLES / "01-xml-static-vgw.xml")
    code = cli.main(
        ["--config", str(conf), "import", sample, "--psk-file", "/dev/zero"]
    )
    err = capsys.readouterr().err
    assert (code, err) == (
        2,
        "dvsum-vpn: --psk-file: /dev/zero: a character device, not a regular file\n",
    )
    assert not conf.exists()


def test_config_check_of_a_huge_config_is_exit_2(tmp_path, capsys):
    conf = tmp_path / "config.yaml"
    conf.write_bytes(b"#" * (infile.LIMIT + 10))
    code = cli.main(["config", "check", "--config", str(conf)])
    err = capsys.readouterr().err
    assert code == 2
    assert "larger than 1 MiB" in err


def test_import_with_a_directory_as_config_is_exit_2(tmp_path, capsys):
    sample = str(SAMPLES / "01-xml-static-vgw.xml")
    code = cli.main(["--config", str(tmp_path), "import", sample])
    last = capsys.readouterr().err.splitlines()[-1]
    assert (code, last) == (
        2,
        f"dvsum-vpn: --config: {tmp_path}: a directory, not a regular file",
    )
