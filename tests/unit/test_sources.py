"""AWS files -> RAW -> Connection: each layout, each refusal, all problems."""

from __future__ import annotations

import json
import logging
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import sources
from agent.errors import InputError
from agent.model import Connection, Printed, Routing, Tunnel
from agent.secret import Secret
from agent.sources.build import RESERVED
from agent.sources.raw import TUNNEL_KEYS

# Copies of shared/samples/aws: synthetic files in AWS's real layouts.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"
# What each sample parses to before validation, as JSON.
RAW_GOLDEN = Path(__file__).with_name("data") / "sources"

ASK = (
    'dvsum-vpn reads AWS\'s "Generic / Vendor Agnostic" download or the XML '
    "(CustomerGatewayConfiguration): ask DvSum for one of those"
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


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("00-dvsum-summary-static.txt", "summary"),
        ("01-xml-static-vgw.xml", "xml"),
        ("02-xml-bgp-vgw.xml", "xml"),
        ("04-generic-ikev2-static-vgw.txt", "generic"),
        ("08-strongswan-ubuntu1604-ikev2-static.txt", "strongswan"),
    ],
)
def test_each_sample_parses_to_its_golden_raw(name, layout):
    golden = json.loads((RAW_GOLDEN / f"{Path(name).stem}.raw.json").read_text())
    assert sources.parse(sample(name)) == (layout, golden)
    for raw_tunnel in golden["tunnels"]:
        assert set(raw_tunnel) <= {*TUNNEL_KEYS, "line"}


@pytest.mark.parametrize(
    ("name", "layout", "printed"),
    [
        ("01-xml-static-vgw.xml", "xml", XML_PRINTED),
        ("04-generic-ikev2-static-vgw.txt", "generic", GENERIC_PRINTED),
        ("08-strongswan-ubuntu1604-ikev2-static.txt", "strongswan", STRONGSWAN_PRINTED),
    ],
)
def test_static_sample_gives_the_whole_connection(name, layout, printed):
    loaded = sources.load(sample(name))
    assert loaded == connection_01(layout, printed)
    assert psks(loaded) == list(PSKS_01)


def test_xml_generic_and_strongswan_give_the_same_public_json():
    public = [
        json.dumps(sources.load(sample(name)).public())
        for name in (
            "01-xml-static-vgw.xml",
            "04-generic-ikev2-static-vgw.txt",
            "08-strongswan-ubuntu1604-ikev2-static.txt",
        )
    ]
    assert public[0] == public[1] == public[2]


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


def test_describe_vpn_connections_json_gives_the_xmls_connection():
    xml = sample("01-xml-static-vgw.xml")
    wrapped = json.dumps(
        {"VpnConnections": [{"CustomerGatewayConfiguration": xml, "State": "x"}]}
    )
    assert sources.detect(wrapped) == "xml"
    assert sources.load(wrapped) == sources.load(xml)


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
    ],
)
def test_another_vendors_script_says_what_to_ask_for(vendor, script):
    assert refusal(script) == (f"this is AWS's script for a {vendor} device; {ASK}", ())


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


def test_invalid_address_names_the_field_and_the_tunnels_line():
    text = sample("04-generic-ikev2-static-vgw.txt")
    assert problems(text.replace("198.51.100.201", "198.51.100.301")) == (
        (
            "tunnels[1].aws_outside_address",
            "expected an IPv4 address, got '198.51.100.301' (tunnel at line 119)",
        ),
    )


def test_inside_addresses_outside_link_local_are_both_named():
    assert problems(XML_01.replace("169.254.88.", "10.0.88.")) == (
        (
            "tunnels[0].customer_inside_address",
            "10.0.88.2 is not in 169.254.0.0/16 (tunnel at line 7)",
        ),
        (
            "tunnels[0].aws_inside_address",
            "10.0.88.1 is not in 169.254.0.0/16 (tunnel at line 7)",
        ),
    )


