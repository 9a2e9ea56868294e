"""Grid workers: each a driven process pulling the next task of its grid.

Between activities a worker takes a case by priority (on call, or an emergency first),
else in working periods a due patrol, a visit block, an inspection block, or waits to be
woken (no polling). The handler of record (who signed for a case) stays accountable
(首办负责); whichever teammate is free does the work under that name. An emergency
(severity `EMERGENCY`) interrupts a patrol (`_engine.interrupt`) and is taken off hours.

Hot path: `Workers.worker`'s loop (every task of every worker) — its locals are bound
once before the loop. What protects it: the golden runs (`tests/sim/test_golden.py`)
and `tests/sim/test_grid_model.py` (an emergency cuts a patrol short).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from gridcore.cases import Actor
from gridcore.ids import PersonId
from gridcore.sim.model._engine import INTERRUPTED, Resume, interrupt
from gridcore.sim.model.bridge import A, Bridge
from gridcore.sim.model.state import (
    EMERGENCY,
    EMERGENCY_FIRST,
    HANDLE,
    SEVERITY_RANK,
    VERIFY,
    Grid,
    Incident,
    Pool,
)

__all__ = ["Workers"]


class Workers(Bridge):
    """The grid workers of a street (and the grid's side of a case: sign for, verify)."""

    __slots__ = ()

    # provided by the desk (`desk.Desk`, built on the workers): a verified case goes to
    # the desk, a handled one to its check
    def to_desk(self, inc: Incident) -> None:
        """Send a verified case to the dispatch desk."""
        raise NotImplementedError

    def to_check(self, inc: Incident, pool: Pool | None) -> None:
        """Send a handled case to its check."""
        raise NotImplementedError

    def wake(self, g: Grid, emergency: bool = False) -> None:
        """A task arrived at `g`: wake an idle worker if one may take it now; an emergency
        with every worker patrolling cuts a patrol short."""
        if g.idle:
            if self.on_call or emergency:
                g.idle.pop().succeed()
        elif emergency and g.patrolling:
            self.ctr["emergency_interrupts"] += 1
            interrupt(self.env, g.patrolling.pop())

    def responsible(self, inc: Incident) -> PersonId:
        """The grid's direct responsible person for the case's duty now (the roster's answer
        through `ResponsibilityIndex.direct`), or the grid's first worker when vacant."""
        g = self.grids[inc.grid]
        ts = self.t0_ts + self.env.now * 60.0
        person, _ = self.staff.responsibility.direct(g.code, self.cat_duty[inc.cat], ts)
        return person if person is not None else g.people[0]

    def sign_grid(self, inc: Incident) -> None:
        """The responsible person signs for a grid case (签收: an acknowledgement in the app)."""
        g = self.grids[inc.grid]
        who = self.responsible(inc)
        self.act(inc, A.SIGN_FOR, self.actor(who, A.GRID_WORKER, g.team))
        g.queue.push(self.env.now, -SEVERITY_RANK * inc.severity - HANDLE, (HANDLE, inc))
        inc.q = g.queue
        self.wake(g, emergency=inc.severity >= EMERGENCY)

    def worker(self, g: Grid, person: PersonId) -> Generator[None, Any, None]:
        """One grid worker: between activities it takes the next task of its grid — a case
        by priority (on call, or an emergency), else in working periods a due patrol, a
        visit block, an inspection block — or waits to be woken (no polling)."""
        resume: Resume = yield
        env = self.env
        timeout = env.timeout
        new_event = env.event
        me = self.actor(person, A.GRID_WORKER)
        patrol_min = self.s.duties.patrol_minutes
        block = self.block
        i = g.index
        gq = g.queue
        heap = gq.heap  # the same list for the whole run (heapq works in place)
        idle = g.idle
        patrolling = g.patrolling
        t_patrol, t_visit, t_inspect, t_case = (
            self.t_patrol,
            self.t_visit,
            self.t_inspect,
            self.t_case,
        )
        verify_t, handle_t = self.verify_t, self.handle_t
        ctr, g_patrols = self.ctr, self.g_patrols
        while True:
            if heap and (self.on_call or heap[0][0] <= EMERGENCY_FIRST):
                start = env.now
                task, inc = gq.pop(start)
                inc.q = None
                if task == VERIFY:
                    timeout(verify_t()).callbacks.append(resume)
                    yield
                    t_case[i] += env.now - start
                    self.act(inc, A.VERIFY, me)
                    self.to_desk(inc)
                else:
                    # The handler of record (who signed for it) stays accountable (首办负责);
                    # whichever teammate is free does the work under that name.
                    case = inc.case
                    who = self.actor(case.handler or me.id, A.GRID_WORKER)
                    if case.state is A.SIGNED_FOR:
                        self.act(inc, A.START, who)
                    inc.busy = True
                    timeout(handle_t[inc.cat]()).callbacks.append(resume)
                    yield
                    inc.busy = False
                    t_case[i] += env.now - start
                    self.act(inc, A.HANDLE, who)
                    self.to_check(inc, None)
            elif not self.working:
                ev = new_event()
                ev.callbacks.append(resume)
                idle.append(ev)
                yield
            elif g.patrol_pending:
                g.patrol_pending -= 1
                start = env.now
                ev = timeout(patrol_min)
                ev.callbacks.append(resume)
                patrolling.append(ev)
                frac = 1.0
                if (yield) is INTERRUPTED:  # an emergency (the only interruption there is)
                    frac = (env.now - start) / patrol_min
                else:  # (an emergency takes the patrol out of the list)
                    patrolling.remove(ev)
                t_patrol[i] += env.now - start
                ctr["patrols_done"] += frac
                g_patrols[i] += 1
                if g.latent:
                    self.patrol_found(g, me, frac)
            elif g.visit_pool > 0:
                m = block if block < g.visit_pool else g.visit_pool
                g.visit_pool -= m
                timeout(m).callbacks.append(resume)
                yield
                t_visit[i] += m
            elif g.inspect_pool > 0:
                m = block if block < g.inspect_pool else g.inspect_pool
                g.inspect_pool -= m
                timeout(m).callbacks.append(resume)
                yield
                t_inspect[i] += m
            else:
                ev = new_event()
                ev.callbacks.append(resume)
                idle.append(ev)
                yield

    def patrol_found(self, g: Grid, me: Actor, frac: float) -> None:
        """A patrol (`frac` of it walked) passed the grid's latent incidents: each is found
        with the discovery probability, grown in severity for the time it went unseen."""
        p = self.s.incidents.discovery_probability * frac
        keep: list[Incident] = []
        now = self.env.now
        grow = self.s.incidents.severity_growth_days * 1440.0
        for inc in g.latent:
            if self.u_pat() < p:
                self.ctr["latent_open"] -= 1
                self.ctr["latent_found"] += 1
                self.g_found[g.index] += 1
                inc.severity = min(4, inc.severity + int((now - inc.latent_since) / grow))
                self.ctr["severity_found_sum"] += inc.severity
                self.open_case(inc, me, "patrol")
                self.act(inc, A.VERIFY, me)
                self.to_desk(inc)
            else:
                keep.append(inc)
        g.latent = keep
