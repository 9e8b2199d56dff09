"""The lab itself: daemons, the landing zone's services, the AWS side's
refusal of group 2, and the customer charon the agent will drive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab import charon, probes, selftest, services
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

SERVICES = ("apis.dvsum.ai", "s3-storage.dvsum.ai", "socket-api.dvsum.ai")


def test_every_daemon_is_alive(lab: Lab) -> None:
    alive = lab.daemons_alive()
    assert alive.pop("cgw/charon") is False  # started only on request
    assert alive == dict.fromkeys(alive, True)
    assert all(lab.namespaces().values())


def test_return_tunnel_defaults_to_one(lab: Lab) -> None:
    assert lab.return_tunnel() == 1


@pytest.mark.parametrize("name", SERVICES)
def test_health_check_answers_with_its_body(lab: Lab, name: str) -> None:
    reply = probes.https_get(lab, "lz", name)
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.body == services.health_body(name)


def test_apis_body_is_the_privatelink_one(lab: Lab) -> None:
    body = probes.https_get(lab, "lz", "apis.dvsum.ai").body
    assert body == '{"status":"OK","mode":"privatelink"}'


def test_socket_refuses_a_websocket_upgrade(lab: Lab) -> None:
    reply = probes.websocket_upgrade(lab, "lz", "socket-api.dvsum.ai", "/socket")
    assert reply.status == 403


def test_certificate_names_the_service(lab: Lab) -> None:
    # curl verifies the chain and the name; the wrong name must fail.
    done = lab.exec(
        "lz",
        "curl", "-sS", "--max-time", "5", "--cacert", str(lab.ca_pem),
        "--resolve", "s3-storage.dvsum.ai:443:10.0.151.182",
        "https://s3-storage.dvsum.ai/health-check",
        check=False,
    )  # fmt: skip
    assert done.returncode == 60, done.stderr  # peer certificate not trusted


@pytest.mark.parametrize("resolver", ["10.0.10.53", "10.0.20.53"])
def test_resolvers_answer_the_service_names(lab: Lab, resolver: str) -> None:
    for name, address in lab.addresses.services.items():
        answer = probes.dns_query(lab, "lz", resolver, name)
        assert answer == {"rcode": "NOERROR", "a": [str(address)]}


@pytest.mark.parametrize("resolver", ["10.0.10.53", "10.0.20.53"])
def test_resolvers_know_nothing_else(lab: Lab, resolver: str) -> None:
    for name in ("example.com", "dvsum.ai", "www.dvsum.ai"):
        answer = probes.dns_query(lab, "lz", resolver, name)
        assert answer["a"] == []
        assert answer["rcode"] in ("REFUSED", "NXDOMAIN")


def test_internet_has_no_way_out(lab: Lab) -> None:
    routes = lab.exec("inet", "ip", "route", "show", "default").stdout
    assert routes.strip() == ""


@pytest.fixture
def customer_charon(lab: Lab) -> Iterator[Lab]:
    lab.start_customer_charon()
    try:
        yield lab
    finally:
        lab.stop_customer_charon()


def test_customer_charon_starts_and_stops(customer_charon: Lab) -> None:
    lab = customer_charon
    assert lab.customer_charon_alive()
    assert lab.customer.vici.exists()
    lab.exec("cgw", "ip", "link", "show", "ipsec0")
    first = lab.customer.pidfile.read_text()
    lab.restart_customer_charon()
    assert lab.customer.pidfile.read_text() != first
    lab.stop_customer_charon()
    assert not lab.customer_charon_alive()
    # charon leaves its socket file behind, as on a real host: it refuses.
    with pytest.raises(ConnectionRefusedError), charon.session(lab.customer.vici):
        pass
    done = lab.exec("cgw", "ip", "link", "show", "ipsec0", check=False)
    assert done.returncode != 0


def test_customer_charon_reads_dropins_last(lab: Lab) -> None:
    conf = lab.customer.conf.read_text()
    include = f"include {lab.customer.dropin_dir}/*.conf"
    assert conf.rstrip().endswith(include)
    assert "fwmark" not in conf  # the agent's drop-in decides


def test_aws_refuses_group_2(customer_charon: Lab) -> None:
    """A customer proposing modp1024 (what AWS's files print) is refused."""
    reply = selftest.initiate_with_proposal(customer_charon, "aes128-sha1-modp1024")
    assert reply.returncode != 0
    assert "NO_PROPOSAL_CHOSEN" in reply.stdout
    groups = [
        ike["dh-group"] for sa in customer_charon.aws_sas(1) for ike in sa.values()
    ]
    assert "MODP_1024" not in groups
