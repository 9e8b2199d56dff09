"""AWS files -> RAW -> Connection: each layout, each refusal, all problems."""

from __future__ import annotations

import json
import logging
import os
import random
import re
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from pathlib import Path

import pytest

from agent import sources
from agent.errors import InputError
from agent.model import Connection, Printed, Routing, Tunnel, TunnelOptions
from agent.secret import Secret
from agent.sources.raw import OPTION_KEYS, TUNNEL_KEYS

# Copies of shared/samples/aws: synthetic files in AWS's real layouts.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"
# What each sample parses to before validation, as JSON.
RAW_GOLDEN = Path(__file__).with_name("data") / "sources"

ASK = (
    'dvsum-vpn reads AWS\'s "Generic / Vendor Agnostic" or "Strongswan" '
    "download, the XML (CustomerGatewayConfiguration) or the JSON of `aws ec2 "
    "describe-vpn-connections`: ask DvSum for one of those"
)

# Every sample and its layout; samples on one line describe one connection.
LAYOUTS = {
    "00-dvsum-summary-static.txt": "summary",
    "01-xml-static-vgw.xml": "xml",
    "02-xml-bgp-vgw.xml": "xml",
    "03-xml-bgp-tgw-ipv6.xml": "xml",
    "04-generic-ikev2-static-vgw.txt": "generic",
    "05-generic-2019-ikev1-bgp-vgw.txt": "generic",
    "06-generic-2015-no-ike-version-static-vgw.txt": "generic",
    "07-generic-2009-vpn-gateway-bgp.txt": "generic",
    "08-strongswan-ubuntu1604-ikev2-static.txt": "strongswan",
    "09-strongswan-ubuntu1604-ikev1-static.txt": "strongswan",
    "10-describe-vpn-connections-static-vgw.json": "json",
    "11-describe-vpn-connections-restricted-tgw.json": "json",
}
SAME_CONNECTION = (
    (
        "01-xml-static-vgw.xml",
        "04-generic-ikev2-static-vgw.txt",
        "06-generic-2015-no-ike-version-static-vgw.txt",
        "08-strongswan-ubuntu1604-ikev2-static.txt",
        "09-strongswan-ubuntu1604-ikev1-static.txt",
        "10-describe-vpn-connections-static-vgw.json",
    ),
    (
        "02-xml-bgp-vgw.xml",
        "05-generic-2019-ikev1-bgp-vgw.txt",
        "07-generic-2009-vpn-gateway-bgp.txt",
    ),
)

XML_PRINTED = Printed(
    ike_encryption="aes-128-cbc",
    ike_integrity="sha1",
    ike_dh_groups=(2,),
    ike_lifetime=28800,
    esp_encryption="aes-128-cbc",
    esp_integrity="hmac-sha1-96",
    esp_dh_groups=(2,),
    esp_lifetime=3600,
    dpd_delay=10,
    dpd_retries=3,
    mss=1379,
)
GENERIC_PRINTED = replace(XML_PRINTED, ike_version=2, mtu=1436)
SUMMARY_PRINTED = replace(GENERIC_PRINTED, ike_dh_groups=(14,), esp_dh_groups=(14,))
STRONGSWAN_PRINTED = Printed(
    ike_version=2,
    ike_encryption="aes128",
    ike_integrity="sha1",
    ike_dh_groups=(2,),
    ike_lifetime=28800,
    esp_encryption="aes128",
    esp_integrity="sha1",
    esp_dh_groups=(2,),
    esp_lifetime=3600,
    dpd_delay=10,
    mtu=1419,
)

PSKS_01 = ("a1cK2ZKz4gC0USMfvgS5hn_9N1wKMbf8", "on7FNCkiOjpuf5R2pz0B9NMv3cvts6ag")
PSKS_00 = ("Xq3v_L9.tPzR7wK2mN5bH8cJ", "fT6y.Hn2Wq8_Ls4Dk9Rv3Mz1")
PSKS_02 = ("lD8f7P3L_pStZxMTZE11X_kmi6RU43T8", "zHly0mn4x0t_WOf2oSWq81dJIjLei0WD")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def tunnel(
    aws: str, customer: str, inside: str, aws_inside: str, printed: Printed, **extra
) -> Tunnel:
    return Tunnel(
        aws_outside_address=IPv4Address(aws),
        customer_outside_address=IPv4Address(customer),
        customer_inside_cidr=IPv4Interface(inside),
        aws_inside_address=IPv4Address(aws_inside),
        printed=printed,
        **extra,
    )


