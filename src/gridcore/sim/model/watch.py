"""The escalation watch: the scenario's rules (`gridcore.escalation`) over the open cases.

Every `escalation.check_minutes` a sweep applies `gridcore.escalation.due_escalations`
to the cases whose deadline light may have turned (a heap keyed by the earliest instant
it can turn: a wall-time lower bound, since working time never runs faster than the
wall clock; the exact instants are computed only when that bound is reached) and to
those a non-time trigger may hold for. An escalated case leaves its queue for its new
owner's; a case being worked on keeps its handler and is asked again when the work ends.

Hot path: `sweep` (every few minutes of simulated time) and `arm` (once per stage
change, lazily at the next sweep). What protects them: the golden runs
(`tests/sim/test_golden.py`) and `tests/sim/test_escalation_in_sim.py` (the sim's
escalations equal the core's rules applied to the same logs).
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from typing import Any

from gridcore.cases import STATE_STAGE, Action, Case, level_rank
from gridcore.categories import Stage
from gridcore.clock import YELLOW_AT
from gridcore.escalation import (
    Escalation,
    EscalationRule,
    Response,
    climb_target,
    due_escalations,
    ladder_epoch,
)
from gridcore.sim.model._engine import Resume
from gridcore.sim.model.bridge import A
from gridcore.sim.model.desk import Desk
from gridcore.sim.model.state import TIMED, Incident

__all__ = ["Watch"]

_HANDLE_STAGE = Stage.HANDLE
_CLIMBS = frozenset({Response.ESCALATE_PARENT, Response.ESCALATE_DEPARTMENT})
_ESC_COUNTER = {
    Action.ESCALATE: "esc_escalations",
    Action.SUPERVISE: "esc_supervisions",
    Action.WARN: "esc_warnings",
}
"""The counter each rule-made action adds to."""


class Watch(Desk):
    """A street's escalation sweeps."""

    __slots__ = ()

    def arm_pending(self) -> None:
        """Arm the stage changes since the last sweep whose case is still in that stage
        (the others would be skipped when popped: they are dropped unpushed instead)."""
        pending, self.to_arm = self.to_arm, []
        for seq, inc, case, at in pending:
            c = inc.case
            if c is not None and c.stage_seq == case.stage_seq:
                self.arm(seq, inc, case, at)

    def arm(self, seq: int, inc: Incident, case: Case, now: float) -> None:
        """Watch the case's new stage: push the earliest instant its light can turn yellow
        (a wall-time lower bound: working time never runs faster than the wall clock).
        `seq` orders equal instants as the stage changes happened."""
        stage = STATE_STAGE[case.state]
        if stage is None:
            return
        if stage is _HANDLE_STAGE:
            budget = case.assignment.due_budget
            if budget is None:
                return
            key = inc.due_at + YELLOW_AT * budget.total_seconds() / 60.0
        else:
            lim = self.limit_min[inc.cat].get(stage)
            if lim is None:
                return
            key = now + YELLOW_AT * lim
        heapq.heappush(self.esc_heap, (key, seq, inc, case.stage_seq, None))

    def light_turns(self, inc: Incident, case: Case) -> tuple[float, float] | None:
        """(yellow, red) instants in sim minutes of the case's current stage (working time)."""
        stage = STATE_STAGE[case.state]
        if stage is None:
            return None
        if stage is _HANDLE_STAGE:
            budget = case.assignment.due_budget
            if budget is None:
                return None
            start, lim = inc.due_at, budget.total_seconds() / 60.0
        else:
            got = self.limit_min[inc.cat].get(stage)
            if got is None:
                return None
            start, lim = inc.stage_at, got
        return (
            self.after_work(start, YELLOW_AT * lim, inc.cat),
            self.after_work(start, lim, inc.cat),
        )

    def sweeps(self) -> Generator[None, Any, None]:
        """Every `escalation.check_minutes`: the rules over the cases that may be due."""
        resume: Resume = yield
        env, every = self.env, self.s.escalation.check_minutes
        while True:
            env.timeout(every).callbacks.append(resume)
            yield
            self.sweep()

    def sweep(self) -> None:
        """Pop the cases whose light may have turned, add those a non-time trigger may
        hold for, and apply what `due_escalations` returns for them."""
        now = self.env.now
        heap = self.esc_heap
        if self.to_arm:
            self.arm_pending()
        if self.esc_waiting:
            self.wake_deferred(now)
        # case id -> (incident, light turns, phase): 0 no time rule can fire yet (non-time
        # triggers only), 1 yellow reached, 2 red reached (every rule)
        cand: dict[str, tuple[Incident, tuple[float, float] | None, int, int]] = {}
        while heap and heap[0][0] <= now:
            _, _, inc, sseq, turns = heapq.heappop(heap)
            c = inc.case
            if c is None or c.stage_seq != sseq:
                continue  # closed, or in another stage (armed again then)
            if turns is None:  # a lower bound: the exact instants now
                turns = self.light_turns(inc, c)
                if turns is None:
                    continue
                if turns[0] > now:
                    self.push(turns[0] + 0.01, inc, sseq, turns)
                    continue
            cand[c.id] = (inc, turns, 2 if now > turns[1] else 1, sseq)
        for inc in self.esc_dirty:
            c = inc.case
            if c is not None and c.id not in cand:
                cand[c.id] = (inc, None, 0, c.stage_seq)
        self.esc_dirty = []
        if not cand:
            return
        self.esc_cand = {cid: v[0] for cid, v in cand.items()}
        when = self.dt(now)
        deferred: set[str] = set()
        # Group the cases by the rules that can still fire for them: those of their phase,
        # minus time rules already fired in this stage (a rule fires once per case and
        # stage, and `due_escalations` computes the light before it looks): the same
        # escalations, fewer lights computed.
        groups: dict[tuple[EscalationRule, ...], list[Case]] = {}
        for inc, _, phase, _ in cand.values():
            c = inc.case
            assert c is not None
            rules = self.rules_by_phase[phase]
            stage = STATE_STAGE[c.state]
            fired = c.extra.fired
            if phase and fired and stage is not None:
                epoch = ladder_epoch(c, stage)
                memo = (phase, epoch, fired)
                left = self.rules_left.get(memo)
                if left is None:
                    left = self.rules_left[memo] = tuple(
                        r for r in rules if r.trigger not in TIMED or (r.name, epoch) not in fired
                    )
                rules = left
            if rules:
                groups.setdefault(rules, []).append(c)
        for rules, cases in groups.items():
            due = due_escalations(cases, when, rules, policy=self.policy, owner_for=self.owner_for)
            for e in due:
                inc = cand[e.case_id][0]
                if e.action is A.ESCALATE and inc.busy:
                    # being worked on right now: the handler keeps it; asked again next sweep
                    deferred.add(e.case_id)
                    continue
                self.apply_escalation(inc, e)
        self.esc_cand = {}
        if not self.watch_time:
            return
        # keep watching the cases still in the stage they were looked at in
        for cid, (inc, turns, _, sseq) in cand.items():
            c = inc.case
            if c is None or c.stage_seq != sseq or turns is None:
                # closed; escalated (armed at its new stage); or a non-time look only
                continue
            red = turns[1]
            if cid in deferred:
                # While it is being worked on the answer stays "deferred": wait for the
                # work to end instead of asking every sweep (it ends with a new stage).
                self.esc_waiting.append((inc, c.stage_seq, turns))
                continue
            if now <= red + 0.01:
                key = red + 0.01
            elif self.after_rules and self.waits_after(c):
                key = now  # a rule waits for one that just fired: look at the next sweep
            else:
                continue  # red seen: the stage's time rules have fired
            self.push(key, inc, c.stage_seq, turns)

    def waits_after(self, c: Case) -> bool:
        """Whether a time rule with `after` can fire for `c` at a later sweep in this stage
        (the rule it waits for has fired, it has not, and it has somewhere to climb)."""
        stage = STATE_STAGE[c.state]
        if stage is None:
            return False
        epoch = ladder_epoch(c, stage)
        fired = c.extra.fired
        for r in self.after_rules:
            if (r.name, epoch) in fired or (r.after, epoch) not in fired:
                continue
            if r.stages and stage not in r.stages:
                continue
            if r.response in _CLIMBS and climb_target(r, c) is None:
                continue
            return True
        return False

    def wake_deferred(self, now: float) -> None:
        """Deferred escalations whose case is no longer worked on, in the same stage: due
        again now (those in a new stage were armed for it; closed ones are gone)."""
        waiting, self.esc_waiting = self.esc_waiting, []
        for inc, sseq, turns in waiting:
            c = inc.case
            if c is None or c.stage_seq != sseq:
                continue
            if inc.busy:
                self.esc_waiting.append((inc, sseq, turns))
            else:
                self.push(now, inc, sseq, turns)

    def push(self, key: float, inc: Incident, sseq: int, turns: tuple[float, float] | None) -> None:
        """Watch `inc` again at `key` (sim minutes) while it is in stage `sseq`."""
        self.esc_seq += 1
        heapq.heappush(self.esc_heap, (key, self.esc_seq, inc, sseq, turns))

    def owner_for(self, case: Case, level: str) -> str:
        """`gridcore.escalation.OwnerFor`: the sim's real owner of the case at `level`."""
        return self.owner_of(self.esc_cand[case.id], level)

    def apply_escalation(self, inc: Incident, e: Escalation) -> None:
        """Apply a rule's action; an escalation moves the case to its new owner's queue."""
        c = inc.case
        assert c is not None
        if e.action is not A.ESCALATE:
            self.act(inc, e.action, self.system, e.reason, e.payload)
        else:
            # take it from wherever it waits: a queue, the unsigned list, a pending hop
            inc.gen += 1
            if inc.q is not None:
                inc.q.discard(self.env.now, inc)
                inc.q = None
            elif c.level == "grid" and c.state is A.DISPATCHED and inc in self.unsigned:
                self.unsigned.remove(inc)
            self.act(inc, e.action, self.system, e.reason, e.payload)
            level = str(e.payload["level"])
            target = self.cat_level[inc.cat]
            if self.s.routing.mode == "relay" and level_rank(level) < level_rank(target):
                self.relay(inc, level, target)
            else:
                self.to_pool(inc, level)
        if inc.measured:
            self.ctr[_ESC_COUNTER[e.action]] += 1
            self.rule_ctr[e.rule] += 1
