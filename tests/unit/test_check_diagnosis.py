"""Diagnosis from what the checks saw: every row of the guide's
troubleshooting table (and the README's) is recognised from real signals,
and failures that an earlier layer explains say so."""

from __future__ import annotations

from typing import Any

import pytest

from agent.check import diagnosis
from agent.check.result import Item, Result
from agent.check.seen import Diagnosis

SERVICES = {
    "apis.dvsum.ai": "10.0.151.182",
    "s3-storage.dvsum.ai": "10.0.150.69",
    "socket-api.dvsum.ai": "10.0.157.107",
}
FACTS = {
    "customer_cidr": "192.168.10.0/24",
    "landing_zone": "10.0.0.0/16",
    "local_id": "198.51.100.20",
    "counters": {},
}


def item(target: str, kind: str = "ok", detail: str = "", **facts: Any) -> Item:
    return Item(target, kind, detail or f"{target}: {kind}", facts)


def tunnel(number: int, kind: str = "ok", **facts: Any) -> Item:
    address = ("203.0.113.44", "203.0.113.172")[number - 1]
    base = {"number": number, "role": ("primary", "standby")[number - 1],
            "aws_outside_address": address, "local_id": "198.51.100.20",
            "active": number == 1, "behind_nat": True}  # fmt: skip
    return item(f"dvsum-tunnel{number}", kind, **{**base, **facts})


def healthy() -> dict[str, list[Item]]:
    dns = {"via": "system", "mode": "hosts", "hosts_block": True,
           "hosts_file": "/etc/hosts"}  # fmt: skip
    return {
        "tunnels": [tunnel(1), tunnel(2)],
        "route": [
            item("10.0.0.0/16"),
            *(item(a, address=a) for a in SERVICES.values()),
            item("MSS clamp"),
        ],
        "dns": [
            item(n, name=n, address=a, expected=a, block_address=a, **dns)
            for n, a in SERVICES.items()
        ],
        "tcp": [item(f"{a}:443", name=n, address=a) for n, a in SERVICES.items()],
        "mtu": [
            item(
                "10.0.151.182 (apis.dvsum.ai)",
                name="apis.dvsum.ai",
                address="10.0.151.182",
                mtu=1400,
            )
        ],
        "tls": [item(n, name=n, address=a) for n, a in SERVICES.items()],
        "https": [item(n, name=n, address=a) for n, a in SERVICES.items()],
        "websocket": [
            item(
                "socket-api.dvsum.ai",
                name="socket-api.dvsum.ai",
                address="10.0.157.107",
            )
        ],
    }


def run(
    changes: dict[str, dict[str, tuple[str, dict[str, Any]]]],
    facts: dict[str, Any] | None = None,
) -> dict[str, Diagnosis]:
    """Diagnoses by check for the healthy results with ``changes`` applied:
    {check: {target: (kind, extra facts)}}."""
    checks = healthy()
    for name, targets in changes.items():
        checks[name] = [
            Item(i.target, targets[i.target][0],
                 targets[i.target][1].get("detail", f"{i.target}: "
                                                     f"{targets[i.target][0]}"),
                 {**i.facts, **targets[i.target][1]})
            if i.target in targets else i
            for i in checks[name]
        ]  # fmt: skip
    results = [Result(n, tuple(checks[n]), "", 0.1) for n in diagnosis.ORDER]
    found = diagnosis.diagnose(results, {**FACTS, **(facts or {})})
    return {d.check: d for d in found}


def everywhere(kind: str, **facts: Any) -> dict[str, dict[str, tuple[str, dict]]]:
    """Every network check's every item fails with ``kind``."""
    out: dict[str, dict[str, tuple[str, dict]]] = {}
    for name, items in healthy().items():
        if name in ("tcp", "mtu", "tls", "https", "websocket"):
            out[name] = {i.target: (kind, facts) for i in items}
    return out


def test_healthy_has_nothing_to_say():
    assert run({}) == {}


# -- the guide's troubleshooting table, row by row --------------------------