def connection_01(layout: str, printed: Printed) -> Connection:
    """Samples 01, 04 and 08: one connection in three layouts."""
    return Connection(
        layout=layout,
        vpn_connection_id="vpn-63395b99bbb5f9676",
        routing=Routing.STATIC,
        customer_asn=None,
        tunnels=(
            tunnel(
                "198.51.100.37", "203.0.113.25", "169.254.88.2/30",
                "169.254.88.1", printed,
            ),
            tunnel(
                "198.51.100.201", "203.0.113.25", "169.254.123.230/30",
                "169.254.123.229", printed,
            ),
        ),
    )  # fmt: skip


def psks(connection: Connection) -> list[str | None]:
    return [t.psk.reveal() if t.psk else None for t in connection.tunnels]


def problems(text: str, psk_map=None) -> tuple[tuple[str, str], ...]:
    with pytest.raises(InputError) as caught:
        sources.load(text, psk_map)
    return caught.value.problems


def refusal(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    with pytest.raises(InputError) as caught:
        sources.load(text)
    return str(caught.value), caught.value.problems


# --- each sample, whole ---------------------------------------------------


@pytest.mark.parametrize(("name", "layout"), LAYOUTS.items())
def test_each_sample_parses_to_its_golden_raw(name, layout):
    """DVSUM_UPDATE_GOLDEN=1 rewrites the RAW goldens after a deliberate change."""
    path = RAW_GOLDEN / f"{Path(name).stem}.raw.json"
    found = sources.parse(sample(name))
    if os.environ.get("DVSUM_UPDATE_GOLDEN"):
        path.write_text(json.dumps(found[1], indent=2, sort_keys=True) + "\n")
    assert found == (layout, json.loads(path.read_text()))
    for raw_tunnel in found[1]["tunnels"]:
        assert set(raw_tunnel) <= {*TUNNEL_KEYS, "line", "lines"}
        assert set(raw_tunnel.get("lines", {})) <= set(raw_tunnel)
    for options in found[1].get("tunnel_options", []):
        assert set(options) <= set(OPTION_KEYS)


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize(
    "damage",
    [
        lambda t: "\ufeff" + t,
        lambda t: t.replace("\n", "\r\n"),
        lambda t: "\ufeff" + t.replace("\n", "\r\n"),
        lambda t: t.replace("\n", "\r"),
    ],
    ids=["bom", "crlf", "bom-crlf", "cr"],
)
def test_byte_order_marks_and_line_ends_change_nothing(name, damage):
    text = sample(name)
    assert sources.load(damage(text)).public() == sources.load(text).public()


@pytest.mark.parametrize("names", SAME_CONNECTION)
def test_one_connection_in_every_layout_gives_the_same_public_json(names):
    public = {name: sources.load(sample(name)).public() for name in names}
    first = public[names[0]]
    assert all(data == first for data in public.values()), public


@pytest.mark.parametrize(
    ("name", "layout", "printed"),
    [
        ("01-xml-static-vgw.xml", "xml", XML_PRINTED),
        ("04-generic-ikev2-static-vgw.txt", "generic", GENERIC_PRINTED),
        ("08-strongswan-ubuntu1604-ikev2-static.txt", "strongswan", STRONGSWAN_PRINTED),
        (
            "06-generic-2015-no-ike-version-static-vgw.txt",
            "generic",
            replace(GENERIC_PRINTED, ike_version=None, mss=1387),
        ),
        (
            "09-strongswan-ubuntu1604-ikev1-static.txt",
            "strongswan",
            replace(STRONGSWAN_PRINTED, ike_version=1),
        ),
    ],
)
def test_static_sample_gives_the_whole_connection(name, layout, printed):
    loaded = sources.load(sample(name))
    expected = connection_01(layout, printed)
    assert loaded.by_address() == expected.by_address()
    assert replace(loaded, tunnels=()) == replace(expected, tunnels=())
    assert sorted(psks(loaded)) == sorted(PSKS_01)


def test_bgp_xml_gives_asns_hold_time_and_neighbours():
    loaded = sources.load(sample("02-xml-bgp-vgw.xml"))
    bgp = {"aws_asn": 64512, "bgp_hold_time": 30}
    assert loaded == Connection(
        layout="xml",
        vpn_connection_id="vpn-deb0e3b40ea01424a",
        routing=Routing.BGP,
        customer_asn=65000,
        tunnels=(
            tunnel(
                "192.0.2.14", "203.0.113.77", "169.254.41.14/30",
                "169.254.41.13", XML_PRINTED, **bgp,
            ),
            tunnel(
                "192.0.2.238", "203.0.113.77", "169.254.200.102/30",
                "169.254.200.101", XML_PRINTED, **bgp,
            ),
        ),
    )  # fmt: skip
    assert psks(loaded) == list(PSKS_02)


SUMMARY_00 = Connection(
    layout="summary",
    vpn_connection_id="vpn-0b7e41c29d5a8f316",
    routing=Routing.STATIC,
    customer_asn=None,
    tunnels=(
        tunnel(
            "203.0.113.44", "198.51.100.20", "169.254.61.18/30", "169.254.61.17",
            SUMMARY_PRINTED,
        ),
        tunnel(
            "203.0.113.172", "198.51.100.20", "169.254.140.6/30", "169.254.140.5",
            SUMMARY_PRINTED,
        ),
    ),
)  # fmt: skip


def test_summary_alone_has_no_psks():
    loaded = sources.load(sample("00-dvsum-summary-static.txt"))
    assert loaded == SUMMARY_00
    assert psks(loaded) == [None, None]


@pytest.mark.parametrize(
    "keys",
    [
        (IPv4Address("203.0.113.44"), IPv4Address("203.0.113.172")),
        ("tunnel1", "tunnel2"),
    ],
)
def test_summary_with_the_psk_mapping_gets_both_psks(keys):
    mapping = {key: Secret(psk) for key, psk in zip(keys, PSKS_00, strict=True)}
    loaded = sources.load(sample("00-dvsum-summary-static.txt"), mapping)
    assert loaded == SUMMARY_00
    assert psks(loaded) == list(PSKS_00)


def test_psk_given_apart_wins_and_the_warning_names_only_the_address(caplog):
    other = "Zz9_different.key"
    mapping = {IPv4Address("198.51.100.201"): Secret(other)}
    with caplog.at_level(logging.WARNING, logger="agent.sources"):
        loaded = sources.load(sample("01-xml-static-vgw.xml"), mapping)
    assert psks(loaded) == [PSKS_01[0], other]
    assert caplog.messages == [
        "198.51.100.201: the PSK given apart differs from the AWS file's; "
        "using the one given apart"
    ]
    assert other not in caplog.text and PSKS_01[1] not in caplog.text


def test_psk_given_apart_equal_to_the_files_is_silent(caplog):
    mapping = {"tunnel1": Secret(PSKS_01[0])}
    with caplog.at_level(logging.WARNING, logger="agent.sources"):
        loaded = sources.load(sample("01-xml-static-vgw.xml"), mapping)
    assert psks(loaded) == list(PSKS_01)
    assert caplog.messages == []


def test_psk_keys_naming_no_tunnel_or_disagreeing_are_refused():
    mapping = {
        IPv4Address("192.0.2.9"): Secret(PSKS_00[0]),
        IPv4Address("203.0.113.44"): Secret(PSKS_00[0]),
        "tunnel1": Secret(PSKS_00[1]),
    }
    assert problems(sample("00-dvsum-summary-static.txt"), mapping) == (
        (
            "psks[192.0.2.9]",
            "names no tunnel of this connection (203.0.113.44, 203.0.113.172)",
        ),
        ("psks[tunnel1]", "another key gives 203.0.113.44 a different PSK"),
    )


def test_a_psk_key_of_another_kind_is_refused_without_showing_it():
    mapping = {PSKS_00[0]: Secret(PSKS_00[1])}
    with pytest.raises(InputError) as caught:
        sources.load(sample("00-dvsum-summary-static.txt"), mapping)
    assert caught.value.problems == (
        ("psks", "a key is not an address, tunnel1 or tunnel2"),
    )
    assert PSKS_00[0] not in str(caught.value) + repr(caught.value.problems)


# --- the JSON of describe-vpn-connections ---------------------------------

JSON_10 = sample("10-describe-vpn-connections-static-vgw.json")
JSON_11 = sample("11-describe-vpn-connections-restricted-tgw.json")


def edit_json(text: str, edit) -> str:
    """``text`` (a describe output) with ``edit`` applied to its connection."""
    data = json.loads(text)
    edit(data["VpnConnections"][0])
    return json.dumps(data)


def each_tunnel_option(**values):
    def edit(connection):
        for item in connection["Options"]["TunnelOptions"]:
            item.update(values)

    return edit


def test_json_gives_the_xml_connection_and_the_tunnels_real_options():
    loaded = sources.load(JSON_10)
    xml = sources.load(sample("01-xml-static-vgw.xml"))
    assert loaded.layout == "json"
    assert [replace(t, options=None) for t in loaded.tunnels] == list(xml.tunnels)
    # Matched by outside address: the JSON lists the tunnels the other way.
    assert [t.options for t in loaded.tunnels] == [
        TunnelOptions(
            ike_versions=("ikev1", "ikev2"),
            phase1_encryption_algorithms=AWS_ENC,
            phase1_integrity_algorithms=AWS_INT,
            phase1_dh_group_numbers=(2, *range(14, 25)),
            phase2_encryption_algorithms=AWS_ENC,
            phase2_integrity_algorithms=AWS_INT,
            phase2_dh_group_numbers=(2, 5, *range(14, 25)),
            phase1_lifetime_seconds=28800,
            phase2_lifetime_seconds=3600,
            rekey_margin_time_seconds=270,
            rekey_fuzz_percentage=100,
            replay_window_size=1024,
            dpd_timeout_seconds=40,
            dpd_timeout_action="clear",
            startup_action="add",
            tunnel_inside_cidr=IPv4Interface(cidr).network,
        )
        for cidr in ("169.254.88.0/30", "169.254.123.228/30")
    ]
    assert psks(loaded) == list(PSKS_01)


AWS_ENC = ("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16")
AWS_INT = ("SHA1", "SHA2-256", "SHA2-384", "SHA2-512")


@pytest.mark.parametrize(
    "shape",
    [
        lambda c: {"VpnConnection": c},
        lambda c: [c],
        lambda c: c,
        lambda c: c["CustomerGatewayConfiguration"],
    ],
    ids=["create-output", "list", "object", "query-string"],
)
def test_every_json_shape_aws_prints_is_read(shape):
    connection = json.loads(JSON_10)["VpnConnections"][0]
    loaded = sources.load(json.dumps(shape(connection)))
    assert loaded.public() == sources.load(JSON_10).public()


def test_json_with_two_connections_names_them():
    data = json.loads(JSON_10)
    other = dict(data["VpnConnections"][0], VpnConnectionId="vpn-0aaaaaaaaaaaaaaaa")
    data["VpnConnections"].append(other)
    assert refusal(json.dumps(data)) == (
        "the JSON holds 2 VPN connections (vpn-63395b99bbb5f9676, "
        "vpn-0aaaaaaaaaaaaaaaa); give one with `aws ec2 describe-vpn-connections "
        "--vpn-connection-ids vpn-...`",
        (),
    )


def test_json_without_the_xml_says_how_to_get_it():
    text = edit_json(JSON_10, lambda c: c.pop("CustomerGatewayConfiguration"))
    assert refusal(text)[0].startswith(
        "the JSON has no CustomerGatewayConfiguration, which holds the customer "
        "gateway's address and the inside addresses; run `aws ec2"
    )


def test_broken_json_names_the_line():
    assert refusal(JSON_10[:200]) == (
        "not valid JSON: Unterminated string starting at (line 4, column 45)",
        (),
    )


def test_json_options_that_name_no_tunnel_or_contradict_the_xml():
    def edit(connection):
        first, second = connection["Options"]["TunnelOptions"]
        first["OutsideIpAddress"] = "192.0.2.99"
        second["PreSharedKey"] = "Zz9_another.key"
        second["TunnelInsideCidr"] = "169.254.9.0/30"
        second["Phase1LifetimeSeconds"] = 99999
        second["DpdTimeoutAction"] = "explode"
        second["IkeVersions"] = [{"Value": "ikev3"}]

    shown = problems(edit_json(JSON_10, edit))
    assert shown == (
        (
            "tunnels[0].options.pre_shared_key",
            "differs from the XML's pre_shared_key for this tunnel: the JSON "
            "contradicts itself, ask DvSum for a fresh copy",
        ),
        (
            "tunnels[0].options.tunnel_inside_cidr",
            "169.254.9.0/30 does not hold the XML's customer_inside_address "
            "169.254.88.2",
        ),
        ("tunnels[0].options.ike_versions", "expected ikev1 or ikev2, got 'ikev3'"),
        (
            "tunnels[0].options.phase1_lifetime_seconds",
            "expected 900 to 28800, got 99999",
        ),
        (
            "tunnels[0].options.dpd_timeout_action",
            "expected clear, none, restart, got 'explode'",
        ),
        (
            "tunnel_options[0].outside_ip_address",
            "192.0.2.99 names no tunnel of the XML (198.51.100.37, 198.51.100.201)",
        ),
    )
    assert "Zz9_another" not in repr(shown)


def test_json_gives_the_psk_the_xml_lacks():
    def edit(connection):
        connection["CustomerGatewayConfiguration"] = re.sub(
            r"<pre_shared_key>[^<]*</pre_shared_key>",
            "",
            connection["CustomerGatewayConfiguration"],
        )

    assert psks(sources.load(edit_json(JSON_10, edit))) == list(PSKS_01)


def test_json_lists_that_leave_nothing_are_refused():
    edits = each_tunnel_option(
        IkeVersions=[{"Value": "ikev1"}],
        Phase1DHGroupNumbers=[{"Value": 2}, {"Value": 22}],
        Phase2EncryptionAlgorithms=[{"Value": "CHACHA20"}],
    )
    found = problems(edit_json(JSON_11, edits))
    assert found[:3] == (
        (
            "tunnels[0].options.ike_versions",
            "the tunnel accepts only ikev1; DvSum requires IKEv2: ask DvSum to "
            "allow ikev2 on it",
        ),
        (
            "tunnels[0].options.phase1_dh_group_numbers",
            "only DH groups weaker than group 14 (2, 22); DvSum requires group 14 "
            "(modp2048) or stronger",
        ),
        (
            "tunnels[0].options.phase2_encryption_algorithms",
            "none of CHACHA20 is an encryption algorithm strongSwan offers (AES128, "
            "AES256, AES128-GCM-16, AES256-GCM-16)",
        ),
    )
    assert [path.split(".")[0] for path, _ in found] == ["tunnels[0]"] * 3 + [
        "tunnels[1]"
    ] * 3


def test_shape_and_requirement_problems_come_together():
    def edit(connection):
        first = connection["Options"]["TunnelOptions"][0]
        first["Phase1DHGroupNumbers"] = [{"Value": 5}]
        connection["CustomerGatewayConfiguration"] = connection[
            "CustomerGatewayConfiguration"
        ].replace(">192.0.2.189<", ">192.0.2.300<")

    assert [path for path, _ in problems(edit_json(JSON_11, edit))] == [
        "tunnels[0].options.phase1_dh_group_numbers",
        "tunnels[1].aws_outside_address",
        "tunnel_options[1].outside_ip_address",
    ]


# --- older and other variants of the text layouts ------------------------


def test_oldest_generic_static_has_an_empty_bgp_section():
    """The 2009 template printed the BGP section even without BGP."""
    text = sample("07-generic-2009-vpn-gateway-bgp.txt")
    for value in ("65000", "64512", "30", "169.254.41.13", "169.254.200.101"):
        text = re.sub(
            rf"(ASN|Address|Hold Time)( +: ){re.escape(value)}", r"\1\2", text
        )
    loaded = sources.load(text)
    assert (loaded.routing, loaded.customer_asn) == (Routing.STATIC, None)
    assert [(t.aws_asn, t.bgp_hold_time) for t in loaded.tunnels] == [(None, None)] * 2


def test_generic_next_hop_must_be_the_aws_inside_address():
    text = sample("04-generic-ikev2-static-vgw.txt").replace(
        "Next hop       : 169.254.88.1", "Next hop       : 169.254.88.9"
    )
    assert problems(text) == (
        (
            "tunnels[0].next_hop (line 111)",
            "169.254.88.9 is not the AWS inside address 169.254.88.1",
        ),
    )


def test_strongswan_inside_addresses_from_the_updown_line_alone():
    text = re.sub(
        r"^.*ip addr add .*$", "", sample("08-strongswan-ubuntu1604-ikev2-static.txt"),
        flags=re.M,
    )  # fmt: skip
    loaded = sources.load(text)
    assert loaded.public() == sources.load(sample("01-xml-static-vgw.xml")).public()


def test_tgw_xml_keeps_the_ipv6_inside_addresses_next_to_the_ipv4_ones():
    loaded = sources.load(sample("03-xml-bgp-tgw-ipv6.xml"))
    assert [
        (t.customer_inside_ipv6_cidr, t.aws_inside_ipv6_address) for t in loaded.tunnels
    ] == [
        (IPv6Interface("2001:db8:30::2/126"), IPv6Address("2001:db8:30::1")),
        (IPv6Interface("2001:db8:31::6/126"), IPv6Address("2001:db8:31::5")),
    ]
    without = re.sub(
        r"\s*<tunnel_inside_ipv6_address>.*?</tunnel_inside_ipv6_address>",
        "",
        sample("03-xml-bgp-tgw-ipv6.xml"),
        flags=re.S,
    )
    assert sources.load(without).public() == loaded.public()


def test_tunnels_with_only_ipv6_inside_addresses_are_refused_saying_why():
    text = re.sub(
        r"\s*<tunnel_inside_address>.*?</tunnel_inside_address>",
        "",
        sample("03-xml-bgp-tgw-ipv6.xml"),
        flags=re.S,
    )
    found = problems(text)
    assert found[0] == (
        "tunnels[0].customer_inside_address",
        "missing: this tunnel has only an IPv6 inside address; DvSum's landing "
        "zone is IPv4, ask DvSum for a connection with IPv4 inside addresses "
        "(tunnel at line 6)",
    )


def test_ipv6_inside_addresses_in_different_126s_are_named():
    text = sample("03-xml-bgp-tgw-ipv6.xml").replace(
        "2001:db8:30::1<", "2001:db8:99::1<"
    )
    assert problems(text) == (
        (
            "tunnels[0].aws_inside_ipv6_address (line 35)",
            "2001:db8:99::1 is not the other end of the customer's 2001:db8:30::/126",
        ),
    )


def test_lifetimes_outside_what_aws_allows():
    text = sample("04-generic-ikev2-static-vgw.txt").replace(
        "28800 seconds", "86400 seconds", 1
    )
    assert problems(text) == (
        ("tunnels[0].ike_lifetime (line 39)", "expected 900 to 28800, got 86400"),
    )


def test_a_number_of_thousands_of_digits_is_named_not_converted():
    text = sample("01-xml-static-vgw.xml").replace(
        "<lifetime>3600<", f"<lifetime>{'9' * 5000}<", 1
    )
    assert problems(text) == (
        ("tunnels[0].esp_lifetime (line 40)", "expected 900 to 3600, got 5000 digits"),
    )


def generic_bgp(text: str) -> str:
    """Sample 04 with AWS's BGP section in place of the static one."""
    section = (
        "#4: Border Gateway Protocol (BGP) Configuration:\n\n"
        "BGP Configuration Options:\n"
        "  - Customer Gateway ASN\t          : 65000\n"
        "  - Virtual Private  Gateway ASN          : 64512 \n"
        "  - Neighbor IP Address     \t\t  : {neighbor}\n"
        "  - Neighbor Hold Time       : 30\n"
    )
    return re.sub(
        r"#4: Static Routing Configuration:.*?Next hop\s*: (\S+)",
        lambda m: section.format(neighbor=m[1]),
        text,
        flags=re.S,
    )


def test_generic_bgp_section_is_read_per_tunnel():
    loaded = sources.load(generic_bgp(sample("04-generic-ikev2-static-vgw.txt")))
    bgp = {"aws_asn": 64512, "bgp_hold_time": 30}
    expected = connection_01("generic", GENERIC_PRINTED)
    assert loaded == replace(
        expected,
        routing=Routing.BGP,
        customer_asn=65000,
        tunnels=tuple(replace(t, **bgp) for t in expected.tunnels),
    )


# --- refusals: the file as a whole ----------------------------------------


def test_truncated_xml_names_where_it_stops():
    text = sample("01-xml-static-vgw.xml")
    assert refusal(text[: len(text) // 2]) == (
        "not well-formed XML: unclosed token at line 45, column 31",
        (),
    )


def test_xml_with_a_doctype_is_refused_before_parsing():
    text = (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
        "<vpn_connection>&lol2;</vpn_connection>\n"
    )
    assert refusal(text) == (
        "XML with a DOCTYPE or ENTITY declaration is refused: AWS never sends one",
        (),
    )


def test_xml_of_another_kind_is_refused():
    assert refusal("<config><vpn/></config>") == (
        f"XML root is <config>, expected <vpn_connection>; {ASK}",
        (),
    )


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_empty_file(text):
    assert refusal(text) == (f"the file is empty; {ASK}", ())


@pytest.mark.parametrize(
    ("vendor", "script"),
    [
        ("Cisco", "IPSec Tunnel #1\n! comment\ncrypto isakmp policy 200\n"),
        ("Cisco", "crypto ikev2 proposal PROPOSAL1\n encryption aes-cbc-128\n"),
        ("Fortinet", "config vpn ipsec phase1-interface\n edit vpn-1\n"),
        ("Juniper", "set security ike proposal ike-prop-vpn-1 dh-group group2\n"),
        ("Palo Alto", "set network ike gateway ike-vpn-1 protocol ikev1\n"),
        ("Vyatta", "set vpn ipsec ike-group AWS lifetime '28800'\n"),
        ("Cisco", "tunnel-group 198.51.100.37 type ipsec-l2l\n"),
        ("Check Point", "IPSec Tunnel #1\nset vpn tunnel 1 type numbered\n"),
        ("Juniper", "set ike p1-proposal ike-prop-vpn-1 preshare group2\n"),
        ("MikroTik", "/ip ipsec peer add address=198.51.100.37\n"),
        ("Yamaha", "tunnel select 1\n ipsec tunnel 201\n"),
        ("Zyxel", "isakmp policy vpn-1\n"),
        ("Citrix", "add ipsec profile aws-1 -encAlgo AES\n"),
        ("F5", "tmsh create net ipsec ike-peer aws-1\n"),
        ("Windows Server", "netsh advfirewall consec add rule Name=vgw-1\n"),
        (
            "SonicWall",
            "IPSec Tunnel #1\n#1: Internet Key Exchange Configuration\n"
            "This configuration was tested on a SonicWALL NSA 2400MX running "
            "SonicOS 5.8\n",
        ),
        (
            "WatchGuard",
            "! This configuration has been tested on a WatchGuard Firebox\n",
        ),
    ],
)
def test_another_vendors_script_says_what_to_ask_for(vendor, script):
    assert refusal(script) == (f"this is AWS's script for a {vendor} device; {ASK}", ())


def test_openswan_download_is_refused_for_lacking_inside_addresses():
    text = (
        "IPSEC Tunnel #1\nconn Tunnel1\n\tauthby=secret\n\tleftid=203.0.113.25\n"
        "\tright=198.51.100.37\n\tphase2alg=aes128-sha1;modp1024\n"
    )
    assert refusal(text) == (
        "this is AWS's Openswan download, which lacks the tunnels' inside "
        f"addresses; {ASK}",
        (),
    )


def test_a_saved_web_page_is_named():
    assert refusal("<!DOCTYPE html>\n<html><body>VPN</body></html>") == (
        f"this is a web page (HTML), not AWS's file: save the download itself; {ASK}",
        (),
    )


def test_the_strongswan_download_is_not_taken_for_a_vendor_script():
    text = sample("08-strongswan-ubuntu1604-ikev2-static.txt")
    assert "tested for Strongswan 5.5.1" in text
    assert sources.detect(text) == "strongswan"


def test_a_file_of_thousands_of_tunnels_is_refused_by_its_size():
    text = sample("04-generic-ikev2-static-vgw.txt") * 200
    assert refusal(text) == (
        f"the file has {len(text)} characters; AWS's configuration files have tens "
        f"of thousands at most; {ASK}",
        (),
    )


def test_many_tunnels_are_refused_by_their_count_not_read_one_by_one():
    text = sample("04-generic-ikev2-static-vgw.txt")
    head, _, rest = text.partition("IPSec Tunnel #1")
    block = "IPSec Tunnel #1" + rest.split("IPSec Tunnel #2")[0]
    found = problems(head + block * 50)
    assert found[0] == (
        "tunnels",
        "expected two tunnels, found 50: an AWS VPN connection always has two",
    )
    assert len(found) == 15  # the first 8 tunnels' duplicates, not 49 x 2


def test_random_bytes_are_not_a_text_file():
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(512))
    assert refusal(noise.decode("latin-1")) == (f"not a text file; {ASK}", ())


def test_unknown_text_is_refused():
    assert refusal("hello\nworld\n") == (
        f"not an AWS VPN configuration in a known layout; {ASK}",
        (),
    )


# --- refusals: field by field ---------------------------------------------

XML_01 = sample("01-xml-static-vgw.xml")
XML_02 = sample("02-xml-bgp-vgw.xml")


def test_one_tunnel_only_names_tunnels():
    second = XML_01.index("  <ipsec_tunnel>", XML_01.index("</ipsec_tunnel>"))
    end = XML_01.rindex("</ipsec_tunnel>") + len("</ipsec_tunnel>\n")
    assert problems(XML_01[:second] + XML_01[end:]) == (
        (
            "tunnels",
            "expected two tunnels, found 1: an AWS VPN connection always has two",
        ),
    )


def test_invalid_address_names_the_field_and_its_line():
    text = sample("04-generic-ikev2-static-vgw.txt")
    assert problems(text.replace("198.51.100.201", "198.51.100.301")) == (
        (
            "tunnels[1].aws_outside_address (line 194)",
            "expected an IPv4 address, got '198.51.100.301'",
        ),
    )


def test_inside_addresses_outside_link_local_are_both_named():
    assert problems(XML_01.replace("169.254.88.", "10.0.88.")) == (
        (
            "tunnels[0].customer_inside_address (line 13)",
            "10.0.88.2 is not in 169.254.0.0/16",
        ),
        (
            "tunnels[0].aws_inside_address (line 23)",
            "10.0.88.1 is not in 169.254.0.0/16",
        ),
    )


def test_inside_addresses_in_a_reserved_30():
    text = XML_01.replace("169.254.88.2<", "169.254.169.254<").replace(
        "169.254.88.1<", "169.254.169.253<"
    )
    assert problems(text) == (
        (
            "tunnels[0].customer_inside_address (line 13)",
            "169.254.169.254 is in 169.254.169.252/30, which AWS reserves",
        ),
    )


def test_inside_addresses_in_different_30s_or_at_the_edges():
    text = XML_01.replace("169.254.88.1<", "169.254.89.1<").replace(
        "169.254.123.229<", "169.254.123.231<"
    )
    assert problems(text) == (
        (
            "tunnels[0].aws_inside_address (line 23)",
            "169.254.89.1 is not in the customer's 169.254.88.0/30",
        ),
        (
            "tunnels[1].aws_inside_address (line 68)",
            "169.254.123.231 is the network or broadcast address of 169.254.123.228/30",
        ),
    )


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("0a1cK2ZKz4gC0USMfvgS5hn", "starts with a zero"),
        ("a1cK2Zk", "is 7 characters long"),
        ("a1cK2ZKz-4gC0USMf", "has a character other than a letter, digit, '.' or '_'"),
        (
            "0a1c-K",
            "is 6 characters long, has a character other than a letter, digit, "
            "'.' or '_', starts with a zero",
        ),
    ],
)
def test_bad_psk_is_named_and_never_shown(bad, why):
    with pytest.raises(InputError) as caught:
        sources.load(XML_01.replace(PSKS_01[0], bad))
    rule = "AWS requires 8 to 64 letters, digits, '.' and '_', not starting with a zero"
    assert caught.value.problems == (
        ("tunnels[0].psk (line 34)", f"PSK {why}; {rule}"),
    )
    shown = str(caught.value) + repr(caught.value.problems)
    for start in range(len(bad) - 3):
        assert bad[start : start + 4] not in shown


