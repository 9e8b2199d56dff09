"""check's table, JSON and report file for one run (whole-file golden
files in tests/unit/golden/; DVSUM_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json

import pytest

from agent.check import diagnosis, output
from agent.check.result import Item, Result
from agent.check.runner import Report
from tests.unit.conftest import PSK1, PSK2, golden

LINES = [
    "initiating IKE_SA dvsum-tunnel2[7] to 203.0.113.172",
    "sending packet: from 100.64.0.2[500] to 203.0.113.172[500] (462 bytes)",
    "received packet: from 203.0.113.172[4500] to 100.64.0.2[4500] (76 bytes)",
    "parsed IKE_AUTH response 1 [ N(AUTH_FAILED) ]",
    "received AUTHENTICATION_FAILED notify error",
]


def ok(target: str, detail: str, **facts) -> Item:
    return Item(target, "ok", detail, facts)


def tunnel_facts(number: int) -> dict:
    return {"number": number, "role": ("primary", "standby")[number - 1],
            "aws_outside_address": ("203.0.113.44", "203.0.113.172")[number - 1],
            "local_id": "198.51.100.20", "active": number == 1,
            "behind_nat": True}  # fmt: skip


def results() -> list[Result]:
    t1 = ok("dvsum-tunnel1", "203.0.113.44 (primary, active): IKE ESTABLISHED 42 s, "
            "CHILD INSTALLED, in 8120 B / out 6230 B", **tunnel_facts(1))  # fmt: skip
    t2 = Item(
        "dvsum-tunnel2", "auth_failed",
        "203.0.113.172 (standby): IKE DOWN, CHILD DOWN; initiated: received "
        "AUTHENTICATION_FAILED notify error",
        {**tunnel_facts(2), "charon_lines": LINES},
    )  # fmt: skip
    names = {"apis.dvsum.ai": "10.0.151.182", "s3-storage.dvsum.ai": "10.0.150.69",
             "socket-api.dvsum.ai": "10.0.157.107"}  # fmt: skip
    return [
        Result("tunnels", (t1, t2),
               "dvsum-tunnel2: auth_failed; traffic on dvsum-tunnel1", 2.013),
        Result("route", (ok("10.0.0.0/16", "10.0.0.0/16 dev ipsec0 src "
                            "192.168.10.1 mtu 1400 advmss 1360"),),
               "10.0.0.0/16 dev ipsec0 mtu 1400 advmss 1360; forwarded SYNs "
               "clamped to 1360", 0.011),
        Result("dns", tuple(ok(n, f"{n} -> {a}", name=n, address=a, via="system")
                            for n, a in names.items()),
               ", ".join(f"{n} {a}" for n, a in names.items()), 0.004),
        Result("tcp", tuple(ok(f"{a}:443", f"{a}:443 ({n}) open in 3 ms", name=n,
                               address=a) for n, a in names.items()),
               "3 of 3 open", 0.012),
        Result("mtu", (ok("10.0.151.182 (apis.dvsum.ai)", "1400-byte packets with "
                          "DF cross the tunnel to 10.0.151.182 and back"),),
               "1400-byte packets with DF cross the tunnel to 10.0.151.182 and "
               "back", 0.006),
        Result("tls", tuple(ok(n, f"{n} at {a}: TLSv1.3, commonName={n}, issuer "
                               "commonName=DvSum CA, verified", name=n)
                            for n, a in names.items()), "3 of 3 verified", 0.031),
        Result("https", tuple(ok(n, f"GET https://{n}/health-check: 200", name=n)
                              for n in names), "3 of 3 200 OK", 0.029),
        Result("websocket", (ok("socket-api.dvsum.ai", "upgrade on "
                                "wss://socket-api.dvsum.ai/socket: 403 Forbidden: "
                                "reached the server"),),
               "1 of 1 reached the server", 0.027),
    ]  # fmt: skip


FACTS = {
    "customer_cidr": "192.168.10.0/24",
    "landing_zone": "10.0.0.0/16",
    "data_plane": "policy",
    "libipsec": True,
    "local_id": "198.51.100.20",
    "dns_mode": "hosts",
    "tunnels": [
        {"name": "dvsum-tunnel1", "role": "primary",
         "aws_outside_address": "203.0.113.44"},
        {"name": "dvsum-tunnel2", "role": "standby",
         "aws_outside_address": "203.0.113.172"},
    ],
    "charon_version": "charon 5.9.8",
    "counters": {"dvsum-tunnel1": {"bytes_in": 5230, "bytes_out": 3915,
                                   "packets_in": 21, "packets_out": 25}},
}  # fmt: skip


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.setattr(output.platform, "node", lambda: "gw1.example")
    monkeypatch.setattr(output, "__version__", "0.0.0")
    found = results()
    return Report(
        started="2025-03-01T09:30:00+00:00",
        seconds=2.148,
        results=tuple(found),
        diagnoses=diagnosis.diagnose(found, FACTS),
        facts=FACTS,
    )


def test_table(report):
    golden("check-table.txt", output.table(report) + "\n")


def test_report_file(report):
    golden("check-report.txt", output.report_text(report))


def test_json(report):
    data = output.public(report)
    assert (data["ok"], data["first_failure"], data["seconds"]) == (
        False, "tunnels", 2.148,
    )  # fmt: skip
    assert [c["name"] for c in data["checks"]] == list(diagnosis.ORDER)
    tunnels = data["checks"][0]
    assert tunnels["diagnosis"]["guide"] == "AUTHENTICATION_FAILED"
    assert tunnels["items"][1] == {
        "target": "dvsum-tunnel2",
        "ok": False,
        "kind": "auth_failed",
        "detail": "203.0.113.172 (standby): IKE DOWN, CHILD DOWN; initiated: "
        "received AUTHENTICATION_FAILED notify error",
        "facts": {**tunnel_facts(2), "charon_lines": LINES},
    }
    assert all(c["diagnosis"] is None for c in data["checks"][1:])
    json.dumps(data)  # every value is JSON


def test_nothing_secret_in_any_output(report):
    everything = (
        output.table(report) + output.report_text(report)
        + json.dumps(output.public(report))
    )  # fmt: skip
    assert PSK1 not in everything
    assert PSK2 not in everything


def test_all_passed_line():
    passing = [Result(n, (Item(n, "ok", "fine"),), "fine", 0.01)
               for n in diagnosis.ORDER]  # fmt: skip
    report = Report("2025-03-01T09:30:00+00:00", 0.61, tuple(passing), (), FACTS)
    assert output.table(report).splitlines()[-1] == "all 8 checks passed in 0.61 s"
