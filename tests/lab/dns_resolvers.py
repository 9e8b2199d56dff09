"""The customer's own resolver and its ISP's, for the DNS forwarding tests.

    lan ──> cgw: dnsmasq or unbound on 127.0.0.1 and 192.168.10.1
              ├─ dvsum.ai, once the agent forwards it ── tunnel ──> lz 10.0.10.53
              │                                                      lz 10.0.20.53
              └─ every other name ── NAT ──> inet: the ISP's resolver 198.51.100.1

The ISP's resolver answers the public side: example.org, and dvsum.ai names
with a public address, as the internet does before the forward exists.
Each resolver logs every query it gets, so a test can say who saw what.

The customer's resolver is laid out as its Debian package lays it out:
dnsmasq with a conf-dir, unbound with ``/etc/unbound/unbound.conf``
including ``unbound.conf.d/*.conf`` (given to the gateway namespace through
``/etc/netns/NS/unbound``, which ``ip netns exec`` binds over
``/etc/unbound``) and ``unbound-control`` on a socket.  dnsmasq runs here
without systemd, so its restart is ``python -m tests.lab.dns_resolvers
restart``, which the agent's ``dns.reload_command`` names.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from ipaddress import IPv4Address
from pathlib import Path

from tests.lab import netns
from tests.lab.addresses import ADDRESSES
from tests.lab.commands import LabError, run
from tests.lab.daemons import Daemons
from tests.lab.services import DNSMASQ

UNBOUND = "/usr/sbin/unbound"
REPO = Path(__file__).resolve().parents[2]
ISP = ADDRESSES.inet_to_nat.ip
# The public answers: what the internet says before the forward exists.
PUBLIC = {
    "example.org": IPv4Address("192.0.2.80"),
    "dvsum.ai": IPv4Address("192.0.2.10"),
}
LISTEN = (IPv4Address("127.0.0.1"), ADDRESSES.cgw_lan.ip)
START_TIMEOUT = 10.0


def start_isp(daemons: Daemons, ns: str, directory: Path) -> Path:
    """The ISP's resolver in inet; returns its query log."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "isp.log"
    argv = [
        DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
        "--no-hosts", "--bind-interfaces", f"--listen-address={ISP}",
        "--except-interface=lo", "--user=root", "--group=root",
        f"--pid-file={directory}/isp.run.pid", f"--log-facility={log}",
        "--log-queries",
        *(f"--address=/{name}/{address}" for name, address in PUBLIC.items()),
    ]  # fmt: skip
    daemons.start(ns, directory / "isp.pid", argv)
    wait_listening(ns, ISP, directory / "isp.out")
    return log