def test_missing_customer_outside_address():
    text = XML_01.replace("<ip_address>203.0.113.25</ip_address>", "", 1)
    assert problems(text) == (
        (
            "tunnels[0].customer_outside_address",
            "missing from the file (tunnel at line 7)",
        ),
    )


def test_bgp_without_hold_times_names_each_tunnel():
    assert problems(XML_02.replace("<hold_time>30</hold_time>", "")) == (
        (
            "tunnels[0].bgp_hold_time",
            "missing: BGP routing needs it (tunnel at line 6)",
        ),
        (
            "tunnels[1].bgp_hold_time",
            "missing: BGP routing needs it (tunnel at line 59)",
        ),
    )


def test_every_problem_is_reported_at_once():
    edits = [
        ("vpn-deb0e3b40ea01424a", "vpn-XYZ"),
        ("<asn>65000</asn>", "<asn>4294967296</asn>"),
        ("<asn>64512</asn>", "<asn>0</asn>"),
        ("192.0.2.238", "192.0.2.14"),
        (">203.0.113.77<", ">203.0.113.78<"),
        ("<lifetime>3600</lifetime>", "<lifetime>1h</lifetime>"),
        (">group2<", ">modp99<"),
    ]
    text = XML_02
    for old, new in edits:
        text = text.replace(old, new, 1)
    assert problems(text) == (
        (
            "vpn_connection_id (line 2)",
            "expected an id like vpn-0123456789abcdef0, got 'vpn-XYZ'",
        ),
        ("customer_asn (line 17)", "expected 1 to 4294967295, got 4294967296"),
        ("tunnels[0].aws_asn (line 31)", "expected 1 to 4294967295, got 0"),
        (
            "tunnels[0].ike_dh_groups (line 39)",
            "expected a DH group like group14, got 'modp99'",
        ),
        ("tunnels[0].esp_lifetime (line 47)", "expected a whole number, got '1h'"),
        (
            "tunnels[1].aws_outside_address (line 76)",
            "192.0.2.14 is also tunnels[0]'s: each tunnel has its own AWS endpoint",
        ),
        (
            "tunnels[1].customer_outside_address (line 62)",
            "203.0.113.77 differs from tunnels[0]'s 203.0.113.78: a connection "
            "has one customer gateway",
        ),
    )


def test_an_algorithm_list_given_as_a_string_is_refused_by_name():
    text = edit_json(JSON_10, each_tunnel_option(Phase1EncryptionAlgorithms="AES128"))
    assert problems(text) == (
        (
            "tunnels[0].options.phase1_encryption_algorithms",
            "expected a list of values, got 'AES128'",
        ),
        (
            "tunnels[1].options.phase1_encryption_algorithms",
            "expected a list of values, got 'AES128'",
        ),
    )


def test_every_bad_outside_address_of_the_json_is_reported():
    def edit(connection):
        for item in connection["Options"]["TunnelOptions"]:
            item["OutsideIpAddress"] = "999." + item["OutsideIpAddress"]

    assert problems(edit_json(JSON_10, edit)) == (
        (
            "tunnel_options[0].outside_ip_address",
            "expected an IPv4 address, got '999.198.51.100.201'",
        ),
        (
            "tunnel_options[1].outside_ip_address",
            "expected an IPv4 address, got '999.198.51.100.37'",
        ),
    )
