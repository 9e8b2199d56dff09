"""config.yaml: what the operator decides, as one frozen ``Config``.

Every problem is collected and reported at once, by field path and, where
YAML tells us, line number.  Every path the agent writes is here, so tests
run the real code against a temporary tree.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from agent import infile
from agent.dns.names import domain_name
from agent.errors import ConfigError

DEFAULT_PATH = Path("/etc/dvsum-vpn/config.yaml")
CONFIG_ENV = "DVSUM_VPN_CONFIG"

DATA_PLANES = ("auto", "route", "policy")
DNS_MODES = ("hosts", "forward", "none")
DNS_BACKENDS = ("auto", "systemd-resolved", "dnsmasq", "unbound")
DNS_DOMAIN = "dvsum.ai"
DNS_KEYS = ("mode", "names", "resolvers", "domain", "backend", "reload_command")
SERVICE_NAMES = ("apis.dvsum.ai", "s3-storage.dvsum.ai", "socket-api.dvsum.ai")

FAILBACKS = ("hold-down", "never")

DEFAULT_VICI_URI = "unix:///var/run/charon.vici"
LANDING_ZONE = IPv4Network("10.0.0.0/16")

T = TypeVar("T")


@dataclass(frozen=True)
class Paths:
    swanctl_conf: Path = Path("/etc/swanctl/conf.d/dvsum-vpn.conf")
    charon_dropin: Path = Path("/etc/strongswan.d/dvsum-vpn.conf")
    hosts: Path = Path("/etc/hosts")
    state_dir: Path = Path("/var/lib/dvsum-vpn")
    run_dir: Path = Path("/run/dvsum-vpn")
    dnsmasq_conf: Path = Path("/etc/dnsmasq.d/dvsum-vpn.conf")
    unbound_conf: Path = Path("/etc/unbound/unbound.conf.d/dvsum-vpn.conf")


@dataclass(frozen=True)
class Dns:
    mode: str = "hosts"
    names: tuple[tuple[str, IPv4Address], ...] = ()
    # forward mode: DvSum's resolvers, the domain sent to them, the resolver
    # on this machine that carries the forward, and an optional command that
    # makes it read our edit (empty: the backend's own way).
    resolvers: tuple[IPv4Address, ...] = ()
    domain: str = DNS_DOMAIN
    backend: str = "auto"
    reload_command: tuple[str, ...] = ()


@dataclass(frozen=True)
class Supervise:
    """How ``dvsum-vpn run`` judges and switches tunnels."""

    # TCP connect probe through each tunnel; None: the first DNS name's
    # address, port 443.  ``probe_enabled`` False: SA state alone decides.
    probe_address: IPv4Address | None = None
    probe_port: int = 443
    probe_enabled: bool = True
    probe_interval: float = 0.5
    probe_timeout: float = 1.0
    fall: int = 3
    rise: int = 3
    failback: str = "hold-down"
    hold_down: float = 60.0
    resync: float = 30.0


@dataclass(frozen=True)
class Config:
    source: Path
    aws_file: Path
    psk_file: Path
    customer_cidr: IPv4Network
    landing_zone: IPv4Network = LANDING_ZONE
    source_address: IPv4Address | None = None
    primary: IPv4Address | None = None
    data_plane: str = "auto"
    dns: Dns = Dns()
    vici_uri: str = DEFAULT_VICI_URI
    paths: Paths = Paths()
    supervise: Supervise = Supervise()


def default_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV, str(DEFAULT_PATH)))


def load(path: Path) -> Config:
    """Read and validate config.yaml; raise ConfigError listing every problem."""
    if not os.path.lexists(path):
        raise ConfigError(f"{path}: no such file; run `dvsum-vpn import` first")
    return parse(infile.read_text(path, "config", ConfigError), path)


def parse(text: str, path: Path) -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {yaml_where(err)}") from err
    except ValueError as err:  # PyYAML: an integer too long to convert
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top")
    reader = _Reader(data, key_lines(node), path)
    for field, message in duplicate_keys(node):
        reader.problems.append((field, message))
    config = reader.config()
    reader.raise_problems()
    return config


class _Reader:
    """Reads typed fields from the parsed YAML, noting each problem."""

    def __init__(self, data: dict[str, Any], lines: dict[str, int], path: Path):
        self.data = data
        self.lines = lines
        self.path = path
        self.problems: list[tuple[str, str]] = []

    def note(self, field: str, message: str) -> None:
        line = self.lines.get(field)
        where = f"{field} (line {line})" if line else field
        self.problems.append((where, message))

    def raise_problems(self) -> None:
        if self.problems:
            count = len(self.problems)
            raise ConfigError(
                f"{self.path}: {count} problem{'s' if count > 1 else ''}",
                tuple(self.problems),
            )

    def get(self, field: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in field.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def typed(
        self, field: str, convert: Callable[[Any], T], default: T, what: str
    ) -> T:
        return self.convert(field, self.get(field), convert, default, what)

    def convert(
        self, field: str, raw: Any, convert: Callable[[Any], T], default: T, what: str
    ) -> T:
        if raw is None:
            return default
        try:
            return convert(raw)
        except (TypeError, ValueError):
            self.note(field, f"expected {what}, got {raw!r}")
            return default

    def required(self, field: str, convert: Callable[[Any], T], what: str) -> T:
        """The converted value; a placeholder of the right type is never
        used because a missing or bad value always ends in ConfigError."""
        if self.get(field) is None:
            self.note(field, f"required: {what}")
        return self.typed(field, convert, cast(T, None), what)

    def choice(self, field: str, choices: tuple[str, ...], default: str) -> str:
        value = self.typed(field, str, default, "a string")
        if value not in choices:
            self.note(field, f"expected one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def config(self) -> Config:
        known = {
            "aws_file", "psk_file", "customer_cidr", "landing_zone",
            "source_address", "primary", "data_plane", "dns", "charon", "paths",
            "supervise",
        }  # fmt: skip
        for key in self.data:
            if key not in known:
                self.note(str(key), "unknown setting")
        auto_address = _auto(_ipv4)
        config = Config(
            source=self.path,
            aws_file=self.required("aws_file", Path, "a path"),
            psk_file=self.required("psk_file", Path, "a path"),
            customer_cidr=self.required("customer_cidr", _network, "an IPv4 CIDR"),
            landing_zone=self.typed(
                "landing_zone", _network, LANDING_ZONE, "an IPv4 CIDR"
            ),
            source_address=self.typed(
                "source_address", auto_address, None, "an IPv4 address or auto"
            ),
            primary=self.typed("primary", _ipv4, None, "an AWS outside address"),
            data_plane=self.choice("data_plane", DATA_PLANES, "auto"),
            dns=self.dns(),
            vici_uri=self.vici_uri(),
            paths=self.paths(),
            supervise=self.supervise(),
        )
        cidr, zone = config.customer_cidr, config.landing_zone
        if cidr is not None and cidr.overlaps(zone):
            self.note("customer_cidr", f"overlaps the landing zone {zone}")
        probe = config.supervise.probe_address
        if probe is not None and probe not in zone:
            self.note(
                "supervise.probe",
                f"{probe} is outside the landing zone {zone}: a probe must cross "
                "the tunnel",
            )
        for resolver in config.dns.resolvers:
            if resolver not in zone:
                self.note(
                    "dns.resolvers",
                    f"{resolver} is outside the landing zone {zone}: queries to "
                    "it would not go through the tunnel",
                )
        return config

    def dns(self) -> Dns:
        for key in self.get("dns", None) or {}:
            if key not in DNS_KEYS:
                self.note(f"dns.{key}", "unknown setting")
        mode = self.choice("dns.mode", DNS_MODES, "hosts")
        raw = self.get("dns.names", {})
        if not isinstance(raw, dict):
            self.note("dns.names", "expected a mapping of name: address")
            raw = {}
        names = []
        for name in raw:
            field = f"dns.names.{name}"
            if name not in SERVICE_NAMES:
                self.note(field, f"not a DvSum service ({', '.join(SERVICE_NAMES)})")
                continue
            address = self.convert(field, raw[name], _ipv4, None, "an IPv4 address")
            if address is not None:
                names.append((str(name), address))
        if mode == "hosts":
            missing = [n for n in SERVICE_NAMES if n not in raw]
            for name in missing:
                self.note(f"dns.names.{name}", "required when dns.mode is hosts")
        resolvers = self.resolvers(mode)
        return Dns(
            mode=mode,
            names=tuple(names),
            resolvers=resolvers,
            domain=self.typed("dns.domain", domain_name, DNS_DOMAIN, "a DNS domain"),
            backend=self.choice("dns.backend", DNS_BACKENDS, "auto"),
            reload_command=self.typed(
                "dns.reload_command", _argv, (), "a list of command words"
            ),
        )

    def resolvers(self, mode: str) -> tuple[IPv4Address, ...]:
        raw = self.get("dns.resolvers", [])
        if not isinstance(raw, list):
            self.note("dns.resolvers", "expected a list of IPv4 addresses")
            raw = []
        found: list[IPv4Address] = []
        for index, value in enumerate(raw):
            field = f"dns.resolvers[{index}]"
            address = self.convert(field, value, _ipv4, None, "an IPv4 address")
            if address in found:
                self.note(field, f"{address} is listed twice")
            elif address is not None:
                found.append(address)
        if mode == "forward" and not raw:
            self.note(
                "dns.resolvers",
                "required when dns.mode is forward: the resolver addresses "
                "DvSum gave you (both: the second is the redundant one)",
            )
        return tuple(found)

    def supervise(self) -> Supervise:
        d = Supervise()
        known = {
            "probe", "probe_interval", "probe_timeout", "fall", "rise",
            "failback", "hold_down", "resync",
        }  # fmt: skip
        raw = self.get("supervise", {})
        if not isinstance(raw, dict):
            self.note("supervise", "expected a mapping of settings")
            return d
        for key in raw:
            if key not in known:
                self.note(f"supervise.{key}", "unknown setting")
        probe = self.typed("supervise.probe", str, "auto", "ADDRESS:PORT, auto or none")
        address, port, enabled = d.probe_address, d.probe_port, probe != "none"
        if probe not in ("auto", "none"):
            try:
                host, _, port_text = probe.rpartition(":")
                address, port = _ipv4(host), int(port_text)
                if not 0 < port < 65536:
                    raise ValueError(port)
            except ValueError:
                self.note(
                    "supervise.probe",
                    f"expected ADDRESS:PORT, auto or none, got {probe!r}",
                )
        return Supervise(
            probe_address=address,
            probe_port=port,
            probe_enabled=enabled,
            probe_interval=self.seconds("supervise.probe_interval", d.probe_interval),
            probe_timeout=self.seconds("supervise.probe_timeout", d.probe_timeout),
            fall=self.count("supervise.fall", d.fall),
            rise=self.count("supervise.rise", d.rise),
            failback=self.choice("supervise.failback", FAILBACKS, d.failback),
            hold_down=self.seconds("supervise.hold_down", d.hold_down, low=0.0),
            resync=self.seconds("supervise.resync", d.resync, low=1.0),
        )

    def seconds(self, field: str, default: float, low: float = 0.05) -> float:
        value = self.typed(field, _number, default, "a number of seconds")
        if not low <= value <= 86400:
            self.note(field, f"expected {low:g} to 86400 seconds, got {value:g}")
            return default
        return value

    def count(self, field: str, default: int) -> int:
        value = self.typed(field, _strict_int, default, "a whole number")
        if not 1 <= value <= 100:
            self.note(field, f"expected 1 to 100, got {value}")
            return default
        return value

    def vici_uri(self) -> str:
        uri = self.typed("charon.vici_uri", str, DEFAULT_VICI_URI, "a URI")
        if not uri.startswith(("unix://", "tcp://")):
            self.note("charon.vici_uri", f"expected unix:///PATH, got {uri!r}")
        return uri

    def paths(self) -> Paths:
        defaults = Paths()
        values = {}
        for name in Paths.__dataclass_fields__:
            path = self.typed(f"paths.{name}", Path, getattr(defaults, name), "a path")
            if not path.is_absolute():
                self.note(f"paths.{name}", f"expected an absolute path, got {path}")
            values[name] = path
        first: dict[Path, str] = {}
        for name, path in values.items():
            if path in first:
                self.note(
                    f"paths.{name}",
                    f"{path} is also paths.{first[path]}: each file needs its own path",
                )
            first.setdefault(path, name)
        return Paths(**values)


def _ipv4(value: Any) -> IPv4Address:
    address = ip_address(str(value))
    if not isinstance(address, IPv4Address):
        raise ValueError(value)
    return address


def _argv(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(value)
    if not all(isinstance(word, str) and word for word in value):
        raise ValueError(value)
    return tuple(value)


def _number(value: Any) -> float:
    """A YAML number (or a numeral); ``true`` is not 1."""
    if isinstance(value, bool):
        raise ValueError(value)
    return float(value)


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


def _network(value: Any) -> IPv4Network:
    network = ip_network(str(value), strict=True)
    if not isinstance(network, IPv4Network):
        raise ValueError(value)
    return network


def _auto(convert: Callable[[Any], T]) -> Callable[[Any], T | None]:
    def wrapped(value: Any) -> T | None:
        return None if value == "auto" else convert(value)

    return wrapped


def key_lines(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """Map each dotted key path to the 1-based line its key stands on."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            lines[path] = key.start_mark.line + 1
            lines.update(key_lines(value, f"{path}."))
    return lines


def duplicate_keys(node: yaml.Node | None, prefix: str = "") -> list[tuple[str, str]]:
    """Each key given twice in one mapping, with both lines: YAML keeps the
    last silently, so a second ``dns:`` would replace the first."""
    found: list[tuple[str, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            line = key.start_mark.line + 1
            if path in seen:
                found.append(
                    (
                        f"{path} (line {line})",
                        f"given twice (lines {seen[path]} and {line}); keep one",
                    )
                )
            else:
                seen[path] = line
            found.extend(duplicate_keys(value, f"{path}."))
    return found


def yaml_where(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or "syntax error"
    if mark is not None:
        return f"line {mark.line + 1}: {problem}"
    return str(problem)