def test_ike_phase_1_no_response():
    found = run({"tunnels": {"dvsum-tunnel1": ("no_response", {}),
                             "dvsum-tunnel2": ("no_response", {})},
                 **everywhere("timeout")})  # fmt: skip
    assert found["tunnels"] == Diagnosis(
        "tunnels",
        "dvsum-tunnel1 (203.0.113.44) and dvsum-tunnel2 (203.0.113.172): our "
        "IKE_SA_INIT got no answer from 203.0.113.44 and 203.0.113.172: UDP 500 "
        "and 4500 are blocked between this machine and AWS, or the AWS endpoint "
        "is down.",
        "Allow UDP 500 and 4500 outbound to 203.0.113.44 and 203.0.113.172 and "
        "their replies inbound on every firewall on the way (ESP too if NAT-T is "
        "off); then `dvsum-vpn up`. If they are open, ask DvSum whether the "
        "endpoint is being replaced.",
        guide="IKE phase 1 fails — no response",
    )
    for name in ("tcp", "mtu", "tls", "https", "websocket"):
        assert found[name].follows == "tunnels"
        assert found[name].cause.startswith("follows from tunnels: dvsum-tunnel1")


def test_authentication_failed_on_one_tunnel():
    found = run({"tunnels": {"dvsum-tunnel2": ("auth_failed", {})}})
    assert list(found) == ["tunnels"]
    assert found["tunnels"] == Diagnosis(
        "tunnels",
        "AWS refused our authentication on dvsum-tunnel2 (203.0.113.172) "
        "(AUTHENTICATION_FAILED): the pre-shared key is wrong, or AWS expects "
        "another identity than the one we send (198.51.100.20). This machine is "
        "behind NAT; 198.51.100.20 must be the static public address DvSum "
        "registered. The other tunnel authenticates with the same identity, so "
        "the key of this one is the likely culprit. Traffic still flows on "
        "dvsum-tunnel1, without redundancy.",
        "Compare the key for 203.0.113.172 in the PSK file with the one DvSum "
        "sent; import it again (`dvsum-vpn import FILE --psk-file F`) and run "
        "`dvsum-vpn up`. The customer outside address in the AWS file must be "
        "your static public IP.",
        guide="AUTHENTICATION_FAILED",
    )


def test_authentication_failed_with_a_private_identity_behind_nat():
    changes = {"tunnels": {f"dvsum-tunnel{n}": ("auth_failed", {"local_id":
               "100.64.0.2"}) for n in (1, 2)}}  # fmt: skip
    cause = run(changes)["tunnels"].cause
    assert cause.endswith(
        "This machine is behind NAT and identifies as 100.64.0.2, a private "
        "address: AWS knows the customer gateway by its public address."
    )


def test_tunnel_up_traffic_not_flowing_missing_route():
    bypass = "10.0.151.182 leaves by wan0 via 100.64.0.1 src 100.64.0.2, not the "
    bypass += "tunnel (ipsec0)"
    found = run({"route": {"10.0.0.0/16": ("missing", {}),
                           "10.0.151.182": ("bypass", {"detail": bypass})},
                 **everywhere("timeout")})  # fmt: skip
    assert found["route"] == Diagnosis(
        "route",
        f"The tunnel is up but there is no route to 10.0.0.0/16 ({bypass}): "
        "packets for DvSum leave outside the tunnel.",
        "Add the route: `dvsum-vpn up` puts it back (the supervisor, `dvsum-vpn "
        "run`, does so by itself within a second).",
        guide="Tunnel established but traffic not flowing",
    )
    assert found["tcp"].follows == "route"


def test_dns_returns_public_ip_because_the_hosts_block_is_gone():
    public = {n: ("public", {"address": f"192.0.2.{i}", "hosts_block": False})
              for i, n in enumerate(SERVICES, start=10)}  # fmt: skip
    found = run({"dns": public, "tls": {n: ("timeout", {}) for n in SERVICES}})
    assert found["dns"] == Diagnosis(
        "dns",
        "apis.dvsum.ai, s3-storage.dvsum.ai and socket-api.dvsum.ai resolve to "
        "public addresses (apis.dvsum.ai -> 192.0.2.10, s3-storage.dvsum.ai -> "
        "192.0.2.11, socket-api.dvsum.ai -> 192.0.2.12): the agent's block is "
        "missing from /etc/hosts.",
        "Run `dvsum-vpn up`: it writes the block with the addresses in dns.names.",
        guide="DNS returns public IP",
    )
    assert found["tls"].follows == "dns"


def test_dns_public_because_a_line_before_the_block_shadows_it():
    found = run({"dns": {"apis.dvsum.ai": ("public", {
        "address": "52.1.2.3", "shadowed_by": "52.1.2.3"})}})  # fmt: skip
    assert found["dns"].cause == (
        "apis.dvsum.ai resolves to a public address (apis.dvsum.ai -> 52.1.2.3): a "
        "line before the agent's block in /etc/hosts maps it to 52.1.2.3, and the "
        "first line wins."
    )
    assert found["dns"].fix == "Remove that line from /etc/hosts."


