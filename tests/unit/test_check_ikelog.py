"""charon's lines for one initiate, as check reads them (lines as charon
5.9.8 printed them in the lab)."""

from __future__ import annotations

import pytest

from agent.check import ikelog

INIT = [
    "initiating IKE_SA dvsum-tunnel2[3] to 203.0.113.172",
    "generating IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) "
    "N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) ]",
    "sending packet: from 100.64.0.2[500] to 203.0.113.172[500] (462 bytes)",
]
ANSWERED = [
    "received packet: from 203.0.113.172[500] to 100.64.0.2[500] (470 bytes)",
    "parsed IKE_SA_INIT response 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) ]",
    "selected proposal: IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048",
    "local host is behind NAT, sending keep alives",
    "remote host is behind NAT",
    "authentication of '198.51.100.20' (myself) with pre-shared key",
    "establishing CHILD_SA dvsum-tunnel2-child{3}",
    "sending packet: from 100.64.0.2[4500] to 203.0.113.172[4500] (252 bytes)",
    "received packet: from 203.0.113.172[4500] to 100.64.0.2[4500] (76 bytes)",
]
TIMEOUT = (
    "charon: initiate dvsum-tunnel2-child: Command failed: CHILD_SA "
    "'dvsum-tunnel2-child' not established after 2000ms"
)
FAILED = (
    "charon: initiate dvsum-tunnel2-child: Command failed: establishing "
    "CHILD_SA 'dvsum-tunnel2-child' failed"
)


def test_authentication_failed_with_nat_seen():
    lines = [*INIT, *ANSWERED, "parsed IKE_AUTH response 1 [ N(AUTH_FAILED) ]",
             "received AUTHENTICATION_FAILED notify error"]  # fmt: skip
    attempt = ikelog.classify(lines, FAILED)
    assert attempt == ikelog.Attempt(
        kind="auth_failed",
        line="received AUTHENTICATION_FAILED notify error",
        sent=True,
        answered=True,
        behind_nat=True,
    )
    assert ikelog.peer_notify(attempt.line) == "AUTHENTICATION_FAILED"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("received NO_PROPOSAL_CHOSEN notify error", "no_proposal"),
        ("received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built", "no_proposal"),
        ("received TS_UNACCEPTABLE notify, no CHILD_SA built", "ts_unacceptable"),
        ("no shared key found for '198.51.100.20' - '203.0.113.44'", "no_psk"),
        ("tried 1 shared key for 'a' - 'b', but MAC mismatched", "auth_failed"),
        ("received INVALID_SYNTAX notify error", "peer_refused"),
    ],
)
def test_the_peer_or_charon_says_why(line, kind):
    assert ikelog.classify([*INIT, *ANSWERED[:3], line], FAILED).kind == kind


def test_silence_after_our_ike_sa_init_is_no_response():
    attempt = ikelog.classify(INIT, TIMEOUT)
    assert (attempt.kind, attempt.sent, attempt.answered) == ("no_response", True,
                                                              False)  # fmt: skip


def test_only_retransmits_in_the_window_is_no_response():
    lines = [
        "retransmit 2 of request with message ID 0",
        "sending packet: from 100.64.0.2[500] to 203.0.113.44[500] (462 bytes)",
    ]
    assert ikelog.classify(lines, TIMEOUT).kind == "no_response"


def test_nothing_heard_while_joining_an_attempt_is_pending():
    assert ikelog.classify([], TIMEOUT).kind == "pending"


def test_an_answer_without_an_outcome_is_incomplete():
    assert ikelog.classify([*INIT, *ANSWERED], TIMEOUT).kind == "incomplete"


def test_established():
    lines = [*INIT, *ANSWERED,
             "IKE_SA dvsum-tunnel2[4] established between 100.64.0.2[198.51.100.20]"
             "...203.0.113.172[203.0.113.172]",
             "CHILD_SA dvsum-tunnel2-child{4} established with SPIs c1_i c2_o and "
             "TS 0.0.0.0/0 === 0.0.0.0/0"]  # fmt: skip
    assert ikelog.classify(lines).kind == "established"


def test_already_up_returns_success_without_lines():
    assert ikelog.classify([]).kind == "established"


def test_a_connection_charon_does_not_know():
    error = "charon: initiate x-child: Command failed: CHILD_SA config 'x' not found"
    assert ikelog.classify([], error).kind == "not_loaded"


def test_anything_else_keeps_charons_words():
    attempt = ikelog.classify([], "charon: initiate: Command failed: out of memory")
    assert (attempt.kind, attempt.line) == (
        "failed", "charon: initiate: Command failed: out of memory",
    )  # fmt: skip
