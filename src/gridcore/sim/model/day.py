"""The working day: working and on-call periods, patrols due, visit and inspection pools.

One driven process walks the days: at each mark it switches the street's working or
on-call state, makes a patrol due in every grid, and wakes as many idle workers as
there are tasks for them. On-call periods apply every day; working periods, patrols,
visits and inspections only on working days (the working calendar's holidays and
adjusted working days, 调休). Unsigned grid cases are signed for when on call begins.

Not a hot path (a few marks a day); `wake_all` wakes only as many workers as have work.
What protects it: the golden runs (`tests/sim/test_golden.py`).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from datetime import timedelta
from typing import Any

from gridcore.sim.model._engine import Resume
from gridcore.sim.model.state import Grid
from gridcore.sim.model.workers import Workers
from gridcore.sim.scenario import clock_minutes, clock_period

__all__ = ["Day"]

_MARK_ORDER = {"con": 0, "on": 1, "patrol": 2, "off": 3, "coff": 4}
"""At one instant: on call begins, work begins, a patrol is due, work ends, on call ends."""


def _union_minutes(intervals: Sequence[tuple[float, ...]]) -> float:
    """Minutes covered by the union of (start, end) intervals within a day."""
    total, reach = 0.0, -math.inf
    for a, b in sorted((iv[0], iv[1]) for iv in intervals):
        if b <= reach:
            continue
        total += b - max(a, reach)
        reach = b
    return total


class Day(Workers):
    """A street's working day."""

    __slots__ = ()

    def clock(self) -> Generator[None, Any, None]:
        """The driven process of the working day, day by day to the horizon."""
        resume: Resume = yield
        env, s = self.env, self.s
        duties = s.duties
        periods = [clock_period(p) for p in duties.working_periods]
        starts = [clock_minutes(x) for x in duties.patrol_starts]
        n_p = duties.patrols_per_day
        if n_p > len(starts):
            first, last = periods[0][0], periods[-1][1] - duties.patrol_minutes
            starts = [int(first + (last - first) * k / max(1, n_p - 1)) for k in range(n_p)]
        starts = sorted(starts[:n_p])
        calls = [clock_period(p) for p in duties.on_call_periods]
        day_work_avail = _union_minutes([*periods, *calls])
        day_call_avail = _union_minutes(calls)
        visit_day = [hh / duties.visit_cycle_days * duties.visit_minutes for hh in self.hh]
        insp_day = [
            n / duties.inspection_cycle_days * duties.inspection_minutes for n in self.components
        ]
        n_days = math.ceil(self.end / 1440.0)
        for day in range(n_days):
            day0 = day * 1440.0
            d = s.run.start + timedelta(days=day)
            measured = day0 >= self.warm
            working_day = self.working_cal.is_working_day(d)
            marks: list[tuple[float, str]] = []
            for a, b in calls:  # on call every day, working day or not
                marks += [(day0 + a, "con"), (day0 + b, "coff")]
            if working_day:
                for a, b in periods:
                    marks += [(day0 + a, "on"), (day0 + b, "off")]
                marks += [(day0 + t, "patrol") for t in starts]
                for g, v, ins in zip(self.grids, visit_day, insp_day, strict=True):
                    g.visit_pool += v
                    g.inspect_pool += ins
                if measured:
                    self.ctr["visit_due_min"] += sum(visit_day)
                    self.ctr["inspect_due_min"] += sum(insp_day)
            if measured:
                # available: the working periods (working days) and the on-call periods,
                # since grid workers take cases on call too
                avail = day_work_avail if working_day else day_call_avail
                for g in self.grids:
                    self.work_min[g.index] += g.workers * avail
            marks.sort(key=lambda m: (m[0], _MARK_ORDER[m[1]]))
            for t, what in marks:
                if t >= self.end:
                    break
                if t > env.now:
                    env.timeout(t - env.now).callbacks.append(resume)
                    yield
                if what == "con":
                    self.on_call = True
                    waiting, self.unsigned = self.unsigned, []
                    for inc in waiting:
                        self.sign_grid(inc)
                    for g in self.grids:
                        if g.idle and g.queue.heap:
                            self.wake_all(g)
                elif what == "coff":
                    self.on_call = False
                elif what == "on":
                    self.working = True
                    for g in self.grids:
                        if g.idle:
                            self.wake_all(g)
                elif what == "off":
                    self.working = False
                else:
                    for g in self.grids:
                        g.patrol_pending += 1
                        if g.idle:
                            self.wake_all(g)
                    if measured:
                        self.ctr["patrols_due"] += len(self.grids)
            if day0 + 1440.0 > env.now:
                env.timeout(min(day0 + 1440.0, self.end) - env.now).callbacks.append(resume)
                yield
            if measured:
                self.backlog.append((day - int(self.warm // 1440.0), self.open_cases))
            if env.now >= self.end:
                break
        yield  # parked for good (a driven process never returns)

    def wake_all(self, g: Grid) -> None:
        """Wake as many idle workers of `g` as there are tasks for them now."""
        idle = g.idle
        n = len(idle)
        work = len(g.queue.heap) if self.on_call else 0
        if work < n and self.working:
            block = self.block
            work += g.patrol_pending
            if work < n and g.visit_pool > 0:
                work += math.ceil(g.visit_pool / block)
            if work < n and g.inspect_pool > 0:
                work += math.ceil(g.inspect_pool / block)
        for _ in range(work if work < n else n):
            idle.pop().succeed()
