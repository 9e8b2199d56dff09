"""step_dns: idempotent, cheap when nothing changed, reloads the resolver
only after a change, repairs a removed edit, and down gives the resolver's
configuration back byte for byte.  The reload and systemd-resolved are
fakes here; tests/lab and tests/vmguest run the real ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent import config as config_mod
from agent import render_root, state, up
from agent.dns import block, forward, reload, report, resolved, resolved_link, undo
from agent.errors import ApplyError, InputError, TransientError
from agent.inputs import Inputs
from agent.plan import Host, build
from agent.render import hosts
from tests.unit.conftest import CONFIG

FORWARD = CONFIG.replace(
    "dns:\n  mode: hosts\n",
    "dns:\n  mode: forward\n  resolvers: [10.0.10.53, 10.0.20.53]\n",
)


class Reloads:
    """The resolver's reload, recorded; ``fail`` makes the next one fail."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail = False

    def reload(self, backend: str, override: tuple[str, ...]) -> None:
        if self.fail:
            self.fail = False
            raise ApplyError(f"{backend}: reload failed")
        self.calls.append(backend)


@pytest.fixture
def reloads(monkeypatch: pytest.MonkeyPatch) -> Reloads:
    fake = Reloads()
    monkeypatch.setattr(reload, "reload", fake.reload)
    monkeypatch.setattr(reload, "check", lambda backend, override: None)
    return fake


def _setup(tmp_path: Path, connection, host: Host, backend: str, text=FORWARD):
    paths = config_mod.Paths(
        hosts=tmp_path / "hosts",
        state_dir=tmp_path / "state",
        dnsmasq_conf=tmp_path / "dnsmasq.d" / "dvsum-vpn.conf",
        unbound_conf=tmp_path / "unbound.conf.d" / "dvsum-vpn.conf",
    )
    for path in (paths.dnsmasq_conf, paths.unbound_conf):
        path.parent.mkdir()
    paths.hosts.write_text("127.0.0.1 localhost\n")
    config = dataclasses.replace(
        config_mod.parse(text, tmp_path / "c.yaml"), paths=paths
    )
    plan = build(config, connection, dataclasses.replace(host, dns_backend=backend))
    return Inputs(config, connection), plan


@pytest.mark.parametrize("backend", ["dnsmasq", "unbound"])
def test_written_once_then_nothing_to_do(tmp_path, connection, host, reloads, backend):
    inputs, plan = _setup(tmp_path, connection, host, backend)
    path = forward.conf_path(inputs.config.paths, backend)
    assert up.step_dns(plan, inputs) is True
    assert path.read_text() == block.wanted(None, forward.body(plan.dns))
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    inode = path.stat().st_ino
    assert up.step_dns(plan, inputs) is False
    assert path.stat().st_ino == inode
    assert reloads.calls == [backend]


def test_a_removed_file_comes_back_with_a_reload(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "dnsmasq")
    up.step_dns(plan, inputs)
    inputs.config.paths.dnsmasq_conf.unlink()
    assert up.step_dns(plan, inputs) is True
    assert reloads.calls == ["dnsmasq", "dnsmasq"]


def test_a_refused_reload_puts_the_old_text_back(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "unbound")
    reloads.fail = True
    with pytest.raises(ApplyError, match="reload failed"):
        up.step_dns(plan, inputs)
    assert not inputs.config.paths.unbound_conf.exists()
    assert up.step_dns(plan, inputs) is True  # tried again, not forgotten
    assert reloads.calls == ["unbound"]


def test_someone_elses_file_keeps_every_byte(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "dnsmasq")
    path = inputs.config.paths.dnsmasq_conf
    original = "# the operator's\ninterface=lan0\nno-resolv"
    path.write_text(original)
    path.chmod(0o640)
    assert up.step_dns(plan, inputs) is True
    text = path.read_text()
    assert text.startswith(original + "\n" + block.BEGIN)
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    record = undo.record(plan, inputs.config)
    assert record == state.DnsApplied("dnsmasq", str(path), "dvsum.ai")
    assert undo.remove(record) is True
    assert path.read_bytes() == original.encode()
    assert undo.remove(record) is False
    assert reloads.calls == ["dnsmasq", "dnsmasq"]


def test_down_removes_our_own_file(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "unbound")
    up.step_dns(plan, inputs)
    record = undo.record(plan, inputs.config)
    assert record is not None
    assert undo.remove(record) is True
    assert list(inputs.config.paths.unbound_conf.parent.iterdir()) == []


