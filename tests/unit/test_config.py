"""config.yaml: typed values, every problem at once, with line numbers."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from agent import config as config_mod
from agent.errors import ConfigError
from tests.unit.conftest import CONFIG

PATH = Path("/etc/dvsum-vpn/config.yaml")


def test_lab_config_reads_every_field():
    config = config_mod.parse(CONFIG, PATH)
    assert config == config_mod.Config(
        source=PATH,
        aws_file=Path("/etc/dvsum-vpn/aws-vpn.conf"),
        psk_file=Path("/etc/dvsum-vpn/psk.yaml"),
        customer_cidr=IPv4Network("192.168.10.0/24"),
        landing_zone=IPv4Network("10.0.0.0/16"),
        source_address=None,
        primary=IPv4Address("203.0.113.44"),
        data_plane="policy",
        dns=config_mod.Dns(
            mode="hosts",
            names=(
                ("apis.dvsum.ai", IPv4Address("10.0.151.182")),
                ("s3-storage.dvsum.ai", IPv4Address("10.0.150.69")),
                ("socket-api.dvsum.ai", IPv4Address("10.0.157.107")),
            ),
        ),
        vici_uri="unix:///var/run/charon.vici",
        paths=config_mod.Paths(),
    )


def test_example_config_is_valid():
    example = Path(config_mod.__file__).with_name("config.example.yaml")
    config = config_mod.parse(example.read_text(), example)
    assert config.customer_cidr == IPv4Network("192.168.0.0/16")


def test_every_problem_is_reported_with_its_line():
    text = """\
aws_file: /x
customer_cidr: 10.0.5.0/24
landing_zone: 10.0.0.0/33
primary: nope
data_plane: fast
extra: 1
dns:
  mode: hosts
  names:
    apis.dvsum.ai: 10.0.151.300
    example.com: 10.0.0.1
paths:
  hosts: relative/hosts
"""
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert caught.value.problems == (
        ("extra (line 6)", "unknown setting"),
        ("psk_file", "required: a path"),
        ("landing_zone (line 3)", "expected an IPv4 CIDR, got '10.0.0.0/33'"),
        ("primary (line 4)", "expected an AWS outside address, got 'nope'"),
        ("data_plane (line 5)", "expected one of auto, route, policy, got 'fast'"),
        (
            "dns.names.apis.dvsum.ai (line 10)",
            "expected an IPv4 address, got '10.0.151.300'",
        ),
        (
            "dns.names.example.com (line 11)",
            "not a DvSum service (apis.dvsum.ai, s3-storage.dvsum.ai, "
            "socket-api.dvsum.ai)",
        ),
        ("dns.names.s3-storage.dvsum.ai", "required when dns.mode is hosts"),
        ("dns.names.socket-api.dvsum.ai", "required when dns.mode is hosts"),
        ("paths.hosts (line 13)", "expected an absolute path, got relative/hosts"),
        ("customer_cidr (line 2)", "overlaps the landing zone 10.0.0.0/16"),
    )


def test_customer_cidr_overlapping_the_landing_zone_is_refused():
    text = CONFIG.replace("192.168.10.0/24", "10.0.0.0/8")
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert caught.value.problems == (
        ("customer_cidr (line 3)", "overlaps the landing zone 10.0.0.0/16"),
    )


def test_broken_yaml_names_the_line():
    with pytest.raises(ConfigError) as caught:
        config_mod.parse("a: 1\n b: 2\n", PATH)
    assert str(caught.value) == (
        f"{PATH}: not valid YAML: line 2: mapping values are not allowed here"
    )


def test_missing_file_says_to_import_first(tmp_path):
    with pytest.raises(ConfigError) as caught:
        config_mod.load(tmp_path / "config.yaml")
    assert "run `dvsum-vpn import` first" in str(caught.value)


def test_a_key_given_twice_is_named_with_both_lines():
    text = CONFIG + "dns:\n  mode: none\n"
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert caught.value.problems == (
        ("dns (line 12)", "given twice (lines 6 and 12); keep one"),
    )


def test_a_nested_key_given_twice_is_named_too():
    text = CONFIG + "supervise:\n  fall: 3\n  fall: 5\n"
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert caught.value.problems == (
        ("supervise.fall (line 14)", "given twice (lines 13 and 14); keep one"),
    )


def test_two_paths_that_are_one_file_are_refused():
    text = CONFIG + (
        "paths:\n"
        "  swanctl_conf: /etc/strongswan.d/dvsum-vpn.conf\n"
        "  hosts: /etc/strongswan.d/dvsum-vpn.conf\n"
    )
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert caught.value.problems == (
        (
            "paths.charon_dropin",
            "/etc/strongswan.d/dvsum-vpn.conf is also paths.swanctl_conf: each "
            "file needs its own path",
        ),
        (
            "paths.hosts (line 14)",
            "/etc/strongswan.d/dvsum-vpn.conf is also paths.swanctl_conf: each "
            "file needs its own path",
        ),
    )


@pytest.mark.parametrize(
    "field",
    ["hold_down", "resync", "probe_interval", "probe_timeout", "fall", "rise"],
)
def test_a_boolean_is_not_a_number(field):
    text = CONFIG + f"supervise:\n  {field}: true\n"
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    what = "a whole number" if field in ("fall", "rise") else "a number of seconds"
    assert caught.value.problems == (
        (f"supervise.{field} (line 13)", f"expected {what}, got True"),
    )


def test_a_probe_outside_the_landing_zone_is_refused():
    text = CONFIG + "supervise:\n  probe: 192.0.2.7:443\n"
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert any(
        "supervise.probe" in path and "outside the landing zone" in message
        for path, message in caught.value.problems
    )


def test_supervise_settings_are_read_and_checked():
    text = CONFIG + (
        "supervise:\n  probe: 10.0.151.182:8443\n  fall: 2\n  failback: never\n"
    )
    sup = config_mod.parse(text, PATH).supervise
    assert (sup.probe_address, sup.probe_port, sup.fall, sup.failback) == (
        IPv4Address("10.0.151.182"), 8443, 2, "never",
    )  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(CONFIG + "supervise:\n  fall: 0\n  failback: maybe\n", PATH)
    fields = [path for path, _ in caught.value.problems]
    assert any("supervise.fall" in f for f in fields)
    assert any("supervise.failback" in f for f in fields)
