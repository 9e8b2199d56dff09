"""Load everything the operator gave: config, AWS file, PSKs -> model."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from agent import config as config_mod
from agent import psk, sources
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
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{field}: {path}: no such file") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{field}: {path}: not a text file") from err
    except OSError as err:
        raise ConfigError(f"{field}: {path}: {err.strerror}") from err


def read_psks(path: Path, field: str = "psk_file") -> dict[PskKey, Secret]:
    if not path.exists():
        raise ConfigError(f"{field}: {path}: no such file")
    return psk.read_psk_file(path)


def load(path: Path) -> Inputs:
    """config.yaml and the files it names, validated."""
    config = config_mod.load(path)
    text = read_aws_file(config.aws_file)
    psks = read_psks(config.psk_file) if config.psk_file.exists() else None
    return Inputs(config, sources.load(text, psks))