def test_no_directory_for_the_resolver_changes_nothing(
    tmp_path, connection, host, reloads
):
    inputs, plan = _setup(tmp_path, connection, host, "dnsmasq")
    inputs.config.paths.dnsmasq_conf.parent.rmdir()
    with pytest.raises(ApplyError, match="no such directory"):
        up.step_dns(plan, inputs)
    assert reloads.calls == []


def test_no_resolver_found_says_what_to_do(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, None)
    with pytest.raises(TransientError, match=r"set dns\.backend"):
        up.step_dns(plan, inputs)
    assert report.format_line(report.describe(plan, inputs.config)) == (
        "dns: forward dvsum.ai -> 10.0.10.53, 10.0.20.53 via no resolver; "
        "no resolver found on this machine (dns.backend auto)"
    )


def test_forward_mode_takes_out_a_hosts_block(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "dnsmasq")
    path = inputs.config.paths.hosts
    original = path.read_text()
    path.write_text(hosts.merge(original, (("apis.dvsum.ai", host.source_address),)))
    assert up.step_dns(plan, inputs) is True
    assert path.read_text() == original


def test_hosts_mode_is_what_step_hosts_did(tmp_path, connection, host):
    inputs, plan = _setup(tmp_path, connection, host, None, text=CONFIG)
    assert up.step_hosts is up.step_dns
    assert up.step_dns(plan, inputs) is True
    assert up.step_dns(plan, inputs) is False
    assert hosts.present(inputs.config.paths.hosts.read_text()) == plan.hosts
    assert report.describe(plan, inputs.config)["present"] is True


def test_status_line_for_a_file_backend(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "unbound")
    path = inputs.config.paths.unbound_conf
    assert report.format_line(report.describe(plan, inputs.config)) == (
        f"dns: forward dvsum.ai -> 10.0.10.53, 10.0.20.53 via unbound ({path}): MISSING"
    )
    up.step_dns(plan, inputs)
    assert report.describe(plan, inputs.config)["present"] is True


def test_state_keeps_the_forward_for_down(tmp_path):
    applied = state.Applied(
        route="10.0.0.0/16",
        dns=state.DnsApplied("dnsmasq", "/etc/dnsmasq.d/dvsum-vpn.conf", "dvsum.ai",
                             ("systemctl", "restart", "dnsmasq")),
    )  # fmt: skip
    state.write(tmp_path, applied)
    assert state.read(tmp_path) == applied


class FakeResolved:
    """systemd-resolved's links, as resolved_link reads and changes them."""

    def __init__(self, links: dict[str, resolved.LinkDns]) -> None:
        self.links = links
        self.log: list[str] = []

    def read(self, link: str) -> resolved.LinkDns | None:
        return self.links.get(link)

    def apply(self, link: str, want: resolved.LinkDns) -> None:
        self.links[link] = dataclasses.replace(want, dns_scope=True)
        self.log.append(f"apply {link}")

    def revert(self, link: str) -> None:
        self.links[link] = resolved.LinkDns((), (), True)
        self.log.append(f"revert {link}")

    def flush(self) -> None:
        self.log.append("flush")


def test_resolved_follows_the_active_link(tmp_path, connection, host, monkeypatch):
    route_host = dataclasses.replace(host, data_plane="route", libipsec=False)
    inputs, plan = _setup(tmp_path, connection, route_host, "systemd-resolved")
    empty = resolved.LinkDns((), (), True)
    fake = FakeResolved({"dvsum1": empty, "dvsum2": empty})
    for name in ("read", "apply", "revert", "flush"):
        monkeypatch.setattr(resolved_link, name, getattr(fake, name))
    assert plan.route.device == "dvsum1"
    assert up.step_dns(plan, inputs) is True
    assert up.step_dns(plan, inputs) is False
    moved = plan.via(2)
    assert up.step_dns(moved, inputs) is True
    assert fake.log == [
        "apply dvsum1", "flush", "apply dvsum2", "revert dvsum1", "flush",
    ]  # fmt: skip
    fake.log.clear()
    record = undo.record(moved, inputs.config)
    assert record == state.DnsApplied("systemd-resolved", "dvsum2", "dvsum.ai")
    assert undo.remove(record) is True
    assert fake.log == ["revert dvsum2", "flush"]
    assert undo.remove(record) is False


def test_resolved_without_the_link_waits(tmp_path, connection, host, monkeypatch):
    route_host = dataclasses.replace(host, data_plane="route", libipsec=False)
    inputs, plan = _setup(tmp_path, connection, route_host, "systemd-resolved")
    monkeypatch.setattr(resolved_link, "read", lambda link: None)
    monkeypatch.setattr(forward, "_seen", {})
    with pytest.raises(TransientError, match="no link dvsum1"):
        up.step_dns(plan, inputs)


