"""A few seconds of ``make fuzz``: mutated files through every parser, and
regressions for what the full run found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import sources
from agent.errors import InputError
from tests.fuzz import run
from tests.fuzz.targets import targets

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"


@pytest.mark.parametrize("name", [t.name for t in targets()])
def test_mutated_files_raise_nothing_but_input_error(name):
    stats = run.run(name, count=150, seed=20261204)
    assert stats.fed == 150
    assert {kind: f.message for kind, f in stats.findings.items()} == {}


def refused(text: str) -> str:
    with pytest.raises(InputError) as caught:
        sources.load(text)
    return str(caught.value)


def test_strongswan_lifetime_of_thousands_of_digits_is_not_converted():
    text = (SAMPLES / "08-strongswan-ubuntu1604-ikev2-static.txt").read_text()
    text = text.replace("ikelifetime=8h", f"ikelifetime={'9' * 5000}s", 1)
    assert refused(text) == "the AWS file has 1 problem"


def test_json_whose_xml_holds_a_lone_surrogate_is_refused():
    data = json.loads(
        (SAMPLES / "10-describe-vpn-connections-static-vgw.json").read_text()
    )
    connection = data["VpnConnections"][0]
    connection["CustomerGatewayConfiguration"] += "\ud800"
    text = json.dumps(data)  # escapes it as \ud800, which json.loads gives back
    assert refused(text) == "the XML holds a character that is not text (a surrogate)"
