"""dns: in config.yaml: forward mode's resolvers, domain and backend."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

from agent import config as config_mod
from agent.dns import target
from agent.errors import ConfigError

PATH = Path("/etc/dvsum-vpn/config.yaml")
BASE = """\
aws_file: /etc/dvsum-vpn/aws-vpn.conf
psk_file: /etc/dvsum-vpn/psk.yaml
customer_cidr: 192.168.10.0/24
"""


def test_forward_mode_reads_resolvers_domain_and_backend():
    config = config_mod.parse(
        BASE
        + "dns:\n  mode: forward\n  resolvers: [10.0.10.53, 10.0.20.53]\n"
        + "  backend: unbound\n  reload_command: [systemctl, reload, unbound]\n",
        PATH,
    )
    assert config.dns == config_mod.Dns(
        mode="forward",
        resolvers=(IPv4Address("10.0.10.53"), IPv4Address("10.0.20.53")),
        domain="dvsum.ai",
        backend="unbound",
        reload_command=("systemctl", "reload", "unbound"),
    )
    assert config.paths.unbound_conf == Path(
        "/etc/unbound/unbound.conf.d/dvsum-vpn.conf"
    )
    assert target.forwarding(config) == target.Forwarding(
        "dvsum.ai", config.dns.resolvers, "unbound"
    )


def test_domain_is_normalised():
    config = config_mod.parse(
        BASE + "dns:\n  mode: forward\n  resolvers: [10.0.10.53]\n"
        "  domain: Private.DvSum.AI.\n",
        PATH,
    )
    assert config.dns.domain == "private.dvsum.ai"
    assert config.dns.backend == "auto"


def test_hosts_mode_has_no_forwarding():
    config = config_mod.parse(BASE + "dns:\n  mode: none\n", PATH)
    assert target.forwarding(config) is None


def test_every_forward_problem_at_once():
    text = (
        BASE
        + """\
dns:
  mode: forward
  resolvers: [10.0.10.53, 192.0.2.53, 10.0.10.53, nope]
  domain: ai
  backend: bind
  reload_command: systemctl restart dnsmasq
  servers: []
"""
    )
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, PATH)
    assert caught.value.problems == (
        ("dns.servers (line 10)", "unknown setting"),
        ("dns.resolvers[2]", "10.0.10.53 is listed twice"),
        ("dns.resolvers[3]", "expected an IPv4 address, got 'nope'"),
        ("dns.domain (line 7)", "expected a DNS domain, got 'ai'"),
        ("dns.backend (line 8)", "expected one of auto, systemd-resolved, dnsmasq, "
         "unbound, got 'bind'"),
        ("dns.reload_command (line 9)", "expected a list of command words, got "
         "'systemctl restart dnsmasq'"),
        ("dns.resolvers (line 6)", "192.0.2.53 is outside the landing zone "
         "10.0.0.0/16: queries to it would not go through the tunnel"),
    )  # fmt: skip


def test_forward_mode_needs_the_resolvers():
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(BASE + "dns:\n  mode: forward\n", PATH)
    ((field, message),) = caught.value.problems
    assert field == "dns.resolvers"
    assert message.startswith("required when dns.mode is forward")
