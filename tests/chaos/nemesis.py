"""Run a fault schedule against the stack while the kiosk load runs and the monitor
samples, then heal, let the system converge within the stated bound, and check the
invariants."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.chaos.invariants import Report, check
from tests.chaos.load import KioskLoad
from tests.chaos.monitor import Monitor
from tests.chaos.schedule import PROXY_KINDS, Fault, Schedule
from tests.chaos.stack import Stack, make_consultant

CONVERGENCE_BOUND_SECONDS = 60.0  # /shared/domain/sync-faults.md, invariant 6
SETTLE_SECONDS = 20.0  # for the kiosk's unanswered requests once the faults stop


@dataclass
class Fired:
    fault: Fault
    started: float
    ended: float = 0.0
    note: str = ""

    def describe(self) -> str:
        note = f"  [{self.note}]" if self.note else ""
        return (f"{self.fault.describe()}  (ran {self.started:.1f}–{self.ended:.1f}s)"
                f"{note}")


class Nemesis:
    def __init__(self, stack: Stack, schedule: Schedule) -> None:
        self.stack = stack
        self.schedule = schedule
        self.fired: list[Fired] = []
        self._t0 = 0.0

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def run(self, t0: float) -> None:
        self._t0 = t0
        for fault in self.schedule.faults:
            if (wait := fault.at - self._now()) > 0:
                time.sleep(wait)
            fired = Fired(fault, self._now())
            self.fired.append(fired)
            fired.note = self._inflict(fault)
            fired.ended = self._now()

    def _hold(self, fault: Fault, started: float) -> None:
        if (left := started + fault.duration - self._now()) > 0:
            time.sleep(left)

    def _inflict(self, fault: Fault) -> str:
        """Put the fault in force for its duration, then heal it; returns a note."""
        s, p, started = self.stack, fault.params, self._now()
        if fault.kind in PROXY_KINDS:
            return self._on_link(fault, started)
        match fault.kind:
            case "kill_edge" | "kill_consumer" | "consumer_outage":
                kill, start = ((s.kill_edge, s.start_edge) if fault.kind == "kill_edge"
                               else (s.consumer.kill, s.start_consumer))
                kill()
                self._hold(fault, started)
                start()
                return ""
            case "kill_broker" | "stop_broker" | "wipe_broker":
                s.kill_broker(signal.SIGTERM if fault.kind == "stop_broker" else signal.SIGKILL)
                if fault.kind == "wipe_broker":
                    s.wipe_broker_store(p["mode"])
                wipes = s.supervisor_wipes
                self._hold(fault, started)
                s.start_broker()
                return "refused its store: restarted clean" if s.supervisor_wipes > wipes else ""
            case "crash_edge" | "crash_consumer":
                return self._crash(fault, started)
            case "edge_clock":
                s.kill_edge()
                s.start_edge(clock=p["offset"])
                self._hold(fault, started)
                s.kill_edge()
                s.start_edge()
                return ""
        raise AssertionError(f"no way to inflict {fault.kind}")

    def _on_link(self, fault: Fault, started: float) -> str:
        proxy, p = self.stack.proxy, fault.params
        which, note = p.get("direction", "both"), ""
        match fault.kind:
            case "reset":
                return f"{proxy.reset()} connection(s) reset"
            case "swallow_publish":
                note = f"armed on {proxy.swallow(which, p['count'])} connection(s)"
            case "drop_publish" | "drop_puback":
                proxy.drop(which, fault.kind.removeprefix("drop_").upper(), p["probability"])
            case "drop_ping":
                if which in ("up", "both"):
                    proxy.drop("up", "PINGREQ")
                if which in ("down", "both"):
                    proxy.drop("down", "PINGRESP")
            case "duplicate_publish" | "duplicate_puback":
                packet_type = fault.kind.removeprefix("duplicate_").upper()
                proxy.duplicate(which, packet_type, p["probability"])
            case "reorder_publish":
                proxy.reorder(which, "PUBLISH", p["probability"])
            case "delay" | "slow_link":
                proxy.delay(which, p["seconds"], p["jitter"], p.get("rate"))
            case "fragment":
                proxy.fragment(which)
            case "blackhole":
                proxy.blackhole(which)
            case "reset_mid_frame":
                proxy.reset_mid_frame(which)
            case _:
                raise AssertionError(f"no way to inflict {fault.kind}")
        self._hold(fault, started)
        proxy.clear()
        return note

    def _crash(self, fault: Fault, started: float) -> str:
        """Restart the process armed at a crash point; once it has killed itself there
        (or the fault's time is up) it runs again unarmed."""
        s, point = self.stack, fault.params["point"]
        kill: Callable[[], object]
        restart: Callable[[], object]
        if fault.kind == "crash_edge":
            s.kill_edge()
            alive = s.start_edge(crash_at=point)

            def dead() -> bool:
                return not alive or not s.edge_running

            kill, restart = s.kill_edge, s.start_edge
        else:
            s.consumer.kill()
            s.start_consumer(crash_at=point)

            def dead() -> bool:
                return not s.consumer.running

            kill, restart = s.consumer.kill, s.start_consumer
        while not dead() and self._now() < started + fault.duration:
            time.sleep(0.05)
        hit = dead()
        kill()
        restart()
        return f"killed itself at {point} after {self._now() - started:.1f}s" if hit \
            else f"{point} not reached in {fault.duration}s"


@dataclass
class ChaosResult:
    report: Report
    load: KioskLoad
    nemesis: Nemesis
    convergence_seconds: float | None
    run_seconds: float


def run_chaos(stack: Stack, schedule: Schedule, *, rate: float, min_events: int = 0
              ) -> ChaosResult:
    """The whole run: the stack started with a consultant of the site; load + schedule;
    then (no more faults) the load's unanswered requests, convergence within the bound,
    and the invariants. The report (without the history) is printed."""
    consultant_id = make_consultant(stack.engine, stack.site.site_id)
    stack.start(consultant_id)
    load = KioskLoad(stack.edge, stack.site, consultant_id, rate=rate,
                     clock=lambda: stack.edge_clock)
    started = time.monotonic()
    monitor = Monitor(stack, started)
    nemesis = Nemesis(stack, schedule)
    monitor.start()
    load.start()
    try:
        nemesis.run(started)
        while load.events < min_events:
            time.sleep(0.5)
    finally:
        stack.heal()
        healed = time.monotonic()
        load.settle(SETTLE_SECONDS)
        load.stop()
    left = CONVERGENCE_BOUND_SECONDS - (time.monotonic() - healed)
    converged_after = stack.wait_converged(max(left, 0.0))
    convergence = None if converged_after is None else time.monotonic() - healed
    monitor.stop()
    report = check(stack, schedule=schedule, history=load.history, fired=nemesis.fired,
                   monitor=monitor, convergence_seconds=convergence,
                   bound=CONVERGENCE_BOUND_SECONDS)
    print(report.describe(history=False))
    return ChaosResult(report, load, nemesis, convergence, time.monotonic() - started)
