"""Properties: any valid connection, written in any layout and era, reads
back as itself (as far as the layout says it); proposals never leave the
tunnel's own lists."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Interface

from hypothesis import given, settings
from hypothesis import strategies as st

from agent import psk, requirements, sources
from agent.model import Connection, Printed, Routing, Tunnel, TunnelOptions
from agent.secret import Secret
from agent.sources.inside import RESERVED
from tests.unit import layouts

# Enough examples to cover each layout's branches while the unit tier stays
# quick; ``make fuzz`` is where volume goes.
ROUND_TRIP = settings(database=None, max_examples=40)

_AWS_ENCRYPTION = st.sampled_from(["aes-128-cbc", "aes-256-cbc", "aes-128-gcm-16"])
_AWS_INTEGRITY = st.sampled_from(["sha1", "sha2-256", "hmac-sha1-96"])
_SWAN_ENCRYPTION = st.sampled_from(["aes128", "aes256"])
_SWAN_INTEGRITY = st.sampled_from(["sha1", "sha256"])
_PSKS = st.from_regex(r"[A-Za-z1-9._][A-Za-z0-9._]{7,63}", fullmatch=True)
_PUBLIC = st.integers(0x01000000, 0xDFFFFFFF).map(IPv4Address)
_INSIDE = (
    st.integers(0, 2**14 - 1)
    .map(lambda i: IPv4Network((0xA9FE0000 + 4 * i, 30)))
    .filter(lambda net: net not in RESERVED)
)
_INSIDE6 = st.integers(0, 2**32 - 1).map(
    lambda i: IPv6Interface((0x20010DB8 << 96 | i << 2 | 1, 126))
)


@st.composite
def _printed(draw, strongswan: bool) -> Printed:
    encryption = _SWAN_ENCRYPTION if strongswan else _AWS_ENCRYPTION
    integrity = _SWAN_INTEGRITY if strongswan else _AWS_INTEGRITY
    groups = st.sampled_from(sorted(layouts.STRONGSWAN_GROUPS) if strongswan else
                             [2, 5, 14, 15, 16, 19, 20, 21, 24])  # fmt: skip
    return Printed(
        ike_version=draw(st.sampled_from([1, 2])),
        ike_encryption=draw(encryption),
        ike_integrity=draw(integrity),
        ike_dh_groups=(draw(groups),),
        ike_lifetime=draw(st.integers(900, 28800)),
        esp_encryption=draw(encryption),
        esp_integrity=draw(integrity),
        esp_dh_groups=(draw(groups),),
        esp_lifetime=draw(st.integers(900, 3600)),
        dpd_delay=draw(st.integers(1, 60)),
        dpd_retries=draw(st.integers(1, 10)),
        mtu=draw(st.integers(1200, 1500)),
        mss=draw(st.integers(1200, 1460)),
    )


@st.composite
def connections(draw, strongswan: bool = False, ipv6: bool = False) -> Connection:
    # AWS's Strongswan download is for static routing only.
    bgp = False if strongswan else draw(st.booleans())
    customer = draw(_PUBLIC)
    aws = draw(st.lists(_PUBLIC, min_size=2, max_size=2, unique=True))
    nets = draw(st.lists(_INSIDE, min_size=2, max_size=2, unique=True))
    keys = draw(st.lists(_PSKS, min_size=2, max_size=2))
    aws_asn = draw(st.integers(1, 2**32 - 1)) if bgp else None
    tunnels = []
    for address, net, key in zip(aws, nets, keys, strict=True):
        ends = list(net.hosts())
        if draw(st.booleans()):
            ends.reverse()
        inside6 = draw(_INSIDE6) if ipv6 and draw(st.booleans()) else None
        tunnels.append(
            Tunnel(
                aws_outside_address=address,
                customer_outside_address=customer,
                customer_inside_cidr=IPv4Interface((ends[0], 30)),
                aws_inside_address=ends[1],
                psk=Secret(key),
                aws_asn=aws_asn,
                bgp_hold_time=draw(st.sampled_from([0, 3, 30, 90])) if bgp else None,
                printed=draw(_printed(strongswan)),
                customer_inside_ipv6_cidr=inside6,
                aws_inside_ipv6_address=inside6.ip + 1 if inside6 else None,
            )
        )
    return Connection(
        layout="x",
        vpn_connection_id=draw(st.from_regex(r"vpn-[0-9a-f]{17}", fullmatch=True)),
        routing=Routing.BGP if bgp else Routing.STATIC,
        customer_asn=draw(st.integers(1, 2**32 - 1)) if bgp else None,
        tunnels=tuple(tunnels),
    )


def expected(connection: Connection, layout: str, **printed: object) -> Connection:
    """``connection`` as ``layout`` can say it: what it does not print
    reads back as None."""
    tunnels = []
    for t in connection.tunnels:
        said = dataclasses.replace(
            t.printed,
            **{k: v(t.printed) if callable(v) else v for k, v in printed.items()},
        )
        tunnels.append(dataclasses.replace(t, printed=said))
    return dataclasses.replace(connection, layout=layout, tunnels=tuple(tunnels))


def no_ipv6(connection: Connection) -> Connection:
    tunnels = tuple(
        dataclasses.replace(
            t, customer_inside_ipv6_cidr=None, aws_inside_ipv6_address=None
        )
        for t in connection.tunnels
    )
    return dataclasses.replace(connection, tunnels=tunnels)


def secrets(connection: Connection) -> list[str | None]:
    return [t.psk.reveal() if t.psk else None for t in connection.tunnels]


def round_trip(text: str, want: Connection) -> None:
    loaded = sources.load(text)
    assert loaded == want
    assert secrets(loaded) == secrets(want)


@ROUND_TRIP
@given(connections(ipv6=True))
def test_xml(connection):
    round_trip(
        layouts.render_xml(connection),
        expected(connection, "xml", ike_version=None, mtu=None),
    )


@ROUND_TRIP
@given(connections(ipv6=True))
def test_transit_gateway_xml(connection):
    text = layouts.render_xml(connection, transit=True)
    assert "<vpn_gateway_id></vpn_gateway_id>" in text or "<vpn_gateway_id />" in text
    round_trip(text, expected(connection, "xml", ike_version=None, mtu=None))


@ROUND_TRIP
@given(connections(ipv6=True), st.sampled_from(layouts.GENERIC_ERAS))
def test_generic_every_era(connection, era):
    said: dict[str, object] = {}
    if era in ("2009", "2015"):
        said["ike_version"] = None
    if era == "2009":
        said["mtu"] = None
    round_trip(
        layouts.render_generic(connection, era), expected(connection, "generic", **said)
    )


@ROUND_TRIP
@given(connections())
def test_summary(connection):
    round_trip(layouts.render_summary(connection), expected(connection, "summary"))


@ROUND_TRIP
@given(connections(strongswan=True), st.booleans())
def test_strongswan(connection, updown_only):
    text = layouts.render_strongswan(connection, updown_only=updown_only)
    want = expected(
        connection, "strongswan", dpd_retries=None, mss=None,
        mtu=(lambda p: None) if updown_only else (lambda p: p.mtu),
    )  # fmt: skip
    round_trip(text, no_ipv6(want))


_ENC = st.lists(st.sampled_from(requirements.AWS_ENCRYPTION), min_size=1, unique=True)
_INT = st.lists(st.sampled_from(requirements.AWS_INTEGRITY), min_size=1, unique=True)
_DH1 = st.lists(st.sampled_from(requirements.AWS_PHASE1_DH), min_size=1, unique=True)
_DH2 = st.lists(st.sampled_from(requirements.AWS_PHASE2_DH), min_size=1, unique=True)


@st.composite
def tunnel_options(draw) -> dict[str, object]:
    def listed(values):
        return [{"Value": v} for v in values]

    return {
        "Phase1EncryptionAlgorithms": listed(draw(_ENC)),
        "Phase1IntegrityAlgorithms": listed(draw(_INT)),
        "Phase1DHGroupNumbers": listed(draw(_DH1)),
        "Phase2EncryptionAlgorithms": listed(draw(_ENC)),
        "Phase2IntegrityAlgorithms": listed(draw(_INT)),
        "Phase2DHGroupNumbers": listed(draw(_DH2)),
        "IkeVersions": listed(draw(st.sampled_from([["ikev2"], ["ikev1", "ikev2"]]))),
        "Phase1LifetimeSeconds": draw(st.integers(900, 28800)),
        "DpdTimeoutAction": draw(st.sampled_from(["clear", "none", "restart"])),
    }


@ROUND_TRIP
@given(connections(), tunnel_options())
def test_json_and_its_tunnel_options(connection, options):
    connection = no_ipv6(connection)
    by_address = {str(t.aws_outside_address): options for t in connection.tunnels}
    text = layouts.render_json(connection, by_address)
    weak = {2, 5, 22}
    usable = all(
        {v["Value"] for v in options[key]} - weak  # type: ignore[attr-defined]
        for key in ("Phase1DHGroupNumbers", "Phase2DHGroupNumbers")
    )
    if not usable:
        try:
            sources.load(text)
        except sources.build.InputError as err:
            assert all("dh_group_numbers" in path for path, _ in err.problems)
            return
        raise AssertionError("lists with only weak DH groups were accepted")
    loaded = sources.load(text)
    assert loaded.public() == connection.public()
    for tunnel in loaded.tunnels:
        assert tunnel.options is not None
        assert tunnel.options.tunnel_inside_cidr == tunnel.customer_inside_cidr.network
        _proposals_stay_within(tunnel.options, requirements.proposals(tunnel))


_STRONGSWAN_NAMES = {
    **{v: k for k, v in requirements.ENCRYPTION.items()},
    **{v: k for k, v in requirements.INTEGRITY.items()},
    **{v: k for k, v in requirements.PRF.items()},
    **{v: k for k, v in requirements.DH_GROUPS.items()},
}


def _proposals_stay_within(
    options: TunnelOptions, chosen: requirements.Proposals
) -> None:
    """Every algorithm proposed is one the tunnel's lists allow (or, for the
    DvSum default, one AWS allows when the lists say nothing)."""
    if chosen == requirements.DEFAULT:
        return
    phases = (
        (chosen.ike, options.phase1_encryption_algorithms,
         options.phase1_integrity_algorithms, options.phase1_dh_group_numbers),
        (chosen.esp, options.phase2_encryption_algorithms,
         options.phase2_integrity_algorithms, options.phase2_dh_group_numbers),
    )  # fmt: skip
    for proposals, enc, integ, dh in phases:
        allowed = {*(enc or ()), *(integ or ()), *(dh or ())}
        for proposal in proposals:
            for token in proposal.split("-"):
                assert _STRONGSWAN_NAMES[token] in allowed, (token, proposal)


@ROUND_TRIP
@given(st.dictionaries(_PUBLIC, _PSKS.map(Secret), min_size=0, max_size=4))
def test_psk_file_round_trip(mapping):
    assert psk.parse_psk_text(psk.format_psk_file(mapping), "psk.yaml") == mapping
