"""The desk and the levels: dispatch, relay, misroutes, staff pools and checks.

The dispatch desk (supervision centre, 12345 hotline) works round the clock. It
registers a verified case and sends it to its owner: a grid case to the grid (signed
for at once on call or in an emergency, else at the next on-call period), a higher
level's case by relay (grid → community → street → department, one forward delay a
level) or, flattened, straight to the owner. A share of dispatches is misrouted: the
wrong owner asks for a return (回退) and the desk re-dispatches. Community, street and
department staff are multi-server pools (callbacks, no processes). Every handled case
is checked; a failed check sends it back (返工) ahead of new cases.

Every pending callback (a relay hop, a routing delay, a return) carries the incident's
generation `inc.gen` and does nothing once an escalation moved the case on.

Hot path: `dispatch`, `send`, `to_pool`/`pool_start` and `to_check` (each once or twice
a case). What protects them: the golden runs (`tests/sim/test_golden.py`) and
`tests/sim/test_core_driven.py` (every case is driven by the core's `apply`).
"""

from __future__ import annotations

from typing import Any

from gridcore.cases import Actor, level_rank
from gridcore.ids import PersonId
from gridcore.sim.model.bridge import A
from gridcore.sim.model.state import (
    EMERGENCY,
    HANDLE,
    LEVELS,
    REWORK_RANK,
    SEVERITY_RANK,
    Incident,
    Pool,
)
from gridcore.sim.model.workers import Workers

__all__ = ["Desk"]


