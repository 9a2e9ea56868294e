"""The simulation's one door into the core: every case action goes through `Bridge.act`.

`act` applies an action with `gridcore.cases.apply` at the simulated instant, keeps the
measured cases' events, and tells the escalation watch when a stage began or a
non-time trigger may hold. `open_case` reports a case (`gridcore.cases.report`);
`finish` folds a closed case's events into the metrics' columnar facts in chunks, so
memory holds the open cases and one row of facts per case, not the logs.

Hot path: `act` runs for every action of every case (8-10 a case), `dt` and
`after_work` about as often. `dt` caches the last instant (several actions share one);
`after_work` uses the calendar's integer-microsecond path. What protects them: the
golden runs (`tests/sim/test_golden.py`) and the core's own property tests of
`add_us` against the datetime path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gridcore._time import ONE_US
from gridcore.cases import Action, Actor, Case, DeskRole, State, apply
from gridcore.cases import report as case_report
from gridcore.errors import GridcoreError, SimulationError
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId
from gridcore.metrics import EventTable
from gridcore.sim.model.state import Incident, StreetState

__all__ = ["A", "Bridge"]

FLUSH_EVENTS = 4_000
"""Finished cases' events are folded into facts every this many events (about 1.6 MB of
event objects at most: the bound of a street's memory that does not depend on the horizon)."""


class A:
    """The `Action`, `DeskRole` and `State` members the model passes and compares, as plain
    class attributes (in Python 3.11 reading an Enum member is a descriptor call, ~0.2 µs,
    here per action)."""

    VERIFY = Action.VERIFY
    REGISTER = Action.REGISTER
    DISPATCH = Action.DISPATCH
    SIGN_FOR = Action.SIGN_FOR
    START = Action.START
    HANDLE = Action.HANDLE
    CLOSE = Action.CLOSE
    REWORK = Action.REWORK
    ESCALATE = Action.ESCALATE
    REQUEST_RETURN = Action.REQUEST_RETURN
    APPROVE_RETURN = Action.APPROVE_RETURN
    GRID_WORKER = DeskRole.GRID_WORKER
    HANDLER = DeskRole.HANDLER
    DISPATCHED = State.DISPATCHED
    SIGNED_FOR = State.SIGNED_FOR


class Bridge(StreetState):
    """A street's time and case bookkeeping over its state."""

    __slots__ = ()

    # -- time ---------------------------------------------------------------------------

    def dt(self, minutes: float) -> datetime:
        """The aware instant of simulated minute `minutes` (the last one is cached: several
        actions often happen at one instant, and building a datetime costs ~1 µs)."""
        if minutes == self._dt_key:
            return self._dt_val
        val = self.t0 + ONE_US * round(minutes * 60e6)  # faster than timedelta(...)
        self._dt_key = minutes
        self._dt_val = val
        return val

    def after_work(self, now: float, minutes: float, cat: int) -> float:
        """The instant (minutes) when `minutes` of working time have passed after `now`."""
        if self.cat_24x7[cat]:
            return now + minutes
        # the calendar's integer path (epoch microseconds): no datetime made, and minutes
        # since the start are exact to the microsecond (epoch seconds as floats are not)
        t0 = self.t0_us
        return (self.add_us(t0 + round(now * 60e6), round(minutes * 60e6)) - t0) / 60e6

    # -- case bookkeeping ---------------------------------------------------------------

    def act(
        self,
        inc: Incident,
        action: Action,
        actor: Actor,
        reason: str = "",
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Apply `action` to the incident's case now; note a new stage or a trigger."""
        old = inc.case
        assert old is not None
        m = self.env.now
        now = self._dt_val if m == self._dt_key else self.dt(m)
        try:
            case, ev, _ = apply(
                old, action, actor, now, reason, payload, policy=self.policy, notify=False
            )
        except GridcoreError as exc:
            raise SimulationError(f"{self.street} at {now.isoformat()}: {exc}") from exc
        inc.case = case
        log = inc.log
        if log is not None:
            log.append(ev)
        if self.esc_on:
            if case.stage_seq != old.stage_seq:
                if "due" in ev.payload:
                    inc.due_at = m
                self.stage_began(inc, case, m)
            if action in self.dirty_actions or (
                action is A.REGISTER and case.info.severity >= self.sev_min
            ):
                self.esc_dirty.append(inc)

    def finish(self, inc: Incident) -> None:
        """The case is closed: its events go to the facts (measured cases), it leaves."""
        assert inc.case is not None
        self.open_cases -= 1
        if inc.log is not None:
            del self.logs[inc.case.id]
            self.finished.extend(inc.log)
            if self.keep_events:
                self.kept.extend(inc.log)
            inc.log = None
            if len(self.finished) >= FLUSH_EVENTS:
                self.flush()
        inc.case = None

    def flush(self, as_of: datetime | None = None) -> None:
        """Fold the finished cases' events into a chunk of facts."""
        if self.finished:
            self.chunks.append(EventTable.from_events(self.finished).facts(as_of))
            self.finished = []

    def open_case(self, inc: Incident, actor: Actor, channel: str) -> None:
        """Report the incident's case now (`gridcore.cases.report`)."""
        g = self.grids[inc.grid]
        self.n_case += 1
        cid = CaseId(f"{self.street}-{self.n_case}")
        case, ev, _ = case_report(
            cid,
            actor,
            self.dt(self.env.now),
            grid=AreaCode(g.code),
            category=CategoryCode(self.cats[inc.cat].code),
            channel=channel,
            severity=inc.severity,
            policy=self.policy,
        )
        inc.case = case
        self.open_cases += 1
        if inc.measured:
            inc.log = self.logs[cid] = [ev]
        if self.esc_on:
            self.stage_began(inc, case, self.env.now)

    # -- actors -------------------------------------------------------------------------

    def actor(self, person: PersonId, role: DeskRole, unit: str = "") -> Actor:
        """One Actor value per (person, role, unit), built once."""
        key = (person, role, unit)
        a = self.actors.get(key)
        if a is None:
            a = self.actors[key] = Actor(person, role, unit)
        return a

    # -- the escalation watch's note of a stage change ----------------------------------

    def stage_began(self, inc: Incident, case: Case, m: float) -> None:
        """`case` entered a new stage at minute `m`: note when, and (if a time rule
        watches) queue it to be armed at the next sweep, in the order of the changes."""
        inc.stage_at = m
        if self.watch_time:
            self.esc_seq += 1
            self.to_arm.append((self.esc_seq, inc, case, m))
