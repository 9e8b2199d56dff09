"""The reconciler's decisions about SAs, against a charon that only
records what it is asked: duplicate IKE_SAs swept, selectors re-created
make-before-break with the active tunnel first."""

from __future__ import annotations

from typing import Any

from agent.plan import build
from agent.supervise.reconcile import Reconciler


class FakeCharon:
    """list-sas answers from ``sas``; changes are recorded in ``calls``."""

    def __init__(self, sas: list[tuple[str, dict[str, Any]]]) -> None:
        self._sas = sas
        self.calls: list[tuple[str, Any]] = []

    def sas(self, ike: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        return self._sas

    def terminate_ike_id(self, ike_id: int, timeout_ms: int = 3000) -> None:
        self.calls.append(("terminate-ike", ike_id))

    def terminate_child(self, child_id: int, timeout_ms: int = 3000) -> None:
        self.calls.append(("terminate-child", child_id))

    def initiate(self, child: str, ike: str, timeout_ms: int = -1) -> list[str]:
        self.calls.append(("initiate", child))
        return []


def ike(uid: int, state: str, children: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"uniqueid": str(uid), "state": state, "child-sas": children or {}}


def child(name: str, uid: int, local: str, remote: str) -> dict[str, Any]:
    return {
        f"{name}-{uid}": {
            "name": name, "uniqueid": str(uid), "state": "INSTALLED",
            "local-ts": [local], "remote-ts": [remote],
        }
    }  # fmt: skip


def up(number: int, uid: int, child_uid: int, ts: tuple[str, str]) -> Any:
    """An established IKE_SA of tunnel ``number`` with one installed child."""
    name = f"dvsum-tunnel{number}"
    return (name, ike(uid, "ESTABLISHED", child(f"{name}-child", child_uid, *ts)))


def reconciler(charon: FakeCharon) -> Reconciler:
    rec = Reconciler.__new__(Reconciler)
    rec.charon = charon  # type: ignore[assignment]
    return rec


NARROW = ("192.168.10.0/24", "10.0.0.0/16")
ANY = ("0.0.0.0/0", "0.0.0.0/0")


def test_a_second_ike_sa_towards_one_endpoint_is_swept(config, connection, host):
    plan = build(config, connection, host)
    charon = FakeCharon([
        up(1, 7, 9, NARROW),
        up(1, 4, 5, NARROW),
        up(2, 2, 3, ANY),
    ])  # fmt: skip
    changed = reconciler(charon).sweep_duplicates(plan)
    assert charon.calls == [("terminate-ike", 4)]
    assert changed == ["dvsum-tunnel1: duplicate IKE_SA #4"]


def test_a_connecting_retry_next_to_a_dead_sa_is_left_alone(config, connection, host):
    plan = build(config, connection, host)
    charon = FakeCharon([
        ("dvsum-tunnel1", ike(8, "CONNECTING")),
        ("dvsum-tunnel1", ike(6, "DELETING")),
    ])  # fmt: skip
    reconciler(charon).sweep_duplicates(plan)
    assert charon.calls == [("terminate-ike", 6)]


def test_switching_the_active_tunnel_recreates_children_make_before_break(
    config, connection, host
):
    plan = build(config, connection, host, prefer=2)  # tunnel 2 narrow now
    charon = FakeCharon([
        up(1, 1, 11, NARROW),
        up(2, 2, 12, ANY),
    ])  # fmt: skip
    assert plan.data_plane == "policy"
    changed = reconciler(charon).align_children(plan)
    assert charon.calls == [
        ("initiate", "dvsum-tunnel2-child"),  # the new active first, new SA first
        ("terminate-child", 12),
        ("initiate", "dvsum-tunnel1-child"),
        ("terminate-child", 11),
    ]
    assert changed == [
        "dvsum-tunnel2-child re-created as primary",
        "dvsum-tunnel1-child re-created as standby",
    ]


def test_children_with_the_wanted_selectors_are_left_alone(config, connection, host):
    plan = build(config, connection, host)
    charon = FakeCharon([
        up(1, 1, 11, NARROW),
        up(2, 2, 12, ANY),
    ])  # fmt: skip
    assert reconciler(charon).align_children(plan) == []
    assert charon.calls == []
