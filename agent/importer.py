"""``import``: validate an AWS file and its PSKs, then write /etc/dvsum-vpn.

Nothing is written unless everything validates.  The AWS file is copied
as received (0600: it may hold the PSKs), the PSKs go to their own 0600
file keyed by AWS outside address, and config.yaml is created from the
example when it does not exist yet; an existing one is left alone.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Any

import yaml

from agent import infile, requirements, sources
from agent import psk as psk_mod
from agent.apply import files
from agent.config import LANDING_ZONE, Paths, yaml_where
from agent.errors import ConfigError, DvsumError, InputError
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
    return _parse(path, psk_file)[0]


def _parse(path: Path, psk_file: Path | None) -> tuple[Connection, str]:
    """The connection and the AWS file's text, read once."""
    text = read_aws_file(path, "FILE")
    psks = read_psks(psk_file, "--psk-file") if psk_file else None
    connection = sources.load(text, psks)
    _warn_printed(connection)
    return connection, text


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
    connection, aws_text = _parse(path, psk_file)
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

    # Everything is prepared before the first write, so a refusal leaves
    # the machine as it was.
    psks = {t.aws_outside_address: t.psk for t in connection.tunnels if t.psk}
    planned = [
        _Write("aws_file", aws_file, aws_text, 0o600),
        _Write("psk_file", psk_path, psk_mod.format_psk_file(psks), 0o600),
        # charon reads its settings when it starts: write them now, so the
        # restart the operator does after import picks them up.
        _Write(
            "paths.charon_dropin",
            dropin,
            charon_conf.render(not kernel_has_esp()),
            0o644,
        ),
    ]
    created = not os.path.lexists(config_path)
    if created:
        text = _new_config(connection, aws_file, psk_path, cidr)
        planned.append(_Write("--config", config_path, text, 0o600))
    return Imported(connection, _write_all(planned), created)


@dataclass(frozen=True)
class _Write:
    field: str
    path: Path
    text: str
    mode: int


def _write_all(planned: list[_Write]) -> tuple[Path, ...]:
    """Write each file; when one fails, put the earlier ones back as they
    were (or remove them if they are new), so the AWS file and the PSK file
    never disagree."""
    befores = [_current(write) for write in planned]
    done: list[tuple[_Write, str | None, int]] = []
    for write, (before, mode) in zip(planned, befores, strict=True):
        try:
            changed = files.write_atomic(
                write.path, write.text, write.mode, field=write.field
            )
        except DvsumError:
            _undo(done)
            raise
        if changed:
            done.append((write, before, mode))
    return tuple(write.path for write, _, _ in done)


def _current(write: _Write) -> tuple[str | None, int]:
    try:
        before = files.read_text(write.path)
        mode = stat.S_IMODE(write.path.stat().st_mode) if before is not None else 0
    except NotADirectoryError:
        return None, 0  # write_atomic says why it cannot be created
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(
            f"{write.field}: {write.path}: exists but cannot be read back "
            "to restore it if the import fails; move it away first"
        ) from err
    return before, mode


def _undo(done: list[tuple[_Write, str | None, int]]) -> None:
    for write, before, mode in reversed(done):
        try:
            if before is None:
                files.remove(write.path)
            else:
                files.write_atomic(write.path, before, mode)
        except (DvsumError, OSError) as err:
            LOG.error("%s: could not be restored: %s", write.path, err)
        else:
            LOG.warning("%s: restored (import failed)", write.path)


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
