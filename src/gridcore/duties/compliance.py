"""Compliance (履职考核): an activity log counted against duty plans, per grid and person.

Counting rules, fixed once:

- A patrol counts for the window in which it starts (local time of the duty's
  zone) if it lasts at least the duty's length; one per grid, day and window.
  Windows are due when they lie wholly inside the period.
- Visits and inspections are due per complete N-day window counted from the
  period start; activities in a trailing partial window are neither due nor
  counted. A household visited more often than asked in a window counts once
  per visit asked; components inspected beyond the grid's count do not count.

`compliance` reads the log once into flat arrays (`_Log`); the counting of each duty
(patrols, visits, inspections) is array work, for logs of ~100k activities.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

import attrs
import numpy as np
from numpy.typing import NDArray

from gridcore._rates import ratio
from gridcore.duties.plan import (
    DutyError,
    DutyPlan,
    InspectionDuty,
    PatrolDuty,
    VisitDuty,
    VisitRule,
)
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing import Roster


class ActivityKind(StrEnum):
    """What a logged activity was."""

    PATROL = "patrol"
    VISIT = "visit"
    INSPECTION = "inspection"


def _aware(inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise DutyError(
            f"activity {attribute.name} = {value!r}: expected a timezone-aware datetime"
        )


def _ints(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(int(h) for h in value)


@attrs.frozen
class Activity:
    """One logged piece of work: who, where, what, when, and households or components covered."""

    person: PersonId
    grid: AreaCode
    kind: ActivityKind = attrs.field(converter=ActivityKind)
    start: datetime = attrs.field(validator=_aware)
    end: datetime = attrs.field(validator=_aware)
    households: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    """Numbers of the households visited (visits)."""
    components: int = 0
    """Components inspected (inspections)."""

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise DutyError(
                f"activity of {self.person!r} in {self.grid!r}: end {self.end.isoformat()} "
                f"before start {self.start.isoformat()}"
            )
        if self.components < 0:
            raise DutyError(
                f"activity of {self.person!r} in {self.grid!r}: components = "
                f"{self.components}, expected >= 0"
            )


@attrs.frozen
class GridCompliance:
    """Due and done per duty for one grid, with what was missed."""

    grid: AreaCode
    patrols_due: int = 0
    patrols_done: int = 0
    visits_due: int = 0
    visits_done: int = 0
    special_visits_due: int = 0
    special_visits_done: int = 0
    inspections_due: int = 0
    inspections_done: int = 0
    missed_patrols: tuple[tuple[date, str], ...] = ()
    """(local day, window name) of every patrol due and not done."""
    unvisited: tuple[int, ...] = ()
    """Numbers of households visited fewer times than asked in some complete window."""

    @property
    def patrol_coverage(self) -> float:
        """Patrols done over due (1.0 when none are due)."""
        return ratio(self.patrols_done, self.patrols_due, empty=1.0)

    @property
    def visit_coverage(self) -> float:
        """Household visits done over due, special kinds included."""
        return ratio(
            self.visits_done + self.special_visits_done,
            self.visits_due + self.special_visits_due,
            empty=1.0,
        )

    @property
    def inspection_coverage(self) -> float:
        """Component inspections done over due."""
        return ratio(self.inspections_done, self.inspections_due, empty=1.0)

    @property
    def due(self) -> int:
        """Items due over all duties."""
        return self.patrols_due + self.visits_due + self.special_visits_due + self.inspections_due

    @property
    def done(self) -> int:
        """Items done over all duties."""
        return (
            self.patrols_done + self.visits_done + self.special_visits_done + self.inspections_done
        )

    @property
    def coverage(self) -> float:
        """All items done over all items due."""
        return ratio(self.done, self.due, empty=1.0)


@attrs.frozen
class PersonCompliance:
    """What one person did, and (with a roster) what their grids asked of them."""

    person: PersonId
    patrols_done: int = 0
    visits_done: int = 0
    inspections_done: int = 0
    grids: tuple[AreaCode, ...] = ()
    """Grids whose duties the person holds at the period start (with a roster)."""
    patrols_due: int = 0
    visits_due: int = 0
    inspections_due: int = 0

    @property
    def patrol_coverage(self) -> float:
        """Patrols done over due in the person's grids."""
        return ratio(self.patrols_done, self.patrols_due, empty=1.0)

    @property
    def visit_coverage(self) -> float:
        """Households visited over visits due in the person's grids."""
        return ratio(self.visits_done, self.visits_due, empty=1.0)

    @property
    def inspection_coverage(self) -> float:
        """Components inspected over due in the person's grids."""
        return ratio(self.inspections_done, self.inspections_due, empty=1.0)


