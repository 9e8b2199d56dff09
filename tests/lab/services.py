"""The landing zone's services: nginx with the three HTTPS names, and two
dnsmasq resolvers that know only those names.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from ipaddress import IPv4Address
from pathlib import Path

from tests.lab.commands import LabError, run
from tests.lab.daemons import Daemons
from tests.lab.pki import ServerCert

LOG = logging.getLogger(__name__)

NGINX = "/usr/sbin/nginx"
DNSMASQ = "/usr/sbin/dnsmasq"
START_TIMEOUT = 10.0

HEALTH_BODY = {
    "apis.dvsum.ai": {"status": "OK", "mode": "privatelink"},
    "s3-storage.dvsum.ai": {"status": "OK"},
    "socket-api.dvsum.ai": {"status": "OK"},
}
SOCKET_SERVICE = "socket-api.dvsum.ai"
# nginx's answer to a WebSocket upgrade on /socket: 403 as DvSum's server
# gives a client without credentials; 444 (close without a reply) makes
# the endpoint refuse.
SOCKET_FORBIDDEN = """403 '{"message":"Forbidden"}'"""
SOCKET_REFUSED = "444"

TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def health_body(name: str) -> str:
    """The exact body GET /health-check returns for service `name`."""
    return json.dumps(HEALTH_BODY[name], separators=(",", ":"))


def render_nginx(
    directory: Path,
    services: dict[str, IPv4Address],
    certs: dict[str, ServerCert],
    socket_reply: str = SOCKET_FORBIDDEN,
) -> str:
    """nginx.conf: one TLS server block per service address."""
    lines = [
        "# Written by the dvsum-vpn lab: the landing zone's HTTPS services.",
        "daemon off;",
        "master_process on;",
        "worker_processes 1;",
        f"pid {directory}/nginx.run.pid;",
        f"error_log {directory}/error.log info;",
        "events {",
        "    worker_connections 128;",
        "}",
        "http {",
        f"    access_log {directory}/access.log;",
    ]
    lines += [
        f"    {kind}_temp_path {directory}/tmp/{kind};"
        for kind in TEMP_PATHS
        if _nginx_has(kind)
    ]
    lines += ["    default_type application/json;", "    server_tokens off;"]
    for name, address in services.items():
        cert = certs[name]
        lines += [
            "    server {",
            f"        listen {address}:443 ssl;",
            f"        server_name {name};",
            f"        ssl_certificate {cert.cert};",
            f"        ssl_certificate_key {cert.key};",
            "        location = /health-check {",
            f"            return 200 '{health_body(name)}';",
            "        }",
        ]
        if name == SOCKET_SERVICE:
            lines += [
                "        # WebSocket upgrades are refused, as DvSum's answer to a",
                "        # client without credentials.",
                "        location /socket {",
                f"            return {socket_reply};",
                "        }",
            ]
        lines += [
            "        location / {",
            """            return 404 '{"message":"Not Found"}';""",
            "        }",
            "    }",
        ]
    lines += ["}", ""]
    return "\n".join(lines)


def start_nginx(
    daemons: Daemons,
    ns: str,
    directory: Path,
    services: dict[str, IPv4Address],
    certs: dict[str, ServerCert],
) -> None:
    """Write nginx.conf under directory and start nginx in ns."""
    for kind in TEMP_PATHS:
        (directory / "tmp" / kind).mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(render_nginx(directory, services, certs))
    argv = [
        NGINX,
        "-p",
        str(directory),
        "-c",
        str(conf),
        "-e",
        str(directory / "error.log"),
    ]
    run(["ip", "netns", "exec", ns, *argv, "-t"])
    daemons.start(ns, directory / "nginx.pid", argv)
    for address in services.values():
        _wait_listening(daemons, directory / "nginx.pid", ns, "t", address, port=443)


def start_dnsmasq(
    daemons: Daemons,
    ns: str,
    directory: Path,
    listen: IPv4Address,
    names: dict[str, IPv4Address],
) -> Path:
    """One dnsmasq on listen:53 answering only `names`; returns its pid file.

    --no-resolv with no upstream servers: any other name is REFUSED.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pidfile = directory / f"dnsmasq-{listen}.pid"
    argv = [
        DNSMASQ,
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--bind-interfaces",
        f"--listen-address={listen}",
        "--except-interface=lo",
        "--port=53",
        "--user=root",
        "--group=root",
        f"--pid-file={directory}/dnsmasq-{listen}.run.pid",
        f"--log-facility={directory}/dnsmasq-{listen}.log",
        "--log-queries",
        *(f"--address=/{name}/{address}" for name, address in names.items()),
    ]
    daemons.start(ns, pidfile, argv)
    _wait_listening(daemons, pidfile, ns, "u", listen, port=53)
    return pidfile


@functools.cache
def _nginx_build() -> str:
    done = run([NGINX, "-V"])
    return done.stdout + done.stderr


def _nginx_has(kind: str) -> bool:
    """Whether this nginx build has the module owning `<kind>_temp_path`."""
    if kind == "client_body":
        return True
    return f"--without-http_{kind}_module" not in _nginx_build()


def _wait_listening(
    daemons: Daemons,
    pidfile: Path,
    ns: str,
    proto: str,
    address: IPv4Address,
    *,
    port: int,
) -> None:
    """Wait until something listens on address:port (proto "t" or "u")."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not daemons.alive(pidfile):
            raise LabError(f"{pidfile.stem} in {ns} exited\n{_out(pidfile)}")
        done = run(
            ["ss", "-N", ns, f"-H{proto}ln", f"src {address}:{port}"], check=False
        )
        if done.stdout.strip():
            return
        time.sleep(0.05)
    raise LabError(f"nothing listens on {address}:{port} in {ns}\n{_out(pidfile)}")


def _out(pidfile: Path) -> str:
    out = pidfile.with_suffix(".out")
    return out.read_text(errors="replace")[-3000:] if out.exists() else ""
