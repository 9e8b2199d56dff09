"""``dvsum-vpn config check``: config.yaml and the files it names.

Validated the way ``up`` reads them (config.yaml, the AWS file, the PSK
file, DvSum's requirements), plus what only makes sense together: the
primary is one of the tunnels, the source address is inside the customer
CIDR, the service addresses are inside the landing zone.  Every problem is
collected, each named by file, field and line where the file says it; a
broken config.yaml does not stop the other files from being checked.
Nothing is written and nothing is sent anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import yaml

from agent import config as config_mod
from agent import infile, inputs, requirements, sources
from agent.config import Config
from agent.errors import AccessError, DvsumError, InputError
from agent.model import Connection
from agent.psk import PskKey
from agent.secret import Secret

Finding = tuple[str, str]


@dataclass(frozen=True)
class Report:
    config: Path
    files: tuple[Path, ...]
    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def public(self) -> dict[str, Any]:
        def listed(found: tuple[Finding, ...]) -> list[dict[str, str]]:
            return [{"where": where, "message": message} for where, message in found]

        return {
            "config": str(self.config),
            "files": [str(path) for path in self.files],
            "ok": self.ok,
            "errors": listed(self.errors),
            "warnings": listed(self.warnings),
        }


class _Check:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.files: list[Path] = [path]
        self.lines: dict[str, int] = {}

    def error(self, where: str, message: str) -> None:
        self.errors.append((where, message))

    def from_input_error(self, prefix: str, err: InputError) -> None:
        if not err.problems:
            self.error(prefix, str(err))
        for where, message in err.problems:
            self.error(f"{prefix}: {where}" if prefix else where, message)

    def key(self, name: str) -> str:
        """``config.yaml: primary (line 4)``."""
        line = self.lines.get(name)
        return f"{self.path}: {name} (line {line})" if line else f"{self.path}: {name}"


def check(path: Path) -> Report:
    run = _Check(path)
    config, names = _config(run)
    psks = _psks(run, names.get("psk_file"))
    connection = _connection(run, names.get("aws_file"), names.get("psk_file"), psks)
    if config is not None and connection is not None:
        _together(run, config, connection)
    return Report(
        config=path,
        files=tuple(run.files),
        errors=tuple(run.errors),
        warnings=tuple(run.warnings),
    )


def _config(run: _Check) -> tuple[Config | None, dict[str, Path]]:
    """The validated config, or None; and the files it names, however broken
    the rest of it is."""
    if not os.path.lexists(run.path):
        run.error(str(run.path), "no such file; run `dvsum-vpn import` first")
        return None, {}
    try:
        text = infile.read_text(run.path, "config")
    except DvsumError as err:
        run.error("", str(err))
        return None, {}
    names: dict[str, Path] = {}
    try:
        data = yaml.safe_load(text)
        run.lines = config_mod.key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, ValueError):
        # ValueError: PyYAML converting a number of thousands of digits.
        data = None
    if isinstance(data, dict):
        for key in ("aws_file", "psk_file"):
            if isinstance(data.get(key), str) and data[key]:
                names[key] = Path(data[key])
    try:
        config = config_mod.parse(text, run.path)
    except InputError as err:
        if err.problems:
            for where, message in err.problems:
                run.error(f"{run.path}: {where}", message)
        else:
            run.error("", str(err))
        return None, names
    except ValueError as err:
        # PyYAML raises it for a number of thousands of digits, which
        # config.parse does not catch.
        run.error(str(run.path), f"not valid YAML: {err}")
        return None, names
    return config, {"aws_file": config.aws_file, "psk_file": config.psk_file}


def _psks(run: _Check, path: Path | None) -> dict[PskKey, Secret] | None:
    if path is None:
        return None
    if not os.path.lexists(path):
        run.error(run.key("psk_file"), f"{path}: no such file")
        return None
    run.files.append(path)
    try:
        return inputs.read_psks(path)
    except AccessError as err:
        run.error("", str(err))
        return None
    except InputError as err:
        run.from_input_error("", err)
        return None


def _connection(
    run: _Check,
    path: Path | None,
    psk_path: Path | None,
    psks: dict[PskKey, Secret] | None,
) -> Connection | None:
    if path is None:
        return None
    try:
        text = inputs.read_aws_file(path)
    except DvsumError as err:
        run.error(run.key("aws_file"), str(err).removeprefix("aws_file: "))
        return None
    run.files.append(path)
    try:
        connection = sources.load(text, psks)
    except InputError as err:
        run.from_input_error(str(path), err)
        return None
    for where, message in requirements.warnings(connection):
        run.warnings.append((f"{path}: {where}", message))
    for index, tunnel in enumerate(connection.tunnels):
        if tunnel.psk is None:
            where = f"the PSK file {psk_path}" if psk_path else "a PSK file"
            run.error(
                f"{path}: tunnels[{index}].psk",
                f"no pre-shared key for {tunnel.aws_outside_address} here nor in "
                f"{where}",
            )
    return connection


def _together(run: _Check, config: Config, connection: Connection) -> None:
    addresses = [t.aws_outside_address for t in connection.by_address()]
    if config.primary is not None and config.primary not in addresses:
        known = ", ".join(map(str, addresses))
        run.error(
            run.key("primary"),
            f"{config.primary} is not a tunnel of the AWS file ({known})",
        )
    source = config.source_address
    if source is not None and source not in config.customer_cidr:
        run.error(
            run.key("source_address"),
            f"{source} is outside customer_cidr {config.customer_cidr}: DvSum "
            "routes back only customer_cidr",
        )
    for name, address in config.dns.names:
        if address not in config.landing_zone:
            run.warnings.append(
                (
                    run.key(f"dns.names.{name}"),
                    f"{address} is outside landing_zone {config.landing_zone}: "
                    "traffic to it will not use the tunnel",
                )
            )
    _overlaps(run, config.customer_cidr, connection)


def _overlaps(run: _Check, cidr: IPv4Network, connection: Connection) -> None:
    """The customer CIDR must not hold the AWS endpoints: their traffic
    would be routed into the tunnel it is meant to carry."""
    endpoints: list[IPv4Address] = [t.aws_outside_address for t in connection.tunnels]
    for address in endpoints:
        if address in cidr:
            run.error(
                run.key("customer_cidr"),
                f"{cidr} holds the AWS endpoint {address}",
            )