def test_resolved_in_policy_mode_is_refused_before_anything_changes(
    tmp_path, connection, host
):
    with pytest.raises(InputError) as caught:
        _setup(tmp_path, connection, host, "systemd-resolved")
    ((field, message),) = caught.value.problems
    assert field == "dns.backend"
    assert message.endswith("use dnsmasq or unbound, or route mode")


def _record_up(plan, inputs) -> None:
    state.write(
        inputs.config.paths.state_dir,
        state.Applied(dns=undo.record(plan, inputs.config)),
    )


def test_a_forward_no_longer_wanted_is_taken_out(tmp_path, connection, host, reloads):
    inputs, plan = _setup(tmp_path, connection, host, "dnsmasq")
    up.step_dns(plan, inputs)
    _record_up(plan, inputs)
    dropin = inputs.config.paths.dnsmasq_conf
    # The operator points paths.dnsmasq_conf at dnsmasq.conf itself.
    main = dropin.parent / "dnsmasq.conf"
    main.write_text("no-resolv\n")
    paths = dataclasses.replace(inputs.config.paths, dnsmasq_conf=main)
    moved = Inputs(dataclasses.replace(inputs.config, paths=paths), connection)
    assert up.step_dns(plan, moved) is True
    assert not dropin.exists()
    assert main.read_text().startswith("no-resolv\n" + block.BEGIN)
    _record_up(plan, moved)
    assert up.step_dns(plan, moved) is False
    # Then back to hosts mode: the block goes, the hosts block comes.
    hosts_mode = Inputs(
        dataclasses.replace(moved.config, dns=config_mod.parse(
            CONFIG, tmp_path / "c.yaml").dns),
        connection,
    )  # fmt: skip
    hosts_plan = dataclasses.replace(
        plan, dns=dataclasses.replace(plan.dns, mode="hosts")
    )
    assert up.step_dns(hosts_plan, hosts_mode) is True
    assert main.read_text() == "no-resolv\n"
    assert reloads.calls == ["dnsmasq"] * 4


def test_resolved_is_asked_again_only_when_its_file_moved(
    tmp_path, connection, host, monkeypatch
):
    route_host = dataclasses.replace(host, data_plane="route", libipsec=False)
    inputs, plan = _setup(tmp_path, connection, route_host, "systemd-resolved")
    fake = FakeResolved({"dvsum1": resolved.LinkDns((), (), True)})
    reads = []
    marks = {"dvsum1": (5, 1, 40, 1000)}

    def read(link: str) -> resolved.LinkDns | None:
        reads.append(link)
        return fake.read(link)

    monkeypatch.setattr(resolved_link, "read", read)
    for name in ("apply", "revert", "flush"):
        monkeypatch.setattr(resolved_link, name, getattr(fake, name))
    monkeypatch.setattr(resolved_link, "stamp", marks.get)
    monkeypatch.setattr(forward, "_seen", {})
    assert up.step_dns(plan, inputs) is True
    count = len(reads)
    for _ in range(5):
        assert up.step_dns(plan, inputs) is False
    assert len(reads) == count  # one stat per call, no D-Bus
    marks["dvsum1"] = (5, 2, 0, 2000)  # someone ran `resolvectl revert`
    fake.revert("dvsum1")
    assert up.step_dns(plan, inputs) is True
    monkeypatch.setattr(forward, "REVERIFY", -1.0)
    assert up.step_dns(plan, inputs) is False
    assert len(reads) > count + 2


def test_render_root_shows_the_forward(tmp_path, connection, host):
    inputs, plan = _setup(tmp_path, connection, host, "unbound")
    path = inputs.config.paths.unbound_conf
    assert render_root.contents(plan, inputs)[path] == (
        block.wanted(None, forward.body(plan.dns)),
        0o644,
    )
    route_host = dataclasses.replace(host, data_plane="route", libipsec=False)
    (tmp_path / "r").mkdir()
    inputs, plan = _setup(tmp_path / "r", connection, route_host, "systemd-resolved")
    assert render_root.intents(plan).endswith(
        "# systemd-resolved (D-Bus)\n"
        "resolvectl dns dvsum1 10.0.10.53 10.0.20.53\n"
        "resolvectl domain dvsum1 ~dvsum.ai\n"
        "resolvectl default-route dvsum1 false\n"
    )
