"""Which resolver runs here, read from a /proc laid out like the kernel's."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

from agent.dns import detect

HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode ref pointer drops\n"
)


def _hex(address: str, port: int) -> str:
    (word,) = struct.unpack("=I", socket.inet_aton(address))
    return f"{word:08X}:{port:04X}"


class FakeProc:
    """/proc with net/udp and one directory per process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "net").mkdir(parents=True)
        self.lines: list[str] = []

    def listen(
        self,
        pid: int,
        comm: str,
        address: str,
        *,
        port: int = 53,
        state: str = "07",
        uid: int = 0,
        hidden: bool = False,
    ) -> None:
        inode = 1000 + len(self.lines)
        self.lines.append(
            f"{len(self.lines)}: {_hex(address, port)} 00000000:0000 {state} "
            f"00000000:00000000 00:00000000 00000000 {uid} 0 {inode} 2 0 0\n"
        )
        (self.root / "net" / "udp").write_text(HEADER + "".join(self.lines))
        if hidden:  # ProtectProc=invisible: another user's process
            return
        fd = self.root / str(pid) / "fd"
        fd.mkdir(parents=True, exist_ok=True)
        os.symlink(f"socket:[{inode}]", fd / str(len(list(fd.iterdir())) + 3))
        (self.root / str(pid) / "comm").write_text(comm + "\n")


def _resolv(tmp_path: Path, *servers: str) -> Path:
    path = tmp_path / "resolv.conf"
    path.write_text("".join(f"nameserver {s}\n" for s in servers) + "options edns0\n")
    return path


def test_one_resolver_is_the_one(tmp_path):
    proc = FakeProc(tmp_path / "proc")
    proc.listen(400, "dnsmasq", "127.0.0.1")
    proc.listen(400, "dnsmasq", "192.168.10.1")
    proc.listen(401, "chronyd", "127.0.0.1", port=323)
    found = detect.detect(proc.root, _resolv(tmp_path))
    assert found == detect.Detection(
        "dnsmasq", "dnsmasq listens on port 53 (127.0.0.1, 192.168.10.1)"
    )


def test_resolv_conf_chooses_between_two(tmp_path):
    proc = FakeProc(tmp_path / "proc")
    proc.listen(300, "systemd-resolve", "127.0.0.53")
    proc.listen(400, "dnsmasq", "192.168.10.1")
    assert detect.detect(proc.root, _resolv(tmp_path, "127.0.0.53")).backend == (
        "systemd-resolved"
    )
    assert detect.detect(proc.root, _resolv(tmp_path, "192.168.10.1")).backend == (
        "dnsmasq"
    )


def test_a_wildcard_socket_answers_any_local_nameserver(tmp_path):
    proc = FakeProc(tmp_path / "proc")
    proc.listen(300, "systemd-resolve", "127.0.0.53")
    proc.listen(500, "unbound", "0.0.0.0")
    assert detect.detect(proc.root, _resolv(tmp_path, "127.0.0.1")).backend == (
        "unbound"
    )


def test_two_resolvers_and_no_hint_is_a_question_for_the_operator(tmp_path):
    proc = FakeProc(tmp_path / "proc")
    proc.listen(300, "systemd-resolve", "127.0.0.53")
    proc.listen(400, "dnsmasq", "192.168.10.1")
    found = detect.detect(proc.root, _resolv(tmp_path, "192.0.2.1"))
    assert found.backend is None
    assert found.reason.endswith("set dns.backend")


def test_nothing_listening_or_only_clients(tmp_path):
    proc = FakeProc(tmp_path / "proc")
    proc.listen(400, "dnsmasq", "127.0.0.1", state="01")  # a connected socket
    proc.listen(401, "named", "127.0.0.1")  # not a backend we configure
    found = detect.detect(proc.root, _resolv(tmp_path, "127.0.0.1"))
    assert found == detect.Detection(
        None, "no systemd-resolved, dnsmasq or unbound listens on port 53 here"
    )


def test_this_machines_own_proc_can_be_read():
    found = detect.detect()
    assert found.backend in (None, "systemd-resolved", "dnsmasq", "unbound")


def test_a_hidden_process_is_known_by_its_user(tmp_path, monkeypatch):
    users = {101: "systemd-resolve", 102: "unbound", 103: "avahi"}
    monkeypatch.setattr(detect, "_user", lambda uid: users.get(uid, ""))
    proc = FakeProc(tmp_path / "proc")
    proc.listen(300, "systemd-resolve", "127.0.0.53", uid=101, hidden=True)
    proc.listen(301, "avahi-daemon", "0.0.0.0", uid=103, hidden=True)
    found = detect.detect(proc.root, _resolv(tmp_path, "127.0.0.53"))
    assert found.backend == "systemd-resolved"
    proc.listen(302, "unbound", "192.168.10.1", uid=102, hidden=True)
    found = detect.detect(proc.root, _resolv(tmp_path, "192.168.10.1"))
    assert found.backend == "unbound"
