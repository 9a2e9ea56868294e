"""Incidents: when and where they arise, and whether a resident reports them.

Per community and category, a day's incidents are Poisson (hour-of-day and weekday
profile, rates scaled by households, surges), at a point uniform in the community's box
that the real routing index (`gridcore.routing.RoutingIndex.locate_many`) locates to its
grid. A resident reports an incident after a delay; otherwise it stays latent until a
patrol finds it (`workers.Workers.patrol_found`).

Hot path: a day's draws and locations are vectorised (numpy, one call per day); the
per-incident loop only schedules. What protects it: the golden runs
(`tests/sim/test_golden.py`) hold every draw (the streams are consumed in a fixed order).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import numpy as np

from gridcore.sim.model._engine import Resume
from gridcore.sim.model.bridge import A
from gridcore.sim.model.state import EMERGENCY, SEVERITY_RANK, VERIFY, Incident
from gridcore.sim.model.workers import Workers

__all__ = ["Arrivals"]


class Arrivals(Workers):
    """A street's incidents and residents' reports."""

    __slots__ = ()

    def arrivals(self) -> Generator[None, Any, None]:
        """The driven process of the street's incidents, day by day."""
        resume: Resume = yield
        if self.s.incidents.trace:
            yield from self.traced_arrivals(resume)
        env, s, rng = self.env, self.s, self.arr_rng
        inc_cfg = s.incidents
        hours = np.asarray(inc_cfg.hour_profile)
        hours = hours / hours.sum()
        hour_cdf = hours.cumsum()
        hour_cdf /= hour_cdf[-1]
        week = np.asarray(inc_cfg.weekday_profile)
        week = week / week.mean()
        base = inc_cfg.per_1000_households_per_day * self.comm_hh / 1000.0
        n_days = math.ceil(self.end / 1440.0)
        codes = [k.code for k in self.cats]
        timeout, end, warm, ctr, grids = env.timeout, self.end, self.warm, self.ctr, self.grids
        severity = [k.severity for k in self.cats]
        res_share, delay_t, report_cb = self.cat_resident, self.delay_t, self._report_cb
        for day in range(n_days):
            day_start = day * 1440.0
            d = s.run.start + timedelta(days=day)
            factor = np.ones(len(self.cats))
            since = (day_start - self.warm) / 1440.0
            for sg in s.surges:
                if sg.start_day <= since < sg.start_day + sg.days:
                    hit = np.array([any(c.startswith(p) for p in sg.categories) for c in codes])
                    factor = np.where(hit, factor * sg.factor, factor)
            lam = np.outer(base * week[d.weekday()], self.cat_p * factor)
            counts = rng.poisson(lam)
            comm, cat = np.nonzero(counts)
            reps = counts[comm, cat]
            comm = np.repeat(comm, reps)
            cat = np.repeat(cat, reps)
            n = comm.size
            if n == 0:
                env.timeout(max(0.0, day_start + 1440.0 - env.now)).callbacks.append(resume)
                yield
                continue
            # `rng.choice(24, n, p=hours)` without its per-call checks of `p`: the same
            # draws from the same stream (choice inverts this cdf on `random(n)`)
            hour = hour_cdf.searchsorted(rng.random(n), side="right")
            at = day_start + (hour + rng.random(n)) * 60.0
            ux, uy = rng.random(n), rng.random(n)
            resident = rng.random(n)
            order = np.argsort(at, kind="stable")
            # a point uniform in the community's box, located by the real routing index
            xs = self.box_x0[comm] + ux * self.box_w[comm]
            ys = self.box_y0[comm] + uy * self.box_h[comm]
            ok = np.isfinite(xs)
            pos = np.full(n, -1, np.int64)
            if ok.any():
                pos[ok] = self.index.locate_many(xs[ok], ys[ok])
            lut = self.grid_lut[np.where(pos >= 0, pos, 0)]
            gi_all = np.where((pos >= 0) & (lut >= 0), lut, self.comm_first[comm])
            for t, gi, k, res in zip(
                at[order].tolist(),
                gi_all[order].tolist(),
                cat[order].tolist(),
                resident[order].tolist(),
                strict=True,
            ):
                if t >= end:
                    break
                if t > env.now:
                    timeout(t - env.now).callbacks.append(resume)
                    yield
                measured = t >= warm
                inc = Incident(gi, k, severity[k], measured)
                ctr["incidents"] += 1
                if measured:
                    ctr["incidents_measured"] += 1
                if res < res_share[k]:
                    ctr["pending_report"] += 1
                    timeout(delay_t(), inc).callbacks.append(report_cb)
                else:
                    inc.latent_since = t
                    grids[gi].latent.append(inc)
                    ctr["latent_open"] += 1
            if env.now < day_start + 1440.0:
                timeout(day_start + 1440.0 - env.now).callbacks.append(resume)
                yield
        yield  # parked for good (a driven process never returns)

    def traced_arrivals(self, resume: Resume) -> Generator[None, Any, None]:
        """The street's incidents from `incidents.trace`: each reported exactly at its
        instant, in its grid (or where the routing index locates its position), as its
        category, on its channel; then verified, dispatched and handled as configured. A
        `patrol` one is a latent incident a patrol found: reported by the grid's responsible
        worker and verified on the spot (`patrol_found`'s path; the model's own patrols run
        as configured); any other channel's is a report by the public, verified by the
        grid's workers (`resident_report`'s). Incidents of other
        streets' grids are left to them (and ones on grids the city does not have, to
        none); this street's outside the horizon or of a category the taxonomy does not
        know are counted (`trace_skipped`)."""
        from gridcore.sim.trace import incident_trace

        env, ctr = self.env, self.ctr
        trace = incident_trace(str(self.s.incidents.trace))
        local = {g.code: g.index for g in self.grids}
        cat_of: dict[str, int] = {str(k.code): i for i, k in enumerate(self.cats)}
        at = (trace.at_us - self.t0_us) / 60e6
        grid = np.array([local.get(c, -1) if c else -2 for c in trace.grid], np.int64)
        by_pos = np.flatnonzero(grid == -2)
        if by_pos.size:
            pos = self.index.locate_many(trace.x[by_pos], trace.y[by_pos])
            grid[by_pos] = np.where(pos >= 0, self.grid_lut[np.where(pos >= 0, pos, 0)], -1)
        mine = [
            (t, gi, k, ch)
            for t, gi, k, ch in zip(
                at.tolist(), grid.tolist(), trace.category, trace.channel, strict=True
            )
            if gi >= 0
        ]
        rows = [
            (t, gi, cat_of[k], ch) for t, gi, k, ch in mine if 0.0 <= t < self.end and k in cat_of
        ]
        if len(rows) < len(mine):
            ctr["trace_skipped"] = ctr.get("trace_skipped", 0.0) + len(mine) - len(rows)
        rows.sort()
        severity = [k.severity for k in self.cats]
        for t, gi, k, channel in rows:
            if t > env.now:
                env.timeout(t - env.now).callbacks.append(resume)
                yield
            measured = t >= self.warm
            inc = Incident(gi, k, severity[k], measured)
            ctr["incidents"] += 1
            if measured:
                ctr["incidents_measured"] += 1
            if channel == "patrol":
                ctr["latent_found"] += 1
                self.g_found[gi] += 1
                ctr["severity_found_sum"] += inc.severity
                who = self.actor(self.responsible(inc), A.GRID_WORKER)
                self.open_case(inc, who, "patrol")
                self.act(inc, A.VERIFY, who)
                self.to_desk(inc)
            else:
                ctr["pending_report"] += 1
                self.resident_report(inc, channel)
        while True:
            yield  # parked for good (a driven process never returns)

    def _report_cb(self, ev: Any) -> None:
        """A report delay ended (the event's value is the incident)."""
        self.resident_report(ev.value)

    def resident_report(self, inc: Incident, channel: str = "resident") -> None:
        """A resident reports the incident (on `channel`: a traced log's own): a case,
        verified by its grid's workers."""
        self.ctr["pending_report"] -= 1
        if self.env.now >= self.end:
            self.ctr["pending_report"] += 1  # reported after the horizon: still pending
            return
        self.ctr["reported"] += 1
        self.open_case(inc, self.resident, channel)
        g = self.grids[inc.grid]
        g.queue.push(self.env.now, -SEVERITY_RANK * inc.severity - VERIFY, (VERIFY, inc))
        inc.q = g.queue
        self.wake(g, emergency=inc.severity >= EMERGENCY)

    # -- grid workers -------------------------------------------------------------------
