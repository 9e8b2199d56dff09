"""The hosts block: ours between the markers, every other byte kept."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.render import hosts

NAMES = (
    ("apis.dvsum.ai", IPv4Address("10.0.151.182")),
    ("s3-storage.dvsum.ai", IPv4Address("10.0.150.69")),
    ("socket-api.dvsum.ai", IPv4Address("10.0.157.107")),
)


def test_block_is_appended_whole():
    assert hosts.merge("127.0.0.1\tlocalhost\n", NAMES) == (
        "127.0.0.1\tlocalhost\n"
        "# BEGIN dvsum-vpn: DvSum service endpoints (managed; edits are lost)\n"
        "10.0.151.182  apis.dvsum.ai\n"
        "10.0.150.69   s3-storage.dvsum.ai\n"
        "10.0.157.107  socket-api.dvsum.ai\n"
        "# END dvsum-vpn\n"
    )


def test_block_is_replaced_in_place_keeping_what_follows():
    before = "a\n" + hosts.block(NAMES[:1]) + "b\n"
    assert hosts.merge(before, NAMES) == "a\nb\n" + hosts.block(NAMES)
    assert hosts.present(hosts.merge(before, NAMES)) == NAMES


@pytest.mark.parametrize("original", ["", "x", "x\n", "x\n\n", "# c\r\ny\n"])
def test_strip_restores_the_original_byte_for_byte(original):
    merged = hosts.merge(original, NAMES)
    assert hosts.strip(merged) == original
    assert hosts.merge(merged, NAMES) == merged


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_strip_after_merge_is_identity(original):
    if hosts.BEGIN in original:
        return
    assert hosts.strip(hosts.merge(original, NAMES)) == original


def test_a_marker_inside_a_line_is_not_ours():
    text = "x " + hosts.BEGIN + "\n" + hosts.END + "\n"
    assert hosts.strip(text) == text
    assert hosts.present(text) is None


def test_a_line_before_the_block_that_maps_our_name_elsewhere_is_found():
    text = "10.9.9.9 apis.dvsum.ai api\n10.0.150.69 s3-storage.dvsum.ai\n"
    assert hosts.shadowing(hosts.merge(text, NAMES), NAMES) == [
        ("apis.dvsum.ai", "10.9.9.9"),
    ]
