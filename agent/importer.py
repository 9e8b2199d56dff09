"""``import``: validate an AWS file and its PSKs, then write /etc/dvsum-vpn.

Nothing is written unless everything validates.  The AWS file is copied
as received (0600: it may hold the PSKs), the PSKs go to their own 0600
file keyed by AWS outside address, and config.yaml is created from the
example when it does not exist yet; an existing one is left alone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Any

import yaml

from agent import infile, requirements, sources
from agent import psk as psk_mod
from agent.apply import files
from agent.config import LANDING_ZONE, Paths, yaml_where
from agent.errors import ConfigError, InputError
from agent.host import kernel_has_esp
from agent.inputs import read_aws_file, read_psks
from agent.model import Connection
from agent.render import charon as charon_conf

LOG = logging.getLogger(__name__)

EXAMPLE = Path(__file__).with_name("config.example.yaml")


@dataclass(frozen=True)
class Imported:
    connection: Connection
    written: tuple[Path, ...]
    config_created: bool


def parse(path: Path, psk_file: Path | None) -> Connection:
    text = read_aws_file(path, "FILE")
    psks = read_psks(psk_file, "--psk-file") if psk_file else None
    connection = sources.load(text, psks)
    _warn_printed(connection)
    return connection


def require_psks(connection: Connection) -> None:
    missing = tuple(
        (
            f"tunnels[{i}].psk",
            f"no pre-shared key for {t.aws_outside_address} in the file; "
            "give it with --psk-file",
        )
        for i, t in enumerate(connection.tunnels)
        if t.psk is None
    )
    if missing:
        raise InputError("pre-shared keys missing", missing)


def run(
    path: Path,
    psk_file: Path | None,
    config_path: Path,
    customer_cidr: str | None,
    dry_run: bool,
) -> Imported:
    connection = parse(path, psk_file)
    require_psks(connection)
    cidr = _cidr(customer_cidr)
    existing = _existing(config_path)
    if existing and cidr is not None:
        LOG.warning(
            "--customer-cidr: %s already exists and is kept; edit its "
            "customer_cidr instead",
            config_path,
        )
    aws_file = Path(existing.get("aws_file") or config_path.with_name("aws-vpn.conf"))
    psk_path = Path(existing.get("psk_file") or config_path.with_name("psk.yaml"))
    paths = existing.get("paths")
    dropin = Path(
        (paths.get("charon_dropin") if isinstance(paths, dict) else None)
        or Paths().charon_dropin
    )
    if dry_run:
        return Imported(connection, (), False)

    written = []
    files.write_atomic(aws_file, read_aws_file(path, "FILE"), 0o600)
    written.append(aws_file)
    psks = {t.aws_outside_address: t.psk for t in connection.tunnels if t.psk}
    files.write_atomic(psk_path, psk_mod.format_psk_file(psks), 0o600)
    written.append(psk_path)
    # charon reads its settings when it starts: write them now, so the
    # restart the operator does after import picks them up.
    if files.write_atomic(dropin, charon_conf.render(not kernel_has_esp()), 0o644):
        written.append(dropin)
    created = False
    if not config_path.exists():
        text = _new_config(connection, aws_file, psk_path, cidr)
        files.write_atomic(config_path, text, 0o600)
        written.append(config_path)
        created = True
    return Imported(connection, tuple(written), created)


def _cidr(value: str | None) -> IPv4Network | None:
    if value is None:
        return None
    try:
        network = ip_network(value, strict=True)
    except ValueError as err:
        raise InputError(f"--customer-cidr: not an IPv4 CIDR: {value}") from err
    if not isinstance(network, IPv4Network):
        raise InputError(f"--customer-cidr: not an IPv4 CIDR: {value}")
    if network.overlaps(LANDING_ZONE):
        raise InputError(
            f"--customer-cidr: {network} overlaps DvSum's landing zone {LANDING_ZONE}"
        )
    return network


def _existing(config_path: Path) -> dict[str, Any]:
    """An existing config's settings, read only for the paths import writes.

    A config.yaml that exists but cannot say where those paths are stops the
    import before anything is written: guessing would write to the default
    system paths behind the operator's back.
    """
    if not os.path.lexists(config_path):
        return {}
    text = infile.read_text(config_path, "--config", ConfigError)
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as err:
        where = yaml_where(err) if isinstance(err, yaml.YAMLError) else str(err)
        raise ConfigError(
            f"{config_path}: not valid YAML: {where}; fix it (dvsum-vpn config "
            "check) or move it away before importing"
        ) from err
    if not isinstance(data, dict):
        raise ConfigError(f"{config_path}: expected a mapping of settings at the top")
    for key in ("aws_file", "psk_file"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"{config_path}: {key}: expected a path")
    paths = data.get("paths")
    if paths is not None and not (
        isinstance(paths, dict) and isinstance(paths.get("charon_dropin", ""), str)
    ):
        raise ConfigError(f"{config_path}: paths.charon_dropin: expected a path")
    return data


def _new_config(
    connection: Connection, aws_file: Path, psk_path: Path, cidr: IPv4Network | None
) -> str:
    primary = connection.tunnels[0].aws_outside_address
    replace = {
        "aws_file:": f"aws_file: {aws_file}",
        "psk_file:": f"psk_file: {psk_path}",
        "primary:": f"primary: {primary}",
        "customer_cidr:": f"customer_cidr: {cidr}"
        if cidr
        else "# customer_cidr: REQUIRED, e.g. 192.168.0.0/16",
    }
    out = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        key = line.split(" ", 1)[0]
        out.append(replace.get(key, line))
    if cidr is None:
        LOG.warning("config.yaml: set customer_cidr before `dvsum-vpn up`")
    return "\n".join(out) + "\n"


def _warn_printed(connection: Connection) -> None:
    """AWS files print defaults, not requirements: say what we use instead."""
    for path, message in requirements.warnings(connection):
        LOG.warning("%s: %s", path, message)
