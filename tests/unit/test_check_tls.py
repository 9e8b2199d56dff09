"""TLS, health-check and WebSocket probes against small servers on loopback:
what each kind of answer (or silence) is called."""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address

import pytest

from agent.check import tls, web
from tests.lab.pki import Pki, ServerCert

LOOPBACK = IPv4Address("127.0.0.1")
APIS = "apis.dvsum.ai"
SOCKET = "socket-api.dvsum.ai"

Handler = Callable[[socket.socket], None]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.create_ca()
    return pki


@pytest.fixture(scope="module")
def certs(pki: Pki) -> dict[str, ServerCert]:
    return {name: pki.issue(name) for name in (APIS, SOCKET, "other.example")}


class Server:
    """Accepts on 127.0.0.1 (any port), optionally TLS, then ``handler``."""

    def __init__(self, cert: ServerCert | None, handler: Handler) -> None:
        self._listen = socket.create_server(("127.0.0.1", 0))
        self.port = self._listen.getsockname()[1]
        self._ctx: ssl.SSLContext | None = None
        if cert is not None:
            self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ctx.load_cert_chain(cert.cert, cert.key)
        self._handler = handler
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listen.accept()
            except OSError:
                return
            self._open.append(conn)
            try:
                if self._ctx is not None:
                    conn = self._ctx.wrap_socket(conn, server_side=True)
                    self._open.append(conn)
                self._handler(conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone
        # would leave the port listening until then.
        with contextlib.suppress(OSError):
            self._listen.shutdown(socket.SHUT_RDWR)
        self._listen.close()
        self._thread.join(5)
        for conn in self._open:
            conn.close()


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Server]]:
    """Start a server; the probes then connect to its port."""
    servers: list[Server] = []

    def start(cert: ServerCert | None, handler: Handler) -> Server:
        server = Server(cert, handler)
        servers.append(server)
        for name in ("exchange", "handshake"):
            original = getattr(tls, f"_orig_{name}", getattr(tls, name))
            monkeypatch.setattr(tls, f"_orig_{name}", original, raising=False)
            monkeypatch.setattr(
                tls, name, functools.partial(original, port=server.port)
            )
        return server

    yield start
    for server in servers:
        server.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def reply(status: int, body: str = "") -> Handler:
    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(
            f"HTTP/1.1 {status} Whatever\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n{body}".encode()
        )
        conn.close()

    return handle


def close_unanswered(conn: socket.socket) -> None:
    _read_request(conn)
    conn.close()


def stall(conn: socket.socket) -> None:
    """Never answer the ClientHello; return once the client gives up."""
    while conn.recv(4096):
        pass


def test_health_check_passes_with_the_guides_body(serve, certs, pki):
    serve(certs[APIS], reply(200, '{"status":"OK","mode":"privatelink"}'))
    (item,) = web.health_items([(APIS, LOOPBACK)], pki.ca_cert)
    assert (item.kind, item.facts["status"]) == ("ok", 200)
    assert item.detail.startswith(
        'GET https://apis.dvsum.ai/health-check: 200 {"status":"OK","mode":'
        '"privatelink"} in '
    )


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ((503, ""), "status"),
        ((200, '{"status":"OK","mode":"public"}'), "not_privatelink"),
        ((200, "<html>hello</html>"), "body"),
        ((200, '{"status":"DEGRADED","mode":"privatelink"}'), "body"),
    ],
)
def test_health_check_failures(serve, certs, pki, answer, kind):
    serve(certs[APIS], reply(*answer))
    (item,) = web.health_items([(APIS, LOOPBACK)], pki.ca_cert)
    assert item.kind == kind


@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        (reply(403, '{"message":"Forbidden"}'), "ok"),
        (reply(400), "ok"),
        (reply(101), "ok"),
        (reply(404), "not_found"),
        (reply(502), "server_error"),
        (reply(302), "unexpected_status"),
        (close_unanswered, "closed"),
    ],
)
def test_websocket_upgrade(serve, certs, pki, handler, kind):
    serve(certs[SOCKET], handler)
    targets = [(APIS, LOOPBACK), (SOCKET, LOOPBACK)]
    (item,) = web.websocket_items(targets, pki.ca_cert)
    assert (item.target, item.kind) == (SOCKET, kind)


def test_tls_verified_with_sni_and_name(serve, certs, pki):
    serve(certs[APIS], reply(200))
    (item,) = web.tls_items([(APIS, LOOPBACK)], pki.ca_cert)
    assert item.kind == "ok"
    assert item.facts["subject"] == "commonName=apis.dvsum.ai"
    assert item.facts["san"] == ["apis.dvsum.ai"]


def test_a_certificate_for_another_name(serve, certs, pki):
    serve(certs["other.example"], reply(200))
    (item,) = web.tls_items([(APIS, LOOPBACK)], pki.ca_cert)
    assert (item.kind, item.facts["stage"]) == ("name_mismatch", "handshake")


def test_a_certificate_from_a_ca_not_trusted(serve, certs, tmp_path):
    other = Pki(tmp_path / "other")
    other.create_ca()
    serve(certs[APIS], reply(200))
    (item,) = web.tls_items([(APIS, LOOPBACK)], other.ca_cert)
    assert item.kind == "untrusted"
    assert "unable to get local issuer certificate" in item.detail


def test_an_unreadable_ca_bundle(serve, certs, tmp_path):
    serve(certs[APIS], reply(200))
    (item,) = web.tls_items([(APIS, LOOPBACK)], tmp_path / "missing.pem")
    assert item.kind == "ca_file"


def test_a_handshake_that_stalls_after_tcp_connects(serve, pki, monkeypatch):
    monkeypatch.setattr(tls, "TIMEOUT", 0.5)
    serve(None, stall)
    (item,) = web.tls_items([(APIS, LOOPBACK)], pki.ca_cert)
    assert (item.kind, item.facts["stage"]) == ("handshake_timeout", "handshake")


def test_nothing_listening_is_refused(serve, certs, pki):
    server = serve(certs[APIS], reply(200))
    server.close()
    (item,) = web.health_items([(APIS, LOOPBACK)], pki.ca_cert)
    assert (item.kind, item.facts.get("stage")) == ("refused", "connect"), item


def test_a_name_without_an_address_is_not_probed(pki):
    (item,) = web.health_items([(APIS, None)], pki.ca_cert)
    assert (item.kind, item.detail) == ("no_address", "apis.dvsum.ai: does not resolve")
