"""Our block in someone else's resolver configuration: every other byte of
the file is kept, and taking the block out gives the file back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.dns import block

BODY = "server=/dvsum.ai/10.0.10.53\nserver=/dvsum.ai/10.0.20.53\n"
OTHER = "server=/dvsum.ai/10.0.30.53\n"

texts = st.text(alphabet=st.sampled_from("ab #=\r\n\t."), max_size=60)


@given(texts)
def test_strip_after_merge_gives_the_file_back(original):
    assert block.strip(block.merge(original, BODY)) == original


@given(texts)
def test_merge_is_idempotent_and_replaces_the_old_block(original):
    once = block.merge(original, BODY)
    assert block.merge(once, BODY) == once
    assert block.strip(block.merge(once, OTHER)) == original
    assert block.merge(block.merge(once, OTHER), BODY) == once


@pytest.mark.parametrize("original", ["", "x", "x\n", "x\n\n", "# c\r\ny"])
def test_block_lines(original):
    merged = block.merge(original, BODY)
    lines = merged[len(original) :].splitlines()
    assert lines[-4:] == [
        block.BEGIN,
        "server=/dvsum.ai/10.0.10.53",
        "server=/dvsum.ai/10.0.20.53",
        block.END_JOINED if original and not original.endswith("\n") else block.END,
    ]


def test_block_is_replaced_where_it_stands():
    text = "a\n" + block.merge("", OTHER) + "b\n"
    assert block.merge(text, BODY) == "a\n" + block.merge("", BODY) + "b\n"


def test_a_marker_inside_a_line_is_not_ours():
    text = f"x {block.BEGIN}\n{BODY}{block.END}\n"
    assert block.strip(text) == text


def test_a_missing_file_or_our_own_file_is_written_whole():
    whole = block.wanted(None, BODY)
    assert whole == f"{block.HEADER}\n{BODY}"
    assert block.wanted(whole, OTHER) == f"{block.HEADER}\n{OTHER}"
