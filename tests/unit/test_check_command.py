"""``dvsum-vpn check``'s flags: a file a flag names must exist."""

from __future__ import annotations

import argparse

import pytest

from agent.check import command
from agent.errors import InputError


def _args(**given: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args([])
    for key, value in given.items():
        setattr(args, key, value)
    return args


def test_a_missing_ca_file_is_bad_input_naming_the_flag(tmp_path):
    missing = tmp_path / "ca.pem"
    with pytest.raises(InputError) as caught:
        command.run(None, _args(ca_file=missing))  # type: ignore[arg-type]
    assert caught.value.exit_code == 2
    assert str(caught.value) == f"--ca-file: {missing}: No such file or directory"


def test_a_directory_as_ca_file_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"^--ca-file: .*: not a regular file$"):
        command.run(None, _args(ca_file=tmp_path))  # type: ignore[arg-type]
