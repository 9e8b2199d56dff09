"""TLS to a service as the guide's openssl and curl commands do it: SNI set,
the certificate verified against the system CA store (or a bundle the
operator names) and matched to the name, then one HTTP/1.1 request.

The address comes from the caller (what the name resolved to), so a wrong
DNS answer shows here as the wrong server's certificate.  Every failure is
an ``Failure`` that says at which stage it happened.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from agent.check import tcp

TIMEOUT = 2.5  # for the whole exchange: connect, handshake, request, reply
PORT = 443
MAX_BODY = 64 * 1024

# OpenSSL's X509_V_ERR_* codes (x509_vfy.h) that mean "not trusted here".
UNTRUSTED = {2, 18, 19, 20, 21, 27}
EXPIRED = {9, 10}
HOSTNAME_MISMATCH = 62


class Failure(Exception):
    """A TLS exchange that failed at ``stage`` (connect, handshake, reply)."""

    def __init__(self, stage: str, kind: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.kind = kind


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    body: str
    tls: dict[str, Any]
    seconds: float


def context(ca_file: Path | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_file))


def handshake(
    name: str, address: IPv4Address, ca_file: Path | None, *, port: int = PORT
) -> dict[str, Any]:
    """Connect and complete the handshake; the session's facts."""
    deadline = time.monotonic() + TIMEOUT
    with _open(
        name, address, ca_file, port=port, deadline=deadline, timeout=TIMEOUT
    ) as conn:
        return _session(conn)


def exchange(
    name: str,
    address: IPv4Address,
    ca_file: Path | None,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
    port: int = PORT,
) -> Reply:
    """One GET over a fresh TLS connection; the reply's status and body."""
    start = time.monotonic()
    deadline = start + timeout
    with _open(
        name, address, ca_file, port=port, deadline=deadline, timeout=timeout
    ) as conn:
        facts = _session(conn)
        lines = [f"GET {path} HTTP/1.1", f"Host: {name}",
                 "User-Agent: dvsum-vpn-check", "Accept: */*"]  # fmt: skip
        lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
        if "Connection" not in (headers or {}):
            lines.append("Connection: close")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        response = http.client.HTTPResponse(conn)  # reads through a makefile()
        try:
            conn.sendall(request)
            response.begin()
            body = b""
            if response.status not in (101, 204, 304):
                body = response.read(MAX_BODY)
        except TimeoutError as err:
            raise Failure("reply", "reply_timeout",
                          f"no reply in {timeout:g} s") from err  # fmt: skip
        except (http.client.HTTPException, ConnectionError, ssl.SSLError) as err:
            raise Failure(
                "reply", "closed",
                f"connection closed without a reply ({type(err).__name__})",
            ) from err  # fmt: skip
        finally:
            # The socket closes for real only once its makefile() has.
            response.close()
    return Reply(
        status=response.status,
        reason=response.reason,
        body=body.decode("utf-8", "replace"),
        tls=facts,
        seconds=time.monotonic() - start,
    )


def _open(
    name: str,
    address: IPv4Address,
    ca_file: Path | None,
    *,
    port: int,
    deadline: float,
    timeout: float,
) -> ssl.SSLSocket:
    try:
        ctx = context(ca_file)
    except (OSError, ssl.SSLError) as err:
        raise Failure("handshake", "ca_file", f"CA bundle {ca_file}: {err}") from err
    try:
        raw = socket.create_connection(
            (str(address), port), timeout=max(0.1, deadline - time.monotonic())
        )
    except OSError as err:
        kind = tcp.failure_kind(err)
        raise Failure("connect", kind, tcp.describe(kind, err, timeout)) from err
    try:
        raw.settimeout(max(0.1, deadline - time.monotonic()))
        return ctx.wrap_socket(raw, server_hostname=name)
    except ssl.SSLCertVerificationError as err:
        raw.close()
        raise Failure("handshake", _verify_kind(err), _verify_text(err)) from err
    except TimeoutError as err:
        raw.close()
        raise Failure(
            "handshake", "handshake_timeout",
            f"TCP connected, but the TLS handshake did not finish in {timeout:g} s",
        ) from err  # fmt: skip
    except (ssl.SSLError, ConnectionError, OSError) as err:
        raw.close()
        raise Failure("handshake", "tls_error", f"TLS handshake failed: {err}") from err


def _verify_kind(err: ssl.SSLCertVerificationError) -> str:
    if err.verify_code == HOSTNAME_MISMATCH:
        return "name_mismatch"
    if err.verify_code in EXPIRED:
        return "expired"
    if err.verify_code in UNTRUSTED:
        return "untrusted"
    return "cert_invalid"


def _verify_text(err: ssl.SSLCertVerificationError) -> str:
    return f"certificate verify failed: {err.verify_message} (code {err.verify_code})"


def _session(conn: ssl.SSLSocket) -> dict[str, Any]:
    cert = conn.getpeercert() or {}
    return {
        "version": conn.version(),
        "cipher": (conn.cipher() or ("",))[0],
        "subject": _dn(cert.get("subject", ())),
        "issuer": _dn(cert.get("issuer", ())),
        "not_after": cert.get("notAfter"),
        "san": [pair[1] for pair in cert.get("subjectAltName", ()) if pair[0] == "DNS"],
    }


def _dn(rdns: Any) -> str:
    return ", ".join(f"{pair[0]}={pair[1]}" for rdn in rdns for pair in rdn)
