"""Load everything the operator gave: config, AWS file, PSKs -> model."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from agent import config as config_mod
from agent import infile, psk, sources
from agent.config import Config
from agent.errors import ConfigError
from agent.model import Connection
from agent.psk import PskKey
from agent.secret import Secret

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inputs:
    config: Config
    connection: Connection


def read_aws_file(path: Path, field: str = "aws_file") -> str:
    return infile.read_text(path, field, ConfigError)


def read_psks(path: Path, field: str = "psk_file") -> dict[PskKey, Secret]:
    return psk.read_psk_file(path, field)


def load(path: Path) -> Inputs:
    """config.yaml and the files it names, validated."""
    config = config_mod.load(path)
    text = read_aws_file(config.aws_file)
    # A configured PSK file that is missing is an error, never a fallback
    # to PSKs that may sit inside the AWS file.
    psks = read_psks(config.psk_file)
    return Inputs(config, sources.load(text, psks))
