"""The lab: DvSum's AWS side in network namespaces, for the agent's tests.

    lab = Lab(Path("/run/dvsum-vpn-lab"))
    lab.up()                        # namespaces, AWS peers, services, files
    lab.start_customer_charon()     # the charon the agent talks to
    lab.exec("cgw", "curl", ...)    # run something in a namespace
    lab.set_return_tunnel(2)        # the landing zone answers via aws2
    lab.down()                      # nothing left, even after a failed up()

See tests/lab/topology.py for the picture and addresses.py for the plan.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.lab import (
    agent_files,
    aws_file,
    aws_peer,
    charon,
    netns,
    services,
    teardown,
    topology,
)
from tests.lab.addresses import ADDRESSES, AWS_PEERS, NAMESPACES, Addresses
from tests.lab.commands import DEFAULT_TIMEOUT, LabError, ns_run
from tests.lab.daemons import Daemons
from tests.lab.pki import Pki

LOG = logging.getLogger(__name__)

DEFAULT_ROOT = Path("/run/dvsum-vpn-lab")
DEFAULT_PREFIX = "dvl-"
PREFIX_RE = re.compile(r"[a-z][a-z0-9]{0,7}-")


class Lab:
    """One lab instance, identified by its root directory and name prefix."""

    def __init__(
        self, root: Path, prefix: str = DEFAULT_PREFIX, data_plane: str = "policy"
    ) -> None:
        """data_plane: what the agent's config.yaml asks for; "route" needs a
        kernel with ESP and XFRM interfaces (the VM tier)."""
        if not PREFIX_RE.fullmatch(prefix):
            raise ValueError(f"prefix must look like 'dvl-', got {prefix!r}")
        if data_plane not in ("policy", "route"):
            raise ValueError(f"data_plane must be policy or route, not {data_plane!r}")
        self.root = Path(root).absolute()
        self.prefix = prefix
        self.data_plane = data_plane
        self.addresses: Addresses = ADDRESSES
        self.ca_pem = self.root / "ca.pem"
        self.aws_xml = self.root / "aws-vpn.xml"
        self.psk_txt = self.root / "psk.txt"
        self.agent = agent_files.AgentPaths(
            self.root, hosts=netns.etc_dir(self.ns("cgw")) / "hosts"
        )
        self.config_yaml = self.agent.config
        self.hosts = self.agent.hosts
        self.customer = charon.CharonPaths(self.root / "cgw")
        self.up_seconds: float | None = None
        self._daemons = Daemons(self.root)
        self._psks: dict[int, str] = {}

    # -- naming and running ------------------------------------------------

    def ns(self, name: str) -> str:
        """The full namespace name for a short name ("cgw" -> "dvl-cgw")."""
        if name not in NAMESPACES:
            raise ValueError(f"no lab namespace {name!r} (one of {NAMESPACES})")
        return self.prefix + name

    def exec(
        self,
        ns: str,
        *argv: str,
        check: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        input_text: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run argv in lab namespace ns (short name); text output captured."""
        return ns_run(
            self.ns(ns), argv, check=check, timeout=timeout, input_text=input_text
        )

    # -- life cycle ----------------------------------------------------------

    def up(self) -> None:
        """Build the lab from scratch (clearing any leftovers first)."""
        start = time.monotonic()
        self.down()
        try:
            self._build()
        except BaseException as exc:
            exc.add_note(self.log_tails())
            self.down()
            raise
        self.up_seconds = time.monotonic() - start
        LOG.info("lab up in %.2f s (root %s)", self.up_seconds, self.root)

    def down(self) -> None:
        """Remove every process, namespace, /etc/netns entry and the tree."""
        start = time.monotonic()
        try:
            teardown.down(self.root, self.prefix)
        finally:
            self._daemons.forget_all()
        LOG.info("lab down in %.2f s", time.monotonic() - start)

    def leftovers(self) -> list[str]:
        """What of the lab still exists; empty after down()."""
        return teardown.leftovers(self.root, self.prefix)

    def _build(self) -> None:
        addr = self.addresses
        self.root.mkdir(mode=0o755, parents=True, exist_ok=True)
        marker = [f"prefix {self.prefix}"]
        if not netns.ETC_NETNS.exists():
            marker.append(teardown.CREATED_ETC_NETNS)
        (self.root / teardown.MARKER).write_text("\n".join(marker) + "\n")
        topology.build(self.ns, addr)
        self._start_services()
        psks = {t.number: aws_file.new_psk() for t in addr.tunnels}
        self._psks = psks
        for tunnel in addr.tunnels:
            aws_peer.start(
                self._daemons,
                self.ns(tunnel.ns),
                self.root / tunnel.ns,
                tunnel,
                addr=addr,
                psk=psks[tunnel.number],
            )
        self.set_return_tunnel(1)
        self.aws_xml.write_text(aws_file.render_xml(addr, psks))
        aws_file.write_private(self.psk_txt, aws_file.render_psk_lines(addr, psks))
        agent_files.write(self.agent, addr, self.ns("cgw"), self.data_plane)
        self.customer.dropin_dir.mkdir(parents=True, exist_ok=True)
        self.customer.conf.write_text(
            charon.render_conf(self.customer, fwmark=False, include_dropins=True)
        )

    def _start_services(self) -> None:
        addr, lz = self.addresses, self.root / "lz"
        pki = Pki(self.root / "pki")
        pki.create_ca()
        shutil.copyfile(pki.ca_cert, self.ca_pem)
        certs = {name: pki.issue(name) for name in addr.services}
        nginx_dir = lz / "nginx"
        nginx_dir.mkdir(parents=True)
        services.start_nginx(
            self._daemons, self.ns("lz"), nginx_dir, dict(addr.services), certs
        )
        for resolver in addr.resolvers:
            services.start_dnsmasq(
                self._daemons, self.ns("lz"), lz / "dns", resolver, dict(addr.services)
            )

    # -- the customer's charon -------------------------------------------------

    def start_customer_charon(self) -> int:
        """Start charon in cgw (the agent's); returns its pid."""
        # Route mode: charon uses kernel ESP and makes no TUN device.
        tun = self.data_plane == "policy"
        return charon.start(self._daemons, self.ns("cgw"), self.customer, tun=tun)

    def stop_customer_charon(self) -> None:
        self._daemons.stop(self.customer.pidfile)

    def restart_customer_charon(self) -> int:
        self.stop_customer_charon()
        return self.start_customer_charon()

    def customer_charon_alive(self) -> bool:
        return self._daemons.alive(self.customer.pidfile)

    # -- the AWS side ----------------------------------------------------------

    def set_return_tunnel(self, number: int) -> None:
        """Route the landing zone's replies to the customer via tunnel 1 or 2."""
        topology.set_return_tunnel(self.ns, self.addresses, number)

    def return_tunnel(self) -> int | None:
        return topology.return_tunnel(self.ns, self.addresses)

    def restart_aws_endpoint(self, number: int, down_for: float) -> None:
        """Kill endpoint ``number``'s charon (SIGKILL: no IKE delete, no
        state kept), wait ``down_for`` seconds, start it fresh."""
        tunnel = self.addresses.tunnel(number)
        paths = charon.CharonPaths(self.root / tunnel.ns)
        pid = self._daemons.pid(paths.pidfile)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        self._daemons.stop(paths.pidfile)
        time.sleep(down_for)
        aws_peer.start(
            self._daemons, self.ns(tunnel.ns), self.root / tunnel.ns, tunnel,
            addr=self.addresses, psk=self._psks[number],
        )  # fmt: skip

    def aws_vici(self, number: int) -> Path:
        """The VICI socket of AWS endpoint `number` (1 or 2)."""
        return charon.CharonPaths(self.root / self.addresses.tunnel(number).ns).vici

    def aws_sas(self, number: int) -> list[dict[str, Any]]:
        """AWS endpoint `number`'s IKE_SAs (VICI list-sas, strings decoded)."""
        return aws_peer.list_sas(self.aws_vici(number))

    # -- observation -----------------------------------------------------------

    def pidfiles(self) -> dict[str, Path]:
        """The pid file of every daemon up() starts, by a readable name."""
        files = {
            f"{peer}/charon": charon.CharonPaths(self.root / peer).pidfile
            for peer in AWS_PEERS
        }
        files["lz/nginx"] = self.root / "lz" / "nginx" / "nginx.pid"
        for resolver in self.addresses.resolvers:
            files[f"lz/dnsmasq {resolver}"] = (
                self.root / "lz" / "dns" / f"dnsmasq-{resolver}.pid"
            )
        return files

    def daemons_alive(self) -> dict[str, bool]:
        """Each daemon of up() (and the customer charon): alive or not."""
        alive = {name: self._daemons.alive(f) for name, f in self.pidfiles().items()}
        alive["cgw/charon"] = self.customer_charon_alive()
        return alive

    def namespaces(self) -> dict[str, bool]:
        return {self.ns(n): netns.exists(self.ns(n)) for n in NAMESPACES}

    def log_tails(self, lines: int = 30) -> str:
        """The end of every log in the lab tree, for a failing test's report."""
        if not self.root.is_dir():
            return "(no lab tree)"
        parts = []
        for path in sorted(self.root.rglob("*")):
            if path.suffix in (".log", ".out") and path.is_file():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path}\n" + "\n".join(text))
        return "\n".join(parts)


__all__ = ["DEFAULT_PREFIX", "DEFAULT_ROOT", "Lab", "LabError"]