@attrs.frozen
class ComplianceReport:
    """Compliance per grid and per person over [period_start, period_end)."""

    period_start: datetime
    period_end: datetime
    grids: Mapping[AreaCode, GridCompliance]
    people: Mapping[PersonId, PersonCompliance]
    unplanned: int = 0
    """Activities in grids with no plan, or outside the period: not counted."""

    def total(self) -> GridCompliance:
        """All grids summed into one (missed items left out)."""
        g = list(self.grids.values())
        return GridCompliance(
            AreaCode("*"),
            sum(x.patrols_due for x in g),
            sum(x.patrols_done for x in g),
            sum(x.visits_due for x in g),
            sum(x.visits_done for x in g),
            sum(x.special_visits_due for x in g),
            sum(x.special_visits_done for x in g),
            sum(x.inspections_due for x in g),
            sum(x.inspections_done for x in g),
        )

    @property
    def coverage(self) -> float:
        """All items done over all items due, over every grid."""
        return self.total().coverage


IntArray = NDArray[np.int64]


def _windows_due(duty: PatrolDuty, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """(local day ordinal, window index) of every window wholly inside [start, end)."""
    tz = ZoneInfo(duty.tz)
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    out: list[tuple[int, int]] = []
    while day <= last:
        for i, w in enumerate(duty.windows):
            ws = datetime.combine(day, w.start, tz)
            we = datetime.combine(day, w.end, tz)
            if ws >= start and we <= end:
                out.append((day.toordinal(), i))
        day += timedelta(days=1)
    return out


def _windows(span_s: float, every_days: int) -> int:
    return math.floor(span_s / (every_days * 86_400.0))


def compliance(
    plans: Mapping[AreaCode, DutyPlan] | Iterable[DutyPlan],
    activities: Sequence[Activity],
    period_start: datetime,
    period_end: datetime,
    *,
    roster: Roster | None = None,
) -> ComplianceReport:
    """Coverage and missed items per grid and per person over [period_start, period_end).

    With a roster, each person's dues are those of the grids where they hold
    the plan's role at the period start.
    """
    _check_period(period_start, period_end)
    plan_list = list(plans.values()) if isinstance(plans, Mapping) else list(plans)
    codes = [p.grid for p in plan_list]
    if len(set(codes)) != len(codes):
        raise DutyError("compliance: two plans for one grid")
    log = _Log.read(activities, {c: i for i, c in enumerate(codes)}, period_start, period_end)
    patrols = _count_patrols(plan_list, activities, log, period_start, period_end)
    visits = _count_visits(plan_list, activities, log)
    insp = _count_inspections(plan_list, log)
    grids_out = {
        c: GridCompliance(
            c,
            int(patrols.due[i]),
            int(patrols.done[i]),
            int(visits.due[i]),
            int(visits.done[i]),
            int(visits.special_due[i]),
            int(visits.special_done[i]),
            int(insp.due[i]),
            int(insp.done[i]),
            tuple(patrols.missed[i]),
            visits.unvisited[i],
        )
        for i, c in enumerate(codes)
    }
    people_out: dict[PersonId, PersonCompliance] = {
        pid: PersonCompliance(
            pid, int(patrols.per_person[k]), int(visits.per_person[k]), int(insp.per_person[k])
        )
        for pid, k in log.person_ids.items()
    }
    if roster is not None:
        held: dict[PersonId, list[int]] = {}
        for i, p in enumerate(plan_list):
            for asg in roster.holders(p.grid, p.role, period_start):
                held.setdefault(asg.person, []).append(i)
        for pid, idxs in held.items():
            base = people_out.get(pid, PersonCompliance(pid))
            people_out[pid] = attrs.evolve(
                base,
                grids=tuple(codes[i] for i in idxs),
                patrols_due=int(patrols.due[idxs].sum()),
                visits_due=int(visits.due[idxs].sum()),
                inspections_due=int(insp.due[idxs].sum()),
            )
    return ComplianceReport(
        period_start,
        period_end,
        MappingProxyType(grids_out),
        MappingProxyType(people_out),
        log.unplanned,
    )


def _check_period(period_start: datetime, period_end: datetime) -> None:
    for name, v in (("period_start", period_start), ("period_end", period_end)):
        if v.utcoffset() is None:
            raise DutyError(f"compliance {name} = {v!r}: expected a timezone-aware datetime")
    if period_end <= period_start:
        raise DutyError(
            f"compliance period: end {period_end.isoformat()} is not after start "
            f"{period_start.isoformat()}"
        )


_KIND_CODE = {ActivityKind.PATROL: 0, ActivityKind.VISIT: 1, ActivityKind.INSPECTION: 2}


@attrs.frozen(eq=False)
class _Log:
    """The activity log as flat arrays, one row per activity (grid -1: no plan for it)."""

    n_grids: int
    t0: float
    span: float
    grid: IntArray
    kind: NDArray[np.int8]
    start: NDArray[np.float64]
    end: NDArray[np.float64]
    components: IntArray
    person: IntArray
    person_ids: dict[PersonId, int]
    counted: NDArray[np.bool_]
    """Planned grid and started inside the period."""
    unplanned: int
    visit_households: tuple[IntArray, IntArray]
    """(activity row, household number): one row per household a planned visit names."""

    @classmethod
    def read(
        cls,
        activities: Sequence[Activity],
        gidx: Mapping[AreaCode, int],
        period_start: datetime,
        period_end: datetime,
    ) -> _Log:
        """One pass over the log into flat arrays; the counting is array work."""
        t0 = period_start.timestamp()
        t1 = period_end.timestamp()
        m = len(activities)
        a_grid = np.full(m, -1, dtype=np.int64)
        a_kind = np.zeros(m, dtype=np.int8)
        a_start = np.zeros(m, dtype=np.float64)
        a_end = np.zeros(m, dtype=np.float64)
        a_comp = np.zeros(m, dtype=np.int64)
        person_ids: dict[PersonId, int] = {}
        a_person = np.zeros(m, dtype=np.int64)
        hh_lists: list[tuple[int, ...]] = []
        hh_owner: list[int] = []
        for j, a in enumerate(activities):
            g = gidx.get(a.grid, -1)
            a_grid[j] = g
            a_kind[j] = _KIND_CODE[a.kind]
            a_start[j] = a.start.timestamp()
            a_end[j] = a.end.timestamp()
            a_comp[j] = a.components
            a_person[j] = person_ids.setdefault(a.person, len(person_ids))
            if a.households and g >= 0:
                hh_lists.append(a.households)
                hh_owner.append(j)
        in_period = (a_start >= t0) & (a_start < t1)
        counted = (a_grid >= 0) & in_period
        # Explode visits into one row per (activity, household).
        if hh_lists:
            lens = np.fromiter((len(x) for x in hh_lists), dtype=np.int64, count=len(hh_lists))
            v_act = np.repeat(np.asarray(hh_owner, dtype=np.int64), lens)
            n_hh = int(lens.sum())
            v_hh = np.fromiter((h for x in hh_lists for h in x), dtype=np.int64, count=n_hh)
        else:
            v_act = np.zeros(0, dtype=np.int64)
            v_hh = np.zeros(0, dtype=np.int64)
        return cls(
            n_grids=len(gidx),
            t0=t0,
            span=t1 - t0,
            grid=a_grid,
            kind=a_kind,
            start=a_start,
            end=a_end,
            components=a_comp,
            person=a_person,
            person_ids=person_ids,
            counted=counted,
            unplanned=int(m - counted.sum()),
            visit_households=(v_act, v_hh),
        )

    def window_of(self, rows: IntArray, every_days: int) -> tuple[int, IntArray]:
        """The number of complete `every_days` windows in the period, and each row's window."""
        nwin = _windows(self.span, every_days)
        win = np.floor((self.start[rows] - self.t0) / (every_days * 86_400.0)).astype(np.int64)
        return nwin, win


def _members(plan_list: Sequence[DutyPlan], duty_of: str) -> dict[object, list[int]]:
    """Plan positions grouped by their duty `duty_of` (patrol, visit, inspection), if any."""
    out: dict[object, list[int]] = {}
    for i, p in enumerate(plan_list):
        duty = getattr(p, duty_of)
        if duty is not None:
            out.setdefault(duty, []).append(i)
    return out


@attrs.frozen(eq=False)
class _Patrols:
    due: IntArray
    done: IntArray
    missed: list[list[tuple[date, str]]]
    per_person: IntArray


def _count_patrols(
    plan_list: Sequence[DutyPlan],
    activities: Sequence[Activity],
    log: _Log,
    period_start: datetime,
    period_end: datetime,
) -> _Patrols:
    """Patrol windows due and done per grid, the missed ones, and patrols per person."""
    n = log.n_grids
    out = _Patrols(
        due=np.zeros(n, dtype=np.int64),
        done=np.zeros(n, dtype=np.int64),
        missed=[[] for _ in range(n)],
        per_person=np.zeros(len(log.person_ids), dtype=np.int64),
    )
    for duty, members in _members(plan_list, "patrol").items():
        assert isinstance(duty, PatrolDuty)
        _count_patrol_duty(duty, members, activities, log, period_start, period_end, out)
    return out


def _count_patrol_duty(
    duty: PatrolDuty,
    members: list[int],
    activities: Sequence[Activity],
    log: _Log,
    period_start: datetime,
    period_end: datetime,
    out: _Patrols,
) -> None:
    """`_count_patrols` for the grids that share one patrol duty."""
    n = log.n_grids
    due = _windows_due(duty, period_start, period_end)
    labels = [(date.fromordinal(d), duty.windows[w].name) for d, w in due]
    nw = len(duty.windows)
    first_day = due[0][0] if due else 0
    n_days = (due[-1][0] - first_day + 1) if due else 0
    slot_of = np.full(max(n_days * nw, 1), -1, dtype=np.int64)
    for k, (d, w) in enumerate(due):
        slot_of[(d - first_day) * nw + w] = k
    member_pos = np.full(n, -1, dtype=np.int64)
    member_pos[members] = np.arange(len(members))
    sel = np.flatnonzero(log.counted & (log.kind == 0))
    sel = sel[member_pos[log.grid[sel]] >= 0]
    sel = sel[(log.end[sel] - log.start[sel]) >= duty.length.total_seconds()]
    tz = ZoneInfo(duty.tz)
    # Local day and second of day: the zone's offset can change (DST), so ask per activity.
    local_day = np.empty(len(sel), dtype=np.int64)
    local_sec = np.empty(len(sel), dtype=np.int64)
    for q, j in enumerate(sel.tolist()):
        lt = activities[j].start.astimezone(tz)
        local_day[q] = lt.toordinal()
        local_sec[q] = lt.hour * 3600 + lt.minute * 60 + lt.second
    win = np.full(len(sel), -1, dtype=np.int64)
    for w_i, pw in enumerate(duty.windows):
        ws = pw.start.hour * 3600 + pw.start.minute * 60 + pw.start.second
        we = pw.end.hour * 3600 + pw.end.minute * 60 + pw.end.second
        win[(local_sec >= ws) & (local_sec < we)] = w_i
    off = local_day - first_day
    ok = (win >= 0) & (off >= 0) & (off < n_days)
    slot = np.full(len(sel), -1, dtype=np.int64)
    slot[ok] = slot_of[off[ok] * nw + win[ok]]
    ok = slot >= 0
    sel, slot = sel[ok], slot[ok]
    rows = member_pos[log.grid[sel]]
    n_due = len(due)
    done = np.zeros((len(members), max(n_due, 1)), dtype=bool)
    done[rows, slot] = True
    done = done[:, :n_due]
    counts = done.sum(axis=1)
    for r, i in enumerate(members):
        out.due[i] = n_due
        out.done[i] = int(counts[r])
    miss_r, miss_s = np.nonzero(~done)
    for r, s in zip(miss_r.tolist(), miss_s.tolist(), strict=True):
        out.missed[members[r]].append(labels[s])
    # Per person: distinct (grid, slot) patrols of their own.
    if len(sel):
        key = np.unique((log.person[sel] * n + log.grid[sel]) * max(n_due, 1) + slot)
        np.add.at(out.per_person, key // (n * max(n_due, 1)), 1)


@attrs.frozen(eq=False)
class _Visits:
    due: IntArray
    done: IntArray
    special_due: IntArray
    special_done: IntArray
    unvisited: list[tuple[int, ...]]
    per_person: IntArray


def _count_visits(
    plan_list: Sequence[DutyPlan], activities: Sequence[Activity], log: _Log
) -> _Visits:
    """Household visits due and done per grid (special households apart), the households
    not visited enough, and visits per person."""
    n = log.n_grids
    out = _Visits(
        due=np.zeros(n, dtype=np.int64),
        done=np.zeros(n, dtype=np.int64),
        special_due=np.zeros(n, dtype=np.int64),
        special_done=np.zeros(n, dtype=np.int64),
        unvisited=[() for _ in range(n)],
        per_person=np.zeros(len(log.person_ids), dtype=np.int64),
    )
    hh = np.array([p.households for p in plan_list], dtype=np.int64)
    hh_off = np.concatenate(([0], np.cumsum(hh)))
    v_act, v_hh = log.visit_households
    keep = log.counted[v_act] & (log.kind[v_act] == 1)
    v_act, v_hh = v_act[keep], v_hh[keep]
    v_grid = log.grid[v_act]
    bad = (v_hh < 0) | (v_hh >= hh[v_grid])
    if bad.any():
        j = int(v_act[np.flatnonzero(bad)[0]])
        a = activities[j]
        raise DutyError(
            f"activity {j} of {a.person!r} in {a.grid!r}: household number "
            f"{int(v_hh[np.flatnonzero(bad)[0]])}, expected 0..{int(hh[log.grid[j]]) - 1}"
        )
    v_flat = hh_off[v_grid] + v_hh
    total_hh = int(hh_off[-1])
    grid_of_hh = np.repeat(np.arange(n), hh)
    for vduty, members in _members(plan_list, "visit").items():
        assert isinstance(vduty, VisitDuty)
        mem = np.zeros(n, dtype=bool)
        mem[members] = True
        sel = mem[v_grid]
        f, a_i = v_flat[sel], v_act[sel]
        nwin, win = log.window_of(a_i, vduty.every_days)
        ok = win < nwin
        f, a_i, win = f[ok], a_i[ok], win[ok]
        # visits per (household, window), each counting up to `visits`
        key, cnt = np.unique(f * max(nwin, 1) + win, return_counts=True)
        per_hh = np.bincount(
            key // max(nwin, 1), weights=np.minimum(cnt, vduty.visits), minlength=total_hh
        ).astype(np.int64)
        need = nwin * vduty.visits
        done_g = np.bincount(grid_of_hh, weights=per_hh, minlength=n).astype(np.int64)
        short = per_hh < need
        for i in members:
            out.due[i] = int(hh[i]) * need
            out.done[i] = int(done_g[i])
            lo, hi = int(hh_off[i]), int(hh_off[i + 1])
            if need:
                out.unvisited[i] = tuple((np.flatnonzero(short[lo:hi])).tolist())
        # Per person: each of their (household, window) visits counts, up to `visits`.
        if len(f):
            pk, pc = np.unique(
                (log.person[a_i] * (total_hh + 1) + f) * max(nwin, 1) + win, return_counts=True
            )
            np.add.at(
                out.per_person, pk // (max(nwin, 1) * (total_hh + 1)), np.minimum(pc, vduty.visits)
            )
        for rule in vduty.special:
            _count_special_visits(rule, members, plan_list, log, mem[v_grid], v_act, v_flat, out)
    return out


def _count_special_visits(
    rule: VisitRule,
    members: list[int],
    plan_list: Sequence[DutyPlan],
    log: _Log,
    in_duty: NDArray[np.bool_],
    v_act: IntArray,
    v_flat: IntArray,
    out: _Visits,
) -> None:
    """Visits due and done for one kind of listed household (三登门、五必访)."""
    hh = np.array([p.households for p in plan_list], dtype=np.int64)
    hh_off = np.concatenate(([0], np.cumsum(hh)))
    total_hh = int(hh_off[-1])
    n = log.n_grids
    is_kind = np.zeros(total_hh, dtype=bool)
    for i in members:
        listed = np.asarray(plan_list[i].special(rule.kind), dtype=np.int64)
        is_kind[hh_off[i] + listed] = True
    sel = in_duty & is_kind[v_flat]
    f, a_i = v_flat[sel], v_act[sel]
    nwin, win = log.window_of(a_i, rule.every_days)
    ok = win < nwin
    f, win = f[ok], win[ok]
    key, cnt = np.unique(f * max(nwin, 1) + win, return_counts=True)
    per_hh = np.bincount(
        key // max(nwin, 1), weights=np.minimum(cnt, rule.visits), minlength=total_hh
    )
    grid_of_hh = np.repeat(np.arange(n), hh)
    done_g = np.bincount(grid_of_hh, weights=per_hh, minlength=n).astype(np.int64)
    for i in members:
        out.special_due[i] += len(plan_list[i].special(rule.kind)) * nwin * rule.visits
        out.special_done[i] += int(done_g[i])


@attrs.frozen(eq=False)
class _Inspections:
    due: IntArray
    done: IntArray
    per_person: IntArray


def _count_inspections(plan_list: Sequence[DutyPlan], log: _Log) -> _Inspections:
    """Component inspections due and done per grid (capped at the grid's count), per person."""
    n = log.n_grids
    out = _Inspections(
        due=np.zeros(n, dtype=np.int64),
        done=np.zeros(n, dtype=np.int64),
        per_person=np.zeros(len(log.person_ids), dtype=np.int64),
    )
    comps = np.array([p.components for p in plan_list], dtype=np.int64)
    for iduty, members in _members(plan_list, "inspection").items():
        assert isinstance(iduty, InspectionDuty)
        mem = np.zeros(n, dtype=bool)
        mem[members] = True
        sel = np.flatnonzero(log.counted & (log.kind == 2))
        sel = sel[mem[log.grid[sel]]]
        nwin, win = log.window_of(sel, iduty.every_days)
        ok = win < nwin
        sel, win = sel[ok], win[ok]
        per = np.bincount(
            log.grid[sel] * max(nwin, 1) + win,
            weights=log.components[sel],
            minlength=n * max(nwin, 1),
        ).reshape(n, max(nwin, 1))[:, :nwin]
        capped = np.minimum(per, comps[:, None]).sum(axis=1).astype(np.int64)
        out.due[members] = comps[members] * nwin
        out.done[members] = capped[members]
        np.add.at(out.per_person, log.person[sel], log.components[sel])
    return out