@pytest.mark.parametrize(
    ("mode", "fix"),
    [
        ("forward", "Run `dvsum-vpn up` (it configures the forward) and check the "
         "local resolver's configuration."),
        ("none", "Add the names to /etc/hosts or set dns.mode to hosts (or forward) "
         "in config.yaml and run `dvsum-vpn up`."),
    ],
)  # fmt: skip
def test_dns_public_in_the_other_modes(mode, fix):
    found = run({"dns": {n: ("public", {"address": "192.0.2.1", "mode": mode})
                         for n in SERVICES}})  # fmt: skip
    assert found["dns"].fix == fix


def test_nc_times_out_packets_enter_the_tunnel_and_nothing_comes_back():
    found = run(
        {"tcp": {"10.0.150.69:443": ("timeout", {})}},
        {"counters": {"dvsum-tunnel1": {"bytes_out": 480, "bytes_in": 0},
                      "dvsum-tunnel2": {"bytes_out": 0, "bytes_in": 0}}},
    )  # fmt: skip
    assert found["tcp"] == Diagnosis(
        "tcp",
        "Connections to 10.0.150.69:443 time out although the tunnel is up and "
        "routed. Packets entered dvsum-tunnel1 (480 bytes out) and nothing came "
        "back: the private IP may be wrong, or DvSum's side does not route the "
        "customer network back.",
        "Confirm the private IPs with DvSum (dns.names); `dvsum-vpn status` shows "
        "the tunnels and the route.",
        guide="nc -zv times out",
    )


def test_nc_times_out_while_other_traffic_comes_back():
    found = run(
        {"tcp": {"10.0.150.69:443": ("timeout", {})}},
        {"counters": {"dvsum-tunnel1": {"bytes_out": 4800, "bytes_in": 9000}}},
    )
    assert found["tcp"].cause.endswith(
        "dvsum-tunnel1 carried traffic both ways (4800 B out, 9000 B in), but not "
        "from these addresses: the private IP is probably wrong."
    )


def test_tls_certificate_error_because_dns_returns_a_public_ip():
    found = run({
        "dns": {"apis.dvsum.ai": ("public", {"address": "3.3.3.3",
                                             "hosts_block": False})},
        "tls": {"apis.dvsum.ai": ("name_mismatch", {"address": "3.3.3.3"})},
    })  # fmt: skip
    assert found["tls"].follows == "dns"
    assert found["tls"].guide == "DNS returns public IP"
    assert found["tls"].fix.startswith("fix dns first: Run `dvsum-vpn up`")


def test_tls_certificate_error_with_dns_correct():
    detail = "certificate verify failed: unable to get local issuer certificate"
    found = run({"tls": {"apis.dvsum.ai": ("untrusted", {"detail": detail})}})
    assert found["tls"] == Diagnosis(
        "tls",
        f"{detail}, although apis.dvsum.ai resolves to DvSum's private address: "
        "something between here and DvSum answers in its place (a TLS-inspecting "
        "proxy), or the CA store lacks the CA that signed it.",
        "Exempt dvsum.ai from TLS inspection, or give check the CA bundle DvSum "
        "uses (--ca-file).",
        guide="curl returns TLS certificate error",
    )


@pytest.mark.parametrize(
    ("broken", "root"),
    [
        ({"tunnels": {"dvsum-tunnel1": ("no_response", {}),
                      "dvsum-tunnel2": ("auth_failed", {})}}, "tunnels"),
        ({"route": {"10.0.0.0/16": ("missing", {})}}, "route"),
    ],
)  # fmt: skip
def test_curl_times_out_with_dns_correct(broken, root):
    found = run({**broken, **everywhere("timeout")})
    assert "dns" not in found
    assert found["https"].follows == root


def test_websocket_timeout_with_the_network_down_follows_tcp():
    found = run({"tcp": {"10.0.157.107:443": ("timeout", {})},
                 "websocket": {"socket-api.dvsum.ai": ("timeout", {})}})  # fmt: skip
    assert found["websocket"].follows == "tcp"


def test_websocket_timeout_alone_is_the_network_path():
    found = run({"websocket": {"socket-api.dvsum.ai": ("timeout", {})}})
    assert found["websocket"].guide == "WebSocket returns timeout (not 403)"
    assert found["websocket"].fix == (
        "Run the TCP test first: fix the tunnel and DNS before the WebSocket."
    )


