"""Whole-file golden tests of everything ``up`` writes or sends."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network

from agent.plan import build
from agent.render import charon, nft, swanctl
from tests.unit.conftest import PSK1, PSK2, golden


def test_swanctl_policy_mode_whole_file(config, connection, host):
    golden("swanctl-policy.conf", swanctl.render(build(config, connection, host)))


def test_swanctl_route_mode_whole_file(config, connection, host):
    route_host = dataclasses.replace(host, data_plane="route", libipsec=False)
    plan = build(config, connection, route_host)
    golden("swanctl-route.conf", swanctl.render(plan))


def test_charon_dropin_libipsec_whole_file(config, connection, host):
    plan = build(config, connection, host)
    golden("charon-libipsec.conf", charon.render(plan.libipsec))


def test_charon_dropin_kernel_esp_whole_file(config, connection, host):
    plan = build(config, connection, dataclasses.replace(host, libipsec=False))
    golden("charon-kernel.conf", charon.render(plan.libipsec))


def test_nft_table_whole_file(config, connection, host):
    golden("nft-libipsec.nft", nft.render(build(config, connection, host)))


def test_tunnels_are_numbered_by_address_not_file_order(config, connection, host):
    plan = build(config, connection, host)
    assert [
        (t.name, str(t.tunnel.aws_outside_address), t.role) for t in plan.tunnels
    ] == [
        ("dvsum-tunnel1", "203.0.113.44", "primary"),
        ("dvsum-tunnel2", "203.0.113.172", "standby"),
    ]


def test_policy_mode_primary_has_the_narrower_selectors(config, connection, host):
    plan = build(config, connection, host)
    assert [(t.local_ts, t.remote_ts, t.reqid) for t in plan.tunnels] == [
        ((IPv4Network("192.168.10.0/24"),), (IPv4Network("10.0.0.0/16"),), 1),
        ((IPv4Network("0.0.0.0/0"),), (IPv4Network("0.0.0.0/0"),), 2),
    ]


def test_libipsec_route_uses_the_tun_mtu_and_mss(config, connection, host):
    route = build(config, connection, host).route
    assert (route.device, str(route.source), route.mtu, route.advmss) == (
        "ipsec0", "192.168.10.1", 1400, 1360,
    )  # fmt: skip


def test_secrets_carry_the_psk_only_in_the_message(config, connection, host):
    plan = build(config, connection, host)
    assert swanctl.secrets(plan) == [
        {
            "id": "dvsum-tunnel1",
            "type": "IKE",
            "data": PSK1,
            "owners": ["198.51.100.20", "203.0.113.44"],
        },
        {
            "id": "dvsum-tunnel2",
            "type": "IKE",
            "data": PSK2,
            "owners": ["198.51.100.20", "203.0.113.172"],
        },
    ]
    assert PSK1 not in repr(plan)


def test_route_mode_plans_one_xfrm_interface_per_tunnel(config, connection, host):
    route_host = dataclasses.replace(host, data_plane="route", libipsec=False)
    plan = build(config, connection, route_host)
    assert [(i.name, i.if_id, i.mtu, str(i.address)) for i in plan.interfaces] == [
        ("dvsum1", 1, 1436, "169.254.61.18/30"),
        ("dvsum2", 2, 1436, "169.254.140.6/30"),
    ]
    assert (plan.route.device, plan.route.mtu, plan.route.advmss) == (
        "dvsum1", 1436, 1379,
    )  # fmt: skip
    assert plan.mss_devices == ("dvsum1", "dvsum2")
    assert plan.via(2).route.device == "dvsum2"


def test_prefer_overrides_primary(config, connection, host):
    plan = build(config, connection, host, prefer=2)
    assert [(t.name, t.role) for t in plan.tunnels] == [
        ("dvsum-tunnel1", "standby"),
        ("dvsum-tunnel2", "primary"),
    ]
    assert plan.number(2).local_ts == (IPv4Network("192.168.10.0/24"),)
    assert plan.via(1) is plan  # policy mode: selectors decide, not the route