def test_inside_addresses_in_a_reserved_30():
    text = XML_01.replace("169.254.88.2<", "169.254.169.254<").replace(
        "169.254.88.1<", "169.254.169.253<"
    )
    assert problems(text) == (
        (
            "tunnels[0].customer_inside_address",
            "169.254.169.254 is in 169.254.169.252/30, which AWS reserves "
            "(tunnel at line 7)",
        ),
    )


def test_inside_addresses_in_different_30s_or_at_the_edges():
    text = XML_01.replace("169.254.88.1<", "169.254.89.1<").replace(
        "169.254.123.229<", "169.254.123.231<"
    )
    assert problems(text) == (
        (
            "tunnels[0].aws_inside_address",
            "169.254.89.1 is not in the customer's 169.254.88.0/30 (tunnel at line 7)",
        ),
        (
            "tunnels[1].aws_inside_address",
            "169.254.123.231 is the network or broadcast address of "
            "169.254.123.228/30 (tunnel at line 52)",
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
        ("tunnels[0].psk", f"PSK {why}; {rule} (tunnel at line 7)"),
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
    line = "(tunnel at line {})".format
    assert problems(text) == (
        (
            "vpn_connection_id",
            "expected an id like vpn-0123456789abcdef0, got 'vpn-XYZ'",
        ),
        ("customer_asn", "expected 1 to 4294967295, got 4294967296"),
        ("tunnels[0].aws_asn", f"expected 1 to 4294967295, got 0 {line(6)}"),
        (
            "tunnels[0].ike_dh_groups",
            f"expected a DH group like group14, got 'modp99' {line(6)}",
        ),
        ("tunnels[0].esp_lifetime", f"expected a whole number, got '1h' {line(6)}"),
        (
            "tunnels[1].aws_outside_address",
            "192.0.2.14 is also tunnels[0]'s: each tunnel has its own AWS "
            f"endpoint {line(59)}",
        ),
        (
            "tunnels[1].customer_outside_address",
            "203.0.113.77 differs from tunnels[0]'s 203.0.113.78: a connection "
            f"has one customer gateway {line(59)}",
        ),
    )


# --- any valid connection survives the XML layout -------------------------

_ALGORITHMS = st.sampled_from(["aes-128-cbc", "aes-256-cbc", "aes-128-gcm-16"])
_INTEGRITY = st.sampled_from(["sha1", "sha2-256", "hmac-sha1-96"])
_GROUPS = st.sampled_from([2, 5, 14, 15, 16, 19, 20, 21, 24])
_PSKS = st.from_regex(r"[A-Za-z1-9._][A-Za-z0-9._]{7,63}", fullmatch=True)
_PUBLIC = st.integers(0x01000000, 0xDFFFFFFF).map(IPv4Address)
_INSIDE = (
    st.integers(0, 2**14 - 1)
    .map(lambda i: IPv4Network((0xA9FE0000 + 4 * i, 30)))
    .filter(lambda net: net not in RESERVED)
)


@st.composite
def _printed(draw) -> Printed:
    return Printed(
        ike_encryption=draw(_ALGORITHMS),
        ike_integrity=draw(_INTEGRITY),
        ike_dh_groups=(draw(_GROUPS),),
        ike_lifetime=draw(st.integers(900, 28800)),
        esp_encryption=draw(_ALGORITHMS),
        esp_integrity=draw(_INTEGRITY),
        esp_dh_groups=(draw(_GROUPS),),
        esp_lifetime=draw(st.integers(900, 3600)),
        dpd_delay=draw(st.integers(1, 60)),
        dpd_retries=draw(st.integers(1, 10)),
        mss=draw(st.integers(1200, 1460)),
    )


@st.composite
def connections(draw) -> tuple[Connection, list[str]]:
    bgp = draw(st.booleans())
    customer = draw(_PUBLIC)
    aws = draw(st.lists(_PUBLIC, min_size=2, max_size=2, unique=True))
    nets = draw(st.lists(_INSIDE, min_size=2, max_size=2, unique=True))
    keys = draw(st.lists(_PSKS, min_size=2, max_size=2))
    aws_asn = draw(st.integers(1, 2**32 - 1)) if bgp else None
    tunnels = []
    for address, net in zip(aws, nets, strict=True):
        ends = list(net.hosts())
        if draw(st.booleans()):
            ends.reverse()
        tunnels.append(
            Tunnel(
                aws_outside_address=address,
                customer_outside_address=customer,
                customer_inside_cidr=IPv4Interface((ends[0], 30)),
                aws_inside_address=ends[1],
                psk=Secret(keys[len(tunnels)]),
                aws_asn=aws_asn,
                bgp_hold_time=draw(st.sampled_from([0, 3, 30, 90])) if bgp else None,
                printed=draw(_printed()),
            )
        )
    connection = Connection(
        layout="xml",
        vpn_connection_id=draw(st.from_regex(r"vpn-[0-9a-f]{17}", fullmatch=True)),
        routing=Routing.BGP if bgp else Routing.STATIC,
        customer_asn=draw(st.integers(1, 2**32 - 1)) if bgp else None,
        tunnels=tuple(tunnels),
    )
    return connection, keys


def render_xml(connection: Connection) -> str:
    """A ``CustomerGatewayConfiguration`` laid out the way AWS does it."""
    root = ET.Element("vpn_connection", id=str(connection.vpn_connection_id))
    if connection.routing is Routing.STATIC:
        _put(root, "vpn_connection_attributes", "NoBGPVPNConnection")
    for t in connection.tunnels:
        p = t.printed
        fields = {
            "customer_gateway/tunnel_outside_address/ip_address": (
                t.customer_outside_address
            ),
            "customer_gateway/tunnel_inside_address/ip_address": (
                t.customer_inside_cidr.ip
            ),
            "customer_gateway/tunnel_inside_address/network_mask": "255.255.255.252",
            "customer_gateway/tunnel_inside_address/network_cidr": 30,
            "vpn_gateway/tunnel_outside_address/ip_address": t.aws_outside_address,
            "vpn_gateway/tunnel_inside_address/ip_address": t.aws_inside_address,
            "ike/authentication_protocol": p.ike_integrity,
            "ike/encryption_protocol": p.ike_encryption,
            "ike/lifetime": p.ike_lifetime,
            "ike/perfect_forward_secrecy": f"group{p.ike_dh_groups[0]}",
            "ike/mode": "main",
            "ike/pre_shared_key": t.psk.reveal() if t.psk else None,
            "ipsec/protocol": "esp",
            "ipsec/authentication_protocol": p.esp_integrity,
            "ipsec/encryption_protocol": p.esp_encryption,
            "ipsec/lifetime": p.esp_lifetime,
            "ipsec/perfect_forward_secrecy": f"group{p.esp_dh_groups[0]}",
            "ipsec/tcp_mss_adjustment": p.mss,
            "ipsec/dead_peer_detection/interval": p.dpd_delay,
            "ipsec/dead_peer_detection/retries": p.dpd_retries,
        }
        if connection.routing is Routing.BGP:
            fields |= {
                "customer_gateway/bgp/asn": connection.customer_asn,
                "customer_gateway/bgp/hold_time": t.bgp_hold_time,
                "vpn_gateway/bgp/asn": t.aws_asn,
                "vpn_gateway/bgp/hold_time": t.bgp_hold_time,
            }
        tunnel_element = ET.SubElement(root, "ipsec_tunnel")
        for path, value in fields.items():
            _put(tunnel_element, path, value)
    ET.indent(root)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + ET.tostring(root, encoding="unicode") + "\n"


def _put(parent: ET.Element, path: str, value: object) -> None:
    """Set the text at ``path`` below ``parent``, making elements as needed."""
    node = parent
    for tag in path.split("/"):
        found = node.find(tag)
        node = found if found is not None else ET.SubElement(node, tag)
    node.text = str(value)


@settings(database=None)
@given(connections())
def test_any_valid_connection_survives_the_xml_layout(generated):
    connection, keys = generated
    loaded = sources.load(render_xml(connection))
    assert loaded == connection
    assert psks(loaded) == keys
