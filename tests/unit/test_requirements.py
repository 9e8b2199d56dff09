"""DvSum's requirements: warnings for what files print, errors and
proposals from the tunnels' real lists."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from agent import importer, requirements, sources
from agent.model import Connection, Printed, Tunnel, TunnelOptions
from agent.plan import build
from agent.render import swanctl
from agent.requirements import DEFAULT
from tests.unit.conftest import golden

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"
BOTH = "tunnels[0], tunnels[1]"
DH2 = (
    "the file prints DH group 2; dvsum-vpn proposes group 14 (modp2048), as "
    "DvSum requires"
)


def load(name: str) -> Connection:
    return sources.load((SAMPLES / name).read_text())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("00-dvsum-summary-static.txt", []),
        ("01-xml-static-vgw.xml", [DH2]),
        ("04-generic-ikev2-static-vgw.txt", [DH2]),
        (
            "06-generic-2015-no-ike-version-static-vgw.txt",
            [
                "the file names no IKE version, as AWS's downloads did before "
                "IKEv2 (they are for IKEv1); dvsum-vpn uses IKEv2, as DvSum requires",
                DH2,
                "the file prints TCP MSS 1387; dvsum-vpn clamps to 1379 (1360 with "
                "kernel-libipsec), as DvSum requires",
            ],
        ),
        (
            "09-strongswan-ubuntu1604-ikev1-static.txt",
            [
                "the file prints IKEv1; dvsum-vpn uses IKEv2, as DvSum requires",
                DH2,
                "the file prints MTU 1419; dvsum-vpn uses 1436 on XFRM interfaces "
                "(1400 with kernel-libipsec), as DvSum requires",
            ],
        ),
        ("10-describe-vpn-connections-static-vgw.json", []),
        (
            "11-describe-vpn-connections-restricted-tgw.json",
            [
                "AWS's side does not accept aes128-sha1-modp2048; dvsum-vpn proposes "
                "aes256-sha256-sha384-modp2048-ecp384-ecp256,"
                "aes128gcm16-prfsha256-prfsha384-modp2048-ecp384-ecp256 (IKE) and "
                "aes256-sha256-modp2048-ecp384 (ESP), from the tunnel's own lists"
            ],
        ),
    ],
)
def test_each_sample_warns_about_what_it_prints(name, expected):
    assert requirements.warnings(load(name)) == [(BOTH, m) for m in expected]


def test_import_logs_the_warnings_once_for_both_tunnels(caplog, tmp_path):
    with caplog.at_level(logging.WARNING, logger="agent.importer"):
        importer.parse(SAMPLES / "01-xml-static-vgw.xml", None)
    assert caplog.messages == [f"{BOTH}: {DH2}"]


def test_files_that_print_defaults_get_dvsums_proposals():
    for name in ("01-xml-static-vgw.xml", "09-strongswan-ubuntu1604-ikev1-static.txt"):
        assert {requirements.proposals(t) for t in load(name).tunnels} == {DEFAULT}
    dvsum = ("aes128-sha1-modp2048",)
    assert (DEFAULT.ike, DEFAULT.esp) == (dvsum, dvsum)


def test_json_lists_that_allow_dvsums_choice_keep_it():
    connection = load("10-describe-vpn-connections-static-vgw.json")
    assert {requirements.proposals(t) for t in connection.tunnels} == {DEFAULT}


def test_restricted_lists_lead_the_swanctl_file(config, host):
    connection = load("11-describe-vpn-connections-restricted-tgw.json")
    config = dataclasses.replace(config, primary=None)
    golden("swanctl-json-lists.conf", swanctl.render(build(config, connection, host)))


def tunnel(**options: object) -> Tunnel:
    base = load("10-describe-vpn-connections-static-vgw.json").tunnels[0]
    made = TunnelOptions(**options)  # type: ignore[arg-type]
    return dataclasses.replace(base, options=made)


@pytest.mark.parametrize(
    ("options", "ike", "esp"),
    [
        # Only the DH groups are narrowed: DvSum's ciphers, group 14 dropped.
        (
            {"phase1_dh_group_numbers": (19, 20), "phase2_dh_group_numbers": (19,)},
            "aes128-aes256-sha1-sha256-sha384-sha512-ecp256-ecp384",
            "aes128-aes256-sha1-sha256-sha384-sha512-ecp256",
        ),
        # GCM alone: IKE takes a PRF, ESP no integrity algorithm.
        (
            {
                "phase1_encryption_algorithms": ("AES256-GCM-16",),
                "phase2_encryption_algorithms": ("AES128-GCM-16",),
                "phase1_integrity_algorithms": ("SHA2-512",),
            },
            "aes256gcm16-prfsha512-modp2048-modp3072-modp4096-modp6144-modp8192-"
            "ecp256-ecp384-ecp521-modp2048s224-modp2048s256",
            "aes128gcm16-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-"
            "ecp384-ecp521-modp2048s224-modp2048s256",
        ),
        # Weak groups and unknown names are left out, not refused.
        (
            {
                "phase1_encryption_algorithms": ("AES256", "CHACHA20"),
                "phase1_dh_group_numbers": (2, 22, 14),
                "phase2_dh_group_numbers": (5, 15),
            },
            "aes256-sha1-sha256-sha384-sha512-modp2048",
            "aes128-aes256-sha1-sha256-sha384-sha512-modp3072",
        ),
    ],
)
def test_proposals_follow_the_lists(options, ike, esp):
    chosen = requirements.proposals(tunnel(**options))
    assert (chosen.ike[0], chosen.esp[0]) == (ike, esp)


def test_unknown_names_and_dpd_settings_warn():
    narrowed = tunnel(
        phase1_encryption_algorithms=("AES256", "CHACHA20"),
        dpd_timeout_seconds=120,
        dpd_timeout_action="none",
        phase1_lifetime_seconds=14400,
    )
    connection = load("10-describe-vpn-connections-static-vgw.json")
    connection = dataclasses.replace(connection, tunnels=(narrowed,))
    messages = [m for _, m in requirements.warnings(connection)]
    assert messages[1:] == [
        "dvsum-vpn does not know CHACHA20: not proposed",
        "AWS declares this side dead after 120 s without DPD replies; DvSum "
        "requires 10 s x 3 (AWS's 30 or 40 s)",
        "AWS takes no action when DPD times out (DpdTimeoutAction none); "
        "dvsum-vpn restarts the tunnel from this side",
        "the IKE (phase 1) lifetime is 14400 s, DvSum requires 28800 s: "
        "dvsum-vpn keeps its own timers and accepts AWS's rekeys",
    ]


def test_printed_algorithms_and_dpd_other_than_dvsums_warn():
    base = load("04-generic-ikev2-static-vgw.txt")
    printed = Printed(
        ike_version=2,
        ike_encryption="aes-256-cbc",
        ike_integrity="sha2-256",
        ike_dh_groups=(14,),
        esp_encryption="aes-128-cbc",
        esp_integrity="hmac-sha1-96",
        esp_dh_groups=(14,),
        esp_lifetime=1800,
        dpd_delay=30,
        dpd_retries=5,
    )
    connection = dataclasses.replace(
        base, tunnels=(dataclasses.replace(base.tunnels[0], printed=printed),)
    )
    assert [m for _, m in requirements.warnings(connection)] == [
        "the file prints IKE encryption 'aes-256-cbc'; dvsum-vpn proposes aes128, "
        "as DvSum requires",
        "the file prints IKE integrity 'sha2-256'; dvsum-vpn proposes sha1, as "
        "DvSum requires",
        "the ESP (phase 2) lifetime is 1800 s, DvSum requires 3600 s: dvsum-vpn "
        "keeps its own timers and accepts AWS's rekeys",
        "the file prints DPD every 30 s, 5 retries; dvsum-vpn uses DvSum's 10 s and 3",
    ]


def test_errors_name_the_tunnel_and_list():
    broken = tunnel(
        ike_versions=("ikev1",),
        phase2_integrity_algorithms=("MD5",),
        phase2_encryption_algorithms=("AES256",),
        phase1_dh_group_numbers=(99,),
    )
    assert requirements.errors(1, broken) == [
        (
            "tunnels[1].options.ike_versions",
            "the tunnel accepts only ikev1; DvSum requires IKEv2: ask DvSum to "
            "allow ikev2 on it",
        ),
        (
            "tunnels[1].options.phase1_dh_group_numbers",
            "none of the DH groups 99 is one strongSwan offers",
        ),
        (
            "tunnels[1].options.phase2_integrity_algorithms",
            "none of MD5 is an integrity algorithm strongSwan offers (SHA1, "
            "SHA2-256, SHA2-384, SHA2-512)",
        ),
    ]
    # A refused tunnel is never rendered; were it, DvSum's default stands.
    assert requirements.proposals(broken) == DEFAULT


def test_json_restricted_sample_round_trips_through_its_public_json():
    loaded = load("11-describe-vpn-connections-restricted-tgw.json")
    assert json.loads(json.dumps(loaded.public()))["tunnels"][0] == {
        "aws_outside_address": "192.0.2.61",
        "customer_outside_address": "203.0.113.150",
        "customer_inside_cidr": "169.254.77.6/30",
        "aws_inside_address": "169.254.77.5",
        "aws_asn": None,
        "bgp_hold_time": None,
        "psk_present": True,
    }


def test_a_bgp_connection_warns_that_the_agent_routes_statically():
    assert requirements.warnings(load("02-xml-bgp-vgw.xml"))[0] == (
        "routing",
        "the connection uses BGP; dvsum-vpn routes statically and runs no BGP "
        "speaker, so AWS learns no route back to you from it: ask DvSum for static "
        "routing (the guide's default)",
    )