class CustomerResolver:
    """dnsmasq or unbound in the gateway namespace, as its package sets it up."""

    def __init__(self, backend: str, root: Path, ns: str) -> None:
        self.backend = backend
        self.root = root
        self.ns = ns
        self.directory = root / "cgw-dns"
        self.pidfile = self.directory / f"{backend}.pid"
        self.log = self.directory / f"{backend}.log"
        self.etc = netns.etc_dir(ns) / "unbound"
        if backend == "dnsmasq":
            self.main_conf = self.directory / "dnsmasq.conf"
            self.conf_dir = self.directory / "dnsmasq.d"
        else:
            self.main_conf = self.etc / "unbound.conf"
            self.conf_dir = self.etc / "unbound.conf.d"

    @property
    def agent_conf(self) -> Path:
        """Where the agent's own file goes (config.yaml's paths.*_conf)."""
        return self.conf_dir / "dvsum-vpn.conf"

    @property
    def reload_command(self) -> list[str]:
        """config.yaml's dns.reload_command; empty: the backend's default."""
        if self.backend == "unbound":
            return []
        return [
            "env", f"PYTHONPATH={REPO}", sys.executable, "-m",
            "tests.lab.dns_resolvers", "restart", str(self.root), self.ns,
        ]  # fmt: skip

    def write(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        if self.backend == "dnsmasq":
            self.main_conf.write_text(_dnsmasq_conf(self))
        else:
            if not Path("/etc/unbound").is_dir():
                raise LabError("/etc/unbound is missing: install unbound")
            self.main_conf.write_text(UNBOUND_MAIN)
            (self.conf_dir / "lab.conf").write_text(_unbound_conf(self))
            (self.conf_dir / "remote-control.conf").write_text(
                f"remote-control:\n    control-enable: yes\n"
                f"    control-interface: {self.directory / 'unbound.ctl'}\n"
            )
        argv = self.argv()
        (self.directory / "argv.json").write_text(json.dumps(argv))

    def argv(self) -> list[str]:
        if self.backend == "dnsmasq":
            return [DNSMASQ, "--keep-in-foreground", f"--conf-file={self.main_conf}"]
        return [UNBOUND, "-d", "-c", "/etc/unbound/unbound.conf"]

    def start(self, daemons: Daemons) -> None:
        daemons.start(self.ns, self.pidfile, self.argv())
        wait_listening(self.ns, LISTEN[0], self.pidfile.with_suffix(".out"))

    def stop(self, daemons: Daemons) -> None:
        daemons.stop(self.pidfile)

    def remove(self) -> None:
        """Remove what write() made (the lab tree goes with the lab)."""
        shutil.rmtree(self.etc, ignore_errors=True)
        shutil.rmtree(self.directory, ignore_errors=True)

    def pid(self) -> int | None:
        return Daemons(self.root).pid(self.pidfile)

    def starts(self) -> int:
        """How many times the resolver started or re-read its configuration."""
        marker = "started, version" if self.backend == "dnsmasq" else "start of service"
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count(marker)

    def tree(self) -> dict[str, bytes]:
        """Every configuration file of the resolver, by path: its bytes."""
        files = {str(self.main_conf): self.main_conf.read_bytes()}
        for path in sorted(self.conf_dir.iterdir()):
            files[str(path)] = path.read_bytes()
        return files


def _dnsmasq_conf(resolver: CustomerResolver) -> str:
    return (
        "# The customer's dnsmasq: its ISP upstream, the LAN, a conf-dir.\n"
        "no-resolv\n"
        f"server={ISP}\n"
        f"listen-address={','.join(map(str, LISTEN))}\n"
        "bind-interfaces\n"
        "no-hosts\n"
        "user=root\n"
        "group=root\n"
        f"pid-file={resolver.directory}/dnsmasq.run.pid\n"
        f"log-facility={resolver.log}\n"
        "log-queries\n"
        f"conf-dir={resolver.conf_dir},*.conf"
    )  # no final newline: the agent must keep that too


UNBOUND_MAIN = """\
# The customer's unbound.conf, as Debian ships it.
include-toplevel: "/etc/unbound/unbound.conf.d/*.conf"
"""


def _unbound_conf(resolver: CustomerResolver) -> str:
    interfaces = "".join(f"    interface: {a}\n" for a in LISTEN)
    return f"""\
# The customer's unbound: the LAN, its ISP upstream.  No DNSSEC validation:
# the lab's internet has no signed root.
server:
{interfaces}    access-control: 127.0.0.0/8 allow
    access-control: {ADDRESSES.customer_cidr} allow
    do-ip6: no
    chroot: ""
    username: ""
    directory: "{resolver.directory}"
    pidfile: "{resolver.directory}/unbound.run.pid"
    logfile: "{resolver.log}"
    use-syslog: no
    verbosity: 1
    log-queries: yes
    module-config: "iterator"
forward-zone:
    name: "."
    forward-addr: {ISP}
"""


def wait_listening(ns: str, address: IPv4Address, out: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        done = run(["ss", "-N", ns, "-Huln", f"src {address}:53"], check=False)
        if done.stdout.strip():
            return
        time.sleep(0.05)
    said = out.read_text(errors="replace")[-2000:] if out.exists() else ""
    raise LabError(f"nothing listens on {address}:53 in {ns}\n{said}")


def restart(root: Path, ns: str) -> None:
    """Stop the customer's dnsmasq and start it again with the same argv:
    what ``systemctl restart dnsmasq`` does on a real gateway."""
    directory = root / "cgw-dns"
    argv = json.loads((directory / "argv.json").read_text())
    daemons = Daemons(root)
    pidfile = directory / "dnsmasq.pid"
    daemons.stop(pidfile)
    daemons.start(ns, pidfile, argv)
    wait_listening(ns, LISTEN[0], pidfile.with_suffix(".out"))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.dns_resolvers")
    parser.add_argument("action", choices=("restart",))
    parser.add_argument("root", type=Path)
    parser.add_argument("ns")
    args = parser.parse_args()
    try:
        restart(args.root, args.ns)
    except (LabError, OSError, subprocess.SubprocessError) as err:
        print(f"dns_resolvers: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
