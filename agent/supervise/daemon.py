"""The loop of ``dvsum-vpn run``: observe, decide, act, tell systemd.

One thread decides.  Listener threads (``events``) and the prober
(``probe``) only post to its queue.  Each turn of the loop:

1. drains the queue: VICI events and netlink changes mark work to do,
   probe results go to the tunnel they were meant for;
2. reads the SAs from charon (at most every ``POLL`` seconds, and at once
   after a VICI event) and steps each tunnel's state machine;
3. chooses the active tunnel (``choice``) and moves traffic if it changed;
4. acts: tears down a tunnel declared dead, re-initiates dead ones with
   backoff, repairs what someone removed, resyncs everything on a timer,
   after SIGHUP and when charon came back from a restart;
5. pings the watchdog and updates ``STATUS=``.

Stopping (SIGTERM) leaves the tunnels, the route and the DNS edit in place:
charon keeps both tunnels up and restarts them on its own (DPD and close
actions), so traffic keeps flowing; only the failover decisions stop until
the agent is back.  ``dvsum-vpn down`` is what removes everything.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from agent import inputs as inputs_mod
from agent.apply import files
from agent.check.lookup import route_get
from agent.config import Config
from agent.errors import DvsumError, InputError, TransientError
from agent.inputs import Inputs
from agent.plan import Plan
from agent.supervise import presence
from agent.supervise import probe as probe_mod
from agent.supervise.backoff import Backoff
from agent.supervise.choice import Chooser
from agent.supervise.events import Event, NetlinkListener, ViciListener
from agent.supervise.machine import Sa, State, Transition, TunnelMachine
from agent.supervise.notify import Notifier
from agent.supervise.presence import STATUS_FILE
from agent.supervise.reconcile import Observed, Reconciler

LOG = logging.getLogger("agent.run")

POLL = 0.25  # seconds between SA reads when nothing happens
# Seconds between checks of what sends no event when removed (the nftables
# table); routes, links and the hosts file are repaired as soon as they move.
REPAIR = 0.5
RETRY = 2.0  # seconds between attempts while charon is unreachable
STOP_GRACE = 5.0  # seconds a stop request may wait for the current step


@dataclass
class Work:
    """What the next turn must do, set by events."""

    poll: bool = True
    repair: bool = True
    resync: bool = True
    reload: bool = False
    stop: bool = False
    probes: list[probe_mod.Result] = field(default_factory=list)


class Daemon:
    def __init__(self, config_path: Any) -> None:
        self.config_path = config_path
        self.inputs: Inputs = inputs_mod.load(config_path)
        self.queue: queue.Queue[Event] = queue.Queue()
        self.notifier = Notifier()
        self.reconciler = Reconciler(self.inputs)
        self.machines: dict[int, TunnelMachine] = {}
        self.backoffs: dict[int, Backoff] = {}
        self.observed: dict[int, Observed] = {}
        self.chooser: Chooser | None = None
        self.prober: probe_mod.Prober | None = None
        self.work = Work()
        self.last_poll = 0.0
        self.last_resync = 0.0
        self.last_repair = 0.0
        self.damped = False
        self.switched_at = 0.0
        self.bypass_said = False
        self._status_text = ""
        self._stop_timer: threading.Timer | None = None
        self.charon_up = True
        self.ready = False

    # -- set-up ------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self.inputs.config

    def _machines(self) -> None:
        sup = self.config.supervise
        for tunnel in self.reconciler.plan(1).tunnels:
            machine = self.machines.get(tunnel.number)
            if machine is None:
                self.machines[tunnel.number] = TunnelMachine(
                    tunnel.number, sup.fall, sup.rise
                )
                self.backoffs[tunnel.number] = Backoff()
            else:
                machine.fall, machine.rise = sup.fall, sup.rise

    def _prober(self) -> None:
        if self.prober is not None:
            self.prober.stop()
            self.prober = None
        sup = self.config.supervise
        if not sup.probe_enabled:
            LOG.info("probes: off (supervise.probe: none); SA state alone decides")
            return
        address = sup.probe_address
        if address is None and self.config.dns.names:
            address = dict(self.config.dns.names).get("apis.dvsum.ai")
            address = address or self.config.dns.names[0][1]
        if address is None:
            LOG.warning("probes: off: no supervise.probe and no dns.names to probe")
            return
        plan = self.reconciler.plan(1)
        target = probe_mod.Target(address, sup.probe_port, plan.route.source)
        self.prober = probe_mod.Prober(
            target, sup.probe_interval, sup.probe_timeout,
            lambda result: self.queue.put(Event("probe", "result", data=result)),
        )  # fmt: skip
        self.prober.start()
        LOG.info(
            "probes: TCP %s:%d from %s every %g s (timeout %g s, fall %d, rise %d)",
            address, sup.probe_port, plan.route.source, sup.probe_interval,
            sup.probe_timeout, sup.fall, sup.rise,
        )  # fmt: skip

    def _signals(self) -> None:
        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.queue.put(Event("signal", "hup"))

        def on_term(signum: int, frame: FrameType | None) -> None:
            self.queue.put(Event("signal", "term"))
            if self._stop_timer is None:
                self._stop_timer = threading.Timer(STOP_GRACE, self._stuck)
                self._stop_timer.daemon = True
                self._stop_timer.start()

        def on_other(signum: int, frame: FrameType | None) -> None:
            LOG.info("signal %d ignored (SIGHUP reloads, SIGTERM stops)", signum)

        signal.signal(signal.SIGUSR1, on_other)
        signal.signal(signal.SIGUSR2, on_other)
        signal.signal(signal.SIGHUP, on_hup)
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)

    def _stuck(self) -> None:
        """The loop did not see the stop request in time: a call it made
        hangs.  Say where, for the bug report, and exit anyway: stopping
        must never depend on charon or the kernel answering."""
        LOG.error(
            "stop: the loop did not finish its step within %g s; exiting "
            "(the stacks of every thread follow)", STOP_GRACE,
            extra={"EVENT": "error"},
        )  # fmt: skip
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(1)

    # -- the loop --------------------------------------------------------------

    def run(self) -> int:
        lock = presence.claim(self.config.paths.run_dir)
        try:
            return self._run()
        finally:
            lock.close()

    def _run(self) -> int:
        self._signals()
        self._machines()
        preferred = self.reconciler.preferred()
        plan = self.reconciler.plan(preferred)
        LOG.info(
            "starting: data_plane=%s, primary tunnel %d (%s), failback %s",
            plan.data_plane, preferred, plan.active.tunnel.aws_outside_address,
            self.config.supervise.failback,
        )  # fmt: skip
        carrier = self._carrier(plan)
        active = carrier or preferred
        if carrier is not None:
            LOG.info("tunnel %d carries traffic now; keeping it", carrier)
        sup = self.config.supervise
        self.chooser = Chooser(preferred, active, sup.failback, sup.hold_down)
        ViciListener(self.config.vici_uri, self.queue).start()
        NetlinkListener(self.queue).start()
        self._prober()
        try:
            while not self.work.stop:
                self._turn()
        finally:
            self.notifier.stopping()
            if self.prober is not None:
                self.prober.stop()
            self.reconciler.close()
            # No view of a daemon that no longer runs: status says so.
            (self.config.paths.run_dir / STATUS_FILE).unlink(missing_ok=True)
        LOG.info(
            "stopped: the tunnels, the route and the DNS edit stay as they are "
            "(`dvsum-vpn down` removes them)"
        )
        return 0

    def _carrier(self, plan: Plan) -> int | None:
        try:
            return self.reconciler.carrier(plan)
        except DvsumError as err:
            LOG.warning("cannot tell which tunnel carries traffic: %s", err)
            return None

    def _turn(self) -> None:
        self._drain(self._wait())
        now = time.monotonic()
        if self.work.reload:
            self._reload()
        try:
            self._act(now)
        except TransientError as err:
            self._charon_trouble(err)
        except DvsumError as err:
            LOG.error("%s", err, extra={"EVENT": "error"})
            time.sleep(min(RETRY, self.notifier.wakeup))
        self.notifier.ping(time.monotonic())
        if self.ready:
            self.notifier.status(self._status_line())
        if self.ready or not self.charon_up:
            # Written with charon away too: the tunnels read as down then.
            assert self.chooser is not None
            self._write_status(self.reconciler.plan(self.chooser.active))

    def _wait(self) -> list[Event]:
        timeout = min(POLL, self.notifier.wakeup)
        events = []
        try:
            events.append(self.queue.get(timeout=timeout))
            while True:
                events.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        return events

    def _drain(self, events: list[Event]) -> None:
        for event in events:
            if event.source == "probe":
                self.work.probes.append(event.data)
            elif event.source == "vici":
                self.work.poll = True
                LOG.debug("VICI %s %s", event.kind, event.name)
            elif event.source == "netlink":
                self.work.repair = True
            elif event.source == "charon":
                self._charon_event(event.kind)
            elif event.kind == "hup":
                self.work.reload = True
            elif event.kind == "term":
                self.work.stop = True

    def _charon_event(self, kind: str) -> None:
        if kind == "lost" and self.charon_up:
            self.charon_up = False
            self.reconciler.drop_vici()
            LOG.warning(
                "charon: gone (VICI connection lost); waiting for it to return",
                extra={"EVENT": "charon-lost"},
            )
            now = time.monotonic()
            for machine in self.machines.values():
                transition = machine.step(Sa.NONE, None, False, now)
                if transition is not None:
                    self._log_transition(transition, [])
            self._aim_prober()
        elif kind == "back":
            self.charon_up = True
            LOG.info(
                "charon: back; pushing connections and secrets, re-initiating",
                extra={"EVENT": "charon-back"},
            )
            self.reconciler.drop_vici()
            self.work.resync = True
            for backoff in self.backoffs.values():
                backoff.reset()

    def _charon_trouble(self, err: TransientError) -> None:
        self.reconciler.drop_vici()
        if self.charon_up:
            LOG.warning("%s", err, extra={"EVENT": "charon-error"})
        self.work.resync = True
        time.sleep(min(RETRY, self.notifier.wakeup))

    # -- decide and act ----------------------------------------------------------

    def _act(self, now: float) -> None:
        assert self.chooser is not None
        if not self.charon_up:
            return
        plan = self.reconciler.plan(self.chooser.active)
        if self.work.resync or now - self.last_resync >= self.config.supervise.resync:
            first = not self.ready
            level = logging.INFO if first else logging.WARNING
            for change in self.reconciler.resync(plan):
                LOG.log(level, "resync: %s", change, extra={"EVENT": "repair"})
            self.work.resync = self.work.repair = False
            self.last_resync = now
            if first:
                self.ready = True
                self._observe(plan, now)
                self.notifier.ready(self._status_line())
                LOG.info("ready: %s", self._status_line(), extra={"EVENT": "ready"})
        due = now - self.last_repair >= REPAIR
        if self.work.repair or due or self.reconciler.hosts_moved():
            self.last_repair = now
            for change in self.reconciler.repair(plan):
                LOG.warning(
                    "repair: %s was changed or removed; restored", change,
                    extra={"EVENT": "repair"},
                )  # fmt: skip
            self.work.repair = False
        if self.work.poll or self.work.probes or now - self.last_poll >= POLL:
            self._observe(plan, now)
        self._follow_preference(now)
        decision = self.chooser.choose(self.machines, now)
        if self.chooser.damped and not self.damped:
            LOG.warning(
                "probes fail through both tunnels in turn: the probe target is "
                "more likely down than the tunnels; traffic stays on tunnel %d",
                self.chooser.active, extra={"EVENT": "damped"},
            )  # fmt: skip
        self.damped = self.chooser.damped
        if decision is not None:
            self._switch(decision.active, decision.reason, now)
            plan = self.reconciler.plan(self.chooser.active)
        self._tend(plan, now)

    def _follow_preference(self, now: float) -> None:
        """``dvsum-vpn prefer`` changed which tunnel should carry traffic:
        it becomes the primary, and traffic moves now if it can."""
        assert self.chooser is not None
        preferred = self.reconciler.preferred()
        if preferred == self.chooser.primary:
            return
        LOG.info(
            "prefer: tunnel %d is the one to carry traffic now", preferred,
            extra={"TUNNEL": preferred, "EVENT": "prefer"},
        )  # fmt: skip
        self.chooser.primary = preferred
        if self.chooser.active != preferred and self.machines[preferred].usable:
            self.chooser.active = preferred
            self._switch(preferred, "the operator's preference (dvsum-vpn prefer)", now)

    def _observe(self, plan: Plan, now: float) -> None:
        assert self.chooser is not None
        self.observed = self.reconciler.observe(plan)
        self.last_poll = now
        self.work.poll = False
        results: dict[int, list[probe_mod.Result]] = {}
        for result in self.work.probes:
            results.setdefault(result.number, []).append(result)
        self.work.probes = []
        # A probe started before the last switch went through the old path;
        # one started before its tunnel's last transition (before its SA was
        # installed, say) says nothing about it now.
        for number in list(results):
            since = max(self.switched_at, self.machines[number].since)
            results[number] = [r for r in results[number] if r.started >= since]
        if any(r.ok is False for rs in results.values() for r in rs) and self._bypassed(
            plan
        ):
            # The probes do not cross the tunnel: they judge nothing.
            results = {}
        probed = self.prober is not None
        for number, machine in self.machines.items():
            seen = self.observed[number]
            carries = number == self.chooser.active and probed
            sent = [r.ok for r in results.get(number, []) if r.ok is not None]
            samples: list[bool | None] = list(sent) or [None]
            for sample in samples:
                transition = machine.step(seen.sa, sample, carries, now)
                if transition is not None:
                    self._log_transition(transition, results.get(number, []))
        self._aim_prober()

    def _bypassed(self, plan: Plan) -> bool:
        """Whether the route to the probe target leaves by another device
        than the tunnel's (a more specific route someone added, say); said
        once in the log until it is right again."""
        assert self.prober is not None
        (lookup,) = route_get([self.prober.target.address])
        bypassed = lookup.device != plan.route.device
        if bypassed and not self.bypass_said:
            LOG.warning(
                "probes: the route to %s leaves by %s, not the tunnel (%s): failed "
                "probes are ignored until it is fixed; `dvsum-vpn check` explains",
                self.prober.target.address, lookup.device or lookup.error,
                plan.route.device, extra={"EVENT": "bypass"},
            )  # fmt: skip
        self.bypass_said = bypassed
        return bypassed

    def _aim_prober(self) -> None:
        """Probe the active tunnel while its CHILD_SA is installed (a failing
        one too: an answered probe brings it back)."""
        assert self.chooser is not None
        if self.prober is not None:
            active = self.chooser.active
            installed = (State.UP, State.HEALTHY, State.FAILING)
            probe = self.machines[active].state in installed
            self.prober.tunnel = active if probe else None

    def _log_transition(
        self, transition: Transition, results: list[probe_mod.Result]
    ) -> None:
        detail = f" (last probe: {results[-1].detail})" if results else ""
        level = (
            logging.WARNING
            if transition.new in (State.FAILING, State.DOWN)
            else logging.INFO
        )
        LOG.log(
            level,
            "tunnel %d: %s -> %s: %s%s",
            transition.number, transition.old.value, transition.new.value,
            transition.reason, detail,
            extra={
                "TUNNEL": transition.number, "EVENT": "transition",
                "STATE_FROM": transition.old.value, "STATE_TO": transition.new.value,
            },
        )  # fmt: skip
        if transition.new is State.UP:
            self.backoffs[transition.number].reset()

    def _switch(self, active: int, reason: str, now: float) -> None:
        assert self.chooser is not None
        old = 2 if active == 1 else 1
        LOG.warning(
            "switch: traffic moves from tunnel %d to tunnel %d: %s",
            old, active, reason,
            extra={"TUNNEL": active, "EVENT": "switch", "FROM_TUNNEL": old},
        )  # fmt: skip
        self.switched_at = now
        self._aim_prober()
        plan = self.reconciler.plan(active)
        self._tear_down_failing(plan, now)
        for change in self.reconciler.resync(plan):
            LOG.info("switch: %s", change, extra={"TUNNEL": active, "EVENT": "switch"})
        self.last_resync = now

    def _tend(self, plan: Plan, now: float) -> None:
        """Tear down what failed, start what is down, align selectors."""
        self._tear_down_failing(plan, now)
        for tunnel in plan.tunnels:
            machine = self.machines[tunnel.number]
            backoff = self.backoffs[tunnel.number]
            if machine.state is not State.DOWN or not backoff.due(now):
                continue
            delay = backoff.tried(now)
            LOG.info(
                "tunnel %d: initiating to %s (attempt %d; next in %.0f s if it fails)",
                tunnel.number, tunnel.tunnel.aws_outside_address, backoff.attempts,
                delay, extra={"TUNNEL": tunnel.number, "EVENT": "initiate"},
            )  # fmt: skip
            self.reconciler.initiate(tunnel)
            self.work.poll = True
        if any(m.state is State.UP for m in self.machines.values()):
            self.reconciler.align_children(plan)

    def _tear_down_failing(self, plan: Plan, now: float) -> None:
        assert self.chooser is not None
        for tunnel in plan.tunnels:
            machine = self.machines[tunnel.number]
            if machine.state is not State.FAILING:
                continue
            ike = self.observed.get(tunnel.number)
            if ike is None or ike.ike is None:
                continue
            if tunnel.number == self.chooser.active:
                # Still carrying: nothing better to move to.  Killing it would
                # only make things worse; keep probing.
                continue
            LOG.warning(
                "tunnel %d: declared dead; dropping IKE_SA #%d without waiting "
                "for the peer, then re-initiating",
                tunnel.number, ike.ike.uniqueid,
                extra={"TUNNEL": tunnel.number, "EVENT": "teardown"},
            )  # fmt: skip
            self.reconciler.terminate(tunnel, ike.ike)
            self.observed[tunnel.number] = Observed(Sa.NONE, None, 0, 0)
            self.backoffs[tunnel.number].reset()
            self.work.poll = True

    # -- reporting -----------------------------------------------------------------

    def _status_line(self) -> str:
        assert self.chooser is not None
        active = self.chooser.active
        other = 2 if active == 1 else 1
        mine, theirs = self.machines[active], self.machines[other]
        role = "primary" if active == self.chooser.primary else "standby"
        return (
            f"traffic via tunnel {active} ({role}, {mine.state.value}); "
            f"tunnel {other} {theirs.state.value}"
        )

    def _write_status(self, plan: Plan) -> None:
        assert self.chooser is not None
        wall = time.time() - time.monotonic()
        data = {
            "active": self.chooser.active,
            "pid": os.getpid(),
            "primary": self.chooser.primary,
            "data_plane": plan.data_plane,
            "status": self._status_line(),
            "tunnels": {
                str(n): {"state": m.state.value, "since": round(wall + m.since)}
                for n, m in sorted(self.machines.items())
            },
        }
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        if text != self._status_text:
            path = self.config.paths.run_dir / STATUS_FILE
            files.write_atomic(path, text, 0o644, quiet=True)
            self._status_text = text

    def _reload(self) -> None:
        self.work.reload = False
        self.notifier.reloading()
        try:
            fresh = inputs_mod.load(self.config_path)
            self.reconciler.reload(fresh)
        except DvsumError as err:
            lines = err.lines() if isinstance(err, InputError) else [str(err)]
            LOG.error(
                "reload: keeping the running configuration: %s", "; ".join(lines),
                extra={"EVENT": "reload"},
            )  # fmt: skip
            self.notifier.reloaded()
            return
        self.inputs = fresh
        self._machines()
        assert self.chooser is not None
        sup = fresh.config.supervise
        self.chooser.primary = self.reconciler.preferred()
        self.chooser.failback, self.chooser.hold_down = sup.failback, sup.hold_down
        self._prober()
        self.work.resync = True
        LOG.info(
            "reload: %s re-read; applying what changed",
            self.config_path,
            extra={"EVENT": "reload"},
        )
        self.notifier.reloaded()