class Desk(Workers):
    """A street's dispatch desk, relay, staff pools and checks."""

    __slots__ = ()

    def to_desk(self, inc: Incident) -> None:
        """The verified case reaches the desk after a dispatch delay."""
        # the dispatch desk (supervision centre, 12345 hotline) works round the clock
        self.env.timeout(self.dispatch_t()).callbacks.append(lambda _e: self.dispatch(inc))

    def owner_of(self, inc: Incident, level: str) -> str:
        """The owner unit of the case at `level` (a grid team, community, street, department)."""
        g = self.grids[inc.grid]
        if level == "grid":
            return g.team
        if level == "community":
            return self.comm_owner[g.community]
        if level == "street":
            return self.street_owner
        # the department the routing index's ownership rules name for (grid, category)
        owner = self.owner_tab.owner_at(g.pos, self.cat_pos[inc.cat])
        return owner if owner is not None else f"dept:{self.cats[inc.cat].parent}"

    def dispatch(self, inc: Incident) -> None:
        """Register the case and send it towards the level that resolves its category."""
        self.act(inc, A.REGISTER, self.desk)
        target = self.cat_level[inc.cat]
        if target == "grid":
            self.send(inc, "grid", self.to_grid)
            return
        if self.s.routing.mode == "flattened":
            # the desk routes straight to the owner, round the clock like the dispatch itself
            d = self.env.now + self.direct_t()
            gen = inc.gen

            def direct(_e: Any) -> None:
                if inc.gen == gen:  # else an escalation took the case meanwhile
                    self.send(inc, target, lambda i: self.to_pool(i, target))

            self.env.timeout(d - self.env.now).callbacks.append(direct)
            return
        # relay: grid -> community -> street -> department, one forward delay a level
        self.send(inc, "community", lambda i: self.relay(i, "community", target))

    def send(self, inc: Incident, level: str, arrive: Any) -> None:
        """The desk dispatches to the owner at `level`; a misroute (chance
        `routing.misroute_probability`) goes to a wrong owner of that level (`misrouted`).
        `arrive(inc)` follows."""
        right = self.owner_of(inc, level)
        wrong = None
        if self.misroute_p > 0.0 and self.u_mis() < self.misroute_p:
            wrong = self.wrong_owner(inc, level)
        self.act(inc, A.DISPATCH, self.desk, "", {"to": wrong or right, "level": level})
        if wrong is None:
            arrive(inc)
        else:
            self.misrouted(inc, level, arrive, right, wrong)

    def misrouted(self, inc: Incident, level: str, arrive: Any, right: str, wrong: str) -> None:
        """The wrong owner asks for a return (回退) after `routing.return_delay`; the desk
        approves it after `times.dispatch` and re-dispatches to the right owner."""
        if inc.measured:
            self.ctr["misroutes"] += 1
        gen = inc.gen
        when = self.after_work(self.env.now, self.return_t(), inc.cat)

        def request(_e: Any) -> None:
            if inc.gen != gen:
                return
            self.act(
                inc,
                A.REQUEST_RETURN,
                self.owner_actor(inc, wrong),
                f"not ours: {self.cats[inc.cat].code} belongs to {right} (回退)",
            )
            self.env.timeout(self.dispatch_t()).callbacks.append(approve)

        def approve(_e: Any) -> None:
            if inc.gen != gen:
                return
            self.act(inc, A.APPROVE_RETURN, self.desk, "", {"to": right, "level": level})
            if inc.measured:
                self.ctr["returns"] += 1
            arrive(inc)

        self.env.timeout(when - self.env.now).callbacks.append(request)

    def wrong_owner(self, inc: Incident, level: str) -> str | None:
        """Another owner of the same level in this street (None when there is none)."""
        g = self.grids[inc.grid]
        if level == "grid":
            pool = [j for j in self.comm_grids[g.community] if j != g.index]
            if not pool:
                pool = [j for j in range(len(self.grids)) if j != g.index]
            return self.grids[pool[int(self.u_mis() * len(pool))]].team if pool else None
        if level == "community":
            others = [o for k, o in enumerate(self.comm_owner) if k != g.community]
        elif level == "department":
            right = self.owner_of(inc, level)
            others = [d for d in self.departments if d != right]
        else:
            return None  # one street office per street
        return others[int(self.u_mis() * len(others))] if others else None

    def owner_actor(self, inc: Incident, owner: str) -> Actor:
        """Someone acting for the owner unit `owner` (a grid worker, or a level handler)."""
        if owner.startswith("team:"):
            code = owner[5:]
            for g in self.grids:
                if g.code == code:
                    return self.actor(g.people[0], A.GRID_WORKER, owner)
        pool = self.pools[owner]
        return self.actor(PersonId(pool.staff[0]), A.HANDLER, owner)

    def relay(self, inc: Incident, level: str, target: str) -> None:
        """Forward the case from `level` one level up per forward delay until `target`."""
        if level_rank(level) >= level_rank(target):
            self.to_pool(inc, level)
            return
        nxt = LEVELS[LEVELS.index(level) + 1]
        d = self.after_work(self.env.now, self.forward_t(), inc.cat)
        gen = inc.gen

        def forward(_e: Any) -> None:
            if inc.gen != gen:  # an escalation took the case meanwhile
                return
            self.act(
                inc,
                A.ESCALATE,
                self.system,
                f"beyond {level} authority",
                {"to": self.owner_of(inc, nxt), "level": nxt},
            )
            self.relay(inc, nxt, target)

        self.env.timeout(d - self.env.now).callbacks.append(forward)

    # -- escalation sweeps --------------------------------------------------------------

    def to_grid(self, inc: Incident) -> None:
        """The case reaches its grid: signed for now (on call, an emergency) or later."""
        assert inc.case is not None
        if inc.case.state is not A.DISPATCHED:  # reworked: back to its handler's queue
            g = self.grids[inc.grid]
            g.queue.push(self.env.now, -SEVERITY_RANK * inc.severity - HANDLE, (HANDLE, inc))
            inc.q = g.queue
            self.wake(g, emergency=inc.severity >= EMERGENCY)
        elif self.on_call or inc.severity >= EMERGENCY:
            self.sign_grid(inc)
        else:
            self.unsigned.append(inc)

    def to_pool(self, inc: Incident, level: str) -> None:
        """The case joins the queue of its owner's staff pool at `level`."""
        pool = self.pools[self.owner_of(inc, level)]
        pool.queue.push(self.env.now, -inc.severity, inc)
        inc.q = pool.queue
        if pool.free:
            self.pool_start(pool)

    def pool_start(self, pool: Pool) -> None:
        """A free member of `pool` takes its first case (signs for it if new) and handles it."""
        inc: Incident = pool.queue.pop(self.env.now)
        inc.q = None
        inc.busy = True
        person = pool.free.pop()
        assert inc.case is not None
        actor = self.actor(PersonId(person), A.HANDLER)
        if inc.case.state is A.DISPATCHED:
            unit = inc.case.owner or ""
            self.act(inc, A.SIGN_FOR, self.actor(actor.id, A.HANDLER, unit))
            self.act(inc, A.START, actor)
        else:
            actor = self.actor(inc.case.handler or actor.id, A.HANDLER)
        end = self.after_work(self.env.now, self.handle_t[inc.cat](), inc.cat)

        def done(_e: Any) -> None:
            inc.busy = False
            self.act(inc, A.HANDLE, actor)
            pool.free.append(person)
            if pool.queue.heap:
                self.pool_start(pool)
            self.to_check(inc, pool)

        self.env.timeout(end - self.env.now).callbacks.append(done)

    def to_check(self, inc: Incident, pool: Pool | None) -> None:
        """The handled case is checked: closed, or sent back to its handler (返工)."""
        d = self.after_work(self.env.now, self.check_t(), inc.cat)

        def check(_e: Any) -> None:
            if self.u_hnd() < self.s.times.rework_probability:
                self.ctr["reworks"] += 1
                self.act(inc, A.REWORK, self.checker, "check failed (返工)")
                if pool is None:
                    self.to_grid(inc)
                else:
                    pool.queue.push(self.env.now, -inc.severity - REWORK_RANK, inc)
                    inc.q = pool.queue
                    if pool.free:
                        self.pool_start(pool)
                return
            self.act(inc, A.CLOSE, self.checker)
            self.ctr["closed"] += 1
            self.finish(inc)

        self.env.timeout(d - self.env.now).callbacks.append(check)