# -- the README's rows --------------------------------------------------------


def test_charon_without_the_agents_settings():
    detail = (
        "charon: it runs without dvsum-vpn's settings (its table-220 rule "
        "catches all traffic); restart it: systemctl restart strongswan"
    )
    results = _with_extra_item("tunnels", item("charon", "charon_settings", detail))
    found = {d.check: d for d in diagnosis.diagnose(results, FACTS)}
    assert found["tunnels"].guide == (
        "up exits 3: charon runs without dvsum-vpn's settings"
    )
    assert found["tunnels"].fix.startswith("Restart strongSwan once")


def test_no_ipsec0_device():
    detail = ("charon: no ipsec0 device: this kernel has no ESP and charon has "
              "not loaded kernel-libipsec")  # fmt: skip
    results = _with_extra_item("tunnels", item("charon", "charon_settings", detail))
    found = {d.check: d for d in diagnosis.diagnose(results, FACTS)}
    assert found["tunnels"].guide == "up exits 3: no ipsec0 device"
    assert found["tunnels"].fix.startswith("Install libcharon-extra-plugins")


def _with_extra_item(check: str, extra: Item) -> list[Result]:
    checks = healthy()
    checks[check] = [*checks[check], extra]
    return [Result(n, tuple(checks[n]), "", 0.1) for n in diagnosis.ORDER]


# -- faults the guide has no row for ---------------------------------------------


def test_a_service_down_refuses_through_the_tunnel():
    found = run({
        "tcp": {"10.0.150.69:443": ("refused", {})},
        "tls": {"s3-storage.dvsum.ai": ("refused", {})},
        "https": {"s3-storage.dvsum.ai": ("refused", {})},
    })  # fmt: skip
    assert found["tcp"].cause == (
        "10.0.150.69:443 answers through the tunnel with a TCP reset: the path "
        "works, but nothing listens on port 443 there: the service is down on "
        "DvSum's side."
    )
    assert (found["tls"].follows, found["https"].follows) == ("tcp", "tcp")


def test_path_mtu_black_hole_and_the_stalled_handshakes_that_follow():
    found = run({
        "mtu": {"10.0.151.182 (apis.dvsum.ai)": ("too_big", {"largest": 1320})},
        "tls": {"apis.dvsum.ai": ("handshake_timeout", {})},
    })  # fmt: skip
    assert found["mtu"].cause.startswith(
        "Packets of the tunnel's full size (1400 bytes, DF set) are lost while "
        "small ones pass (the largest that passed: 1320 bytes)"
    )
    assert found["tls"].follows == "mtu"


def test_websocket_endpoint_refusing_while_the_path_works():
    detail = "socket-api.dvsum.ai at 10.0.157.107: connection closed without a reply"
    found = run({"websocket": {"socket-api.dvsum.ai": ("closed", {"detail": detail})}})
    assert found["websocket"] == Diagnosis(
        "websocket",
        f"{detail}: TCP, TLS and HTTPS to socket-api.dvsum.ai pass, so the tunnel, "
        "route and DNS work: the WebSocket endpoint itself refuses the upgrade.",
        "Tell DvSum that the WebSocket endpoint refuses upgrades (send this report).",
    )


def test_health_check_not_through_privatelink():
    found = run({"https": {"apis.dvsum.ai": ("not_privatelink", {})}})
    assert found["https"].guide == "DNS returns public IP"


def test_a_tunnel_that_came_up_only_when_check_initiated_it():
    found = run({"tunnels": {"dvsum-tunnel2": ("came_up", {})}})
    assert found["tunnels"].fix.startswith("Run the supervisor")


def test_charon_down_explains_every_network_failure():
    results = healthy()
    results["tunnels"] = [item("charon", "charon_down",
                               "charon: not running at unix:///x")]  # fmt: skip
    for name in ("tcp", "mtu", "tls", "https", "websocket"):
        results[name] = [Item(i.target, "timeout", "t", i.facts) for i in results[name]]
    found = diagnosis.diagnose(
        [Result(n, tuple(results[n]), "", 0.1) for n in diagnosis.ORDER], FACTS
    )
    assert [(d.check, d.follows) for d in found] == [
        ("tunnels", None), ("tcp", "tunnels"), ("mtu", "tunnels"),
        ("tls", "tunnels"), ("https", "tunnels"), ("websocket", "tunnels"),
    ]  # fmt: skip
    assert found[0].fix.startswith("Start strongSwan")
