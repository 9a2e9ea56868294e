"""Duties as data (巡查、走访、巡检) and their compliance from an activity log.

A grid's `DutyPlan` follows from its staffing policy (`duty_plan`): patrols in
daily windows (三个一小时: three one-hour patrols a day, morning, noon, evening),
household visits (every household within N days; listed kinds of household more
often: 三登门、五必访) and component inspections (every component every N days).
`compliance` turns a log of `Activity` values into coverage and missed items per
grid and per person. It is pure and works on arrays, for logs of ~100k activities.

Counting rules, fixed once:

- A patrol counts for the window in which it starts (local time of the duty's
  zone) if it lasts at least the duty's length; one per grid, day and window.
  Windows are due when they lie wholly inside the period.
- Visits and inspections are due per complete N-day window counted from the
  period start; activities in a trailing partial window are neither due nor
  counted. A household visited more often than asked in a window counts once
  per visit asked; components inspected beyond the grid's count do not count.

>>> from datetime import datetime, timezone
>>> from gridcore.synth import build_city
>>> h = build_city("shuanghu", seed=1)
>>> plan = duty_plan("two_per_grid", h.area(h.grids[0]))
>>> plan.patrol.windows[0].name
'morning'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

import attrs
import numpy as np
from numpy.typing import NDArray

from gridcore._rates import ratio
from gridcore.errors import StaffingError
from gridcore.hierarchy import Area
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing import Role, Roster, StaffingPolicy, get_policy

__all__ = [
    "FIVE_MUST_VISIT",
    "PLAN_TEMPLATES",
    "THREE_ONE_HOUR",
    "Activity",
    "ActivityKind",
    "ComplianceReport",
    "DutyError",
    "DutyPlan",
    "DutyTemplate",
    "GridCompliance",
    "InspectionDuty",
    "PatrolDuty",
    "PatrolWindow",
    "PersonCompliance",
    "VisitDuty",
    "VisitRule",
    "compliance",
    "duty_plan",
]


class DutyError(StaffingError):
    """A duty, plan or activity that is not valid."""


class ActivityKind(StrEnum):
    """What a logged activity was."""

    PATROL = "patrol"
    VISIT = "visit"
    INSPECTION = "inspection"


def _positive_days(inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise DutyError(f"{type(inst).__name__} {attribute.name} = {value}: expected >= 1")


@attrs.frozen
class PatrolWindow:
    """A daily window, in local wall time, in which one patrol is due: [start, end)."""

    name: str
    start: time
    end: time

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise DutyError(
                f"patrol window {self.name!r}: end {self.end} is not after start {self.start}"
            )


@attrs.frozen
class PatrolDuty:
    """Patrols due each day, one per window, each at least `length` long."""

    windows: tuple[PatrolWindow, ...]
    length: timedelta = timedelta(hours=1)
    tz: str = "Asia/Shanghai"

    def __attrs_post_init__(self) -> None:
        if not self.windows:
            raise DutyError("patrol duty: no windows, expected at least one")
        if self.length <= timedelta(0):
            raise DutyError(f"patrol duty: length {self.length} is not positive")
        names = [w.name for w in self.windows]
        if len(set(names)) != len(names):
            raise DutyError(f"patrol duty: window names repeat: {names}")
        ordered = sorted(self.windows, key=lambda w: w.start)
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise DutyError(f"patrol duty: windows {a.name!r} and {b.name!r} overlap")
        try:
            ZoneInfo(self.tz)
        except Exception:
            raise DutyError(f"patrol duty: time zone {self.tz!r} is not known") from None


THREE_ONE_HOUR = PatrolDuty(
    (
        PatrolWindow("morning", time(6, 0), time(11, 0)),
        PatrolWindow("noon", time(11, 0), time(15, 0)),
        PatrolWindow("evening", time(17, 0), time(22, 0)),
    )
)
"""三个一小时: three one-hour patrols a day, morning, noon and evening (Chongqing)."""


@attrs.frozen
class VisitRule:
    """Households of a listed kind, each visited `visits` times every `every_days` days.

    `share` is the share of a grid's households of this kind, used when a plan
    is made without a list of them.
    """

    kind: str
    every_days: int = attrs.field(validator=_positive_days)
    visits: int = attrs.field(default=1, validator=_positive_days)
    share: float = 0.02


@attrs.frozen
class VisitDuty:
    """Every household visited `visits` times every `every_days` days, plus listed kinds."""

    every_days: int = attrs.field(validator=_positive_days)
    visits: int = attrs.field(default=1, validator=_positive_days)
    special: tuple[VisitRule, ...] = ()


FIVE_MUST_VISIT: tuple[VisitRule, ...] = (
    VisitRule("hardship", 30),
    VisitRule("empty_nest_elderly", 30),
    VisitRule("disabled", 30),
    VisitRule("left_behind_children", 30),
    VisitRule("dispute", 30),
)
"""五必访: five kinds of household that must be visited, here monthly (Jiangsu)."""


@attrs.frozen
class InspectionDuty:
    """Every component of the listed kinds (all kinds if empty) inspected every `every_days`."""

    every_days: int = attrs.field(validator=_positive_days)
    kinds: tuple[str, ...] = ()


@attrs.frozen
class DutyTemplate:
    """The duties a policy gives each grid, and the role that does them."""

    role: Role
    patrol: PatrolDuty | None = None
    visit: VisitDuty | None = None
    inspection: InspectionDuty | None = None


_STREET_KINDS = ("manholes", "poles", "street_lamps", "cameras", "septic_tanks")

PLAN_TEMPLATES: Mapping[str, DutyTemplate] = MappingProxyType(
    {
        "full_duty": DutyTemplate(
            Role.FULL_DUTY, THREE_ONE_HOUR, VisitDuty(60), InspectionDuty(7, _STREET_KINDS)
        ),
        "three_per_grid": DutyTemplate(
            Role.ASSISTANT,
            THREE_ONE_HOUR,
            # 三登门、五必访: every household three times a year, five kinds monthly
            VisitDuty(365, visits=3, special=FIVE_MUST_VISIT),
            InspectionDuty(7, _STREET_KINDS),
        ),
        "two_per_grid": DutyTemplate(
            Role.FULL_DUTY, THREE_ONE_HOUR, VisitDuty(60), InspectionDuty(7, _STREET_KINDS)
        ),
        "yubei": DutyTemplate(
            Role.FULL_DUTY,
            THREE_ONE_HOUR,
            VisitDuty(60, special=FIVE_MUST_VISIT),
            InspectionDuty(7, _STREET_KINDS),
        ),
    }
)
"""Duties per grid by policy name: patrols 三个一小时, all households within two months."""


def _special(
    value: Mapping[str, Iterable[int]] | Iterable[tuple[str, Iterable[int]]],
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), tuple(sorted({int(h) for h in v}))) for k, v in items))


@attrs.frozen
class DutyPlan:
    """The duties of one grid: its households and inspectable components, and who does them.

    Households are numbered 0 .. households-1; `special_households` lists, per
    kind of a special visit rule, the numbers of the households of that kind.
    """

    grid: AreaCode
    role: Role
    households: int
    components: int
    patrol: PatrolDuty | None = None
    visit: VisitDuty | None = None
    inspection: InspectionDuty | None = None
    special_households: tuple[tuple[str, tuple[int, ...]], ...] = attrs.field(
        default=(), converter=_special
    )

    def __attrs_post_init__(self) -> None:
        if self.households < 0 or self.components < 0:
            raise DutyError(f"duty plan {self.grid!r}: households and components must be >= 0")
        kinds = {r.kind for r in self.visit.special} if self.visit else set()
        for kind, hs in self.special_households:
            if kind not in kinds:
                raise DutyError(
                    f"duty plan {self.grid!r}: special households of kind {kind!r}, "
                    f"expected one of {sorted(kinds)}"
                )
            if hs and (hs[0] < 0 or hs[-1] >= self.households):
                raise DutyError(
                    f"duty plan {self.grid!r}: special household numbers of {kind!r} must lie "
                    f"in 0..{self.households - 1}"
                )

    def special(self, kind: str) -> tuple[int, ...]:
        """Household numbers of a special kind (empty if none)."""
        for k, hs in self.special_households:
            if k == kind:
                return hs
        return ()


def duty_plan(
    policy: StaffingPolicy | str,
    grid: Area,
    special_households: Mapping[str, Iterable[int]] | None = None,
    *,
    template: DutyTemplate | None = None,
) -> DutyPlan:
    """The duty plan of a grid under a policy (its template from `PLAN_TEMPLATES`).

    Without `special_households`, each special kind gets a deterministic run of
    household numbers of its rule's share (kinds one after another, so a
    household is of one kind).
    """
    pol = get_policy(policy)
    if template is None:
        template = PLAN_TEMPLATES.get(pol.name)
        if template is None:
            raise DutyError(
                f"duty plan: policy {pol.name!r} has no duty template; expected one of "
                f"{sorted(PLAN_TEMPLATES)} or a template given"
            )
    kinds = set(template.inspection.kinds) if template.inspection else set()
    comps = sum(v for k, v in grid.components if not kinds or k in kinds)
    if special_households is None:
        special: dict[str, list[int]] = {}
        nxt = 0
        rules = template.visit.special if template.visit else ()
        for rule in rules:
            n = min(grid.households - nxt, max(1, round(rule.share * grid.households)))
            special[rule.kind] = list(range(nxt, nxt + n))
            nxt += n
        special_households = special
    return DutyPlan(
        grid.code,
        template.role,
        grid.households,
        comps,
        template.patrol,
        template.visit,
        template.inspection,
        special_households,
    )


# -- activities and compliance ----------------------------------------------------------------


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
    for name, v in (("period_start", period_start), ("period_end", period_end)):
        if v.utcoffset() is None:
            raise DutyError(f"compliance {name} = {v!r}: expected a timezone-aware datetime")
    if period_end <= period_start:
        raise DutyError(
            f"compliance period: end {period_end.isoformat()} is not after start "
            f"{period_start.isoformat()}"
        )
    plan_list = list(plans.values()) if isinstance(plans, Mapping) else list(plans)
    codes = [p.grid for p in plan_list]
    if len(set(codes)) != len(codes):
        raise DutyError("compliance: two plans for one grid")
    gidx = {c: i for i, c in enumerate(codes)}
    n = len(plan_list)
    t0 = period_start.timestamp()
    t1 = period_end.timestamp()
    span = t1 - t0

    # One pass over the log into flat arrays; the counting below is array work.
    m = len(activities)
    a_grid = np.full(m, -1, dtype=np.int64)
    a_kind = np.zeros(m, dtype=np.int8)
    a_start = np.zeros(m, dtype=np.float64)
    a_end = np.zeros(m, dtype=np.float64)
    a_comp = np.zeros(m, dtype=np.int64)
    person_ids: dict[PersonId, int] = {}
    a_person = np.zeros(m, dtype=np.int64)
    kind_code = {ActivityKind.PATROL: 0, ActivityKind.VISIT: 1, ActivityKind.INSPECTION: 2}
    hh_lists: list[tuple[int, ...]] = []
    hh_owner: list[int] = []
    for j, a in enumerate(activities):
        g = gidx.get(a.grid, -1)
        a_grid[j] = g
        a_kind[j] = kind_code[a.kind]
        a_start[j] = a.start.timestamp()
        a_end[j] = a.end.timestamp()
        a_comp[j] = a.components
        a_person[j] = person_ids.setdefault(a.person, len(person_ids))
        if a.households and g >= 0:
            hh_lists.append(a.households)
            hh_owner.append(j)
    in_period = (a_start >= t0) & (a_start < t1)
    counted = (a_grid >= 0) & in_period
    unplanned = int(m - counted.sum())
    n_people = len(person_ids)

    patrols_due = np.zeros(n, dtype=np.int64)
    patrols_done = np.zeros(n, dtype=np.int64)
    p_patrols = np.zeros(n_people, dtype=np.int64)
    missed: list[list[tuple[date, str]]] = [[] for _ in range(n)]
    by_patrol: dict[PatrolDuty, list[int]] = {}
    for i, p in enumerate(plan_list):
        if p.patrol is not None:
            by_patrol.setdefault(p.patrol, []).append(i)
    for duty, members in by_patrol.items():
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
        sel = np.flatnonzero(counted & (a_kind == 0))
        sel = sel[member_pos[a_grid[sel]] >= 0]
        sel = sel[(a_end[sel] - a_start[sel]) >= duty.length.total_seconds()]
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
        rows = member_pos[a_grid[sel]]
        n_due = len(due)
        done = np.zeros((len(members), max(n_due, 1)), dtype=bool)
        done[rows, slot] = True
        done = done[:, :n_due]
        counts = done.sum(axis=1)
        for r, i in enumerate(members):
            patrols_due[i] = n_due
            patrols_done[i] = int(counts[r])
        miss_r, miss_s = np.nonzero(~done)
        for r, s in zip(miss_r.tolist(), miss_s.tolist(), strict=True):
            missed[members[r]].append(labels[s])
        # Per person: distinct (grid, slot) patrols of their own.
        if len(sel):
            key = np.unique((a_person[sel] * n + a_grid[sel]) * max(n_due, 1) + slot)
            np.add.at(p_patrols, key // (n * max(n_due, 1)), 1)

    visits_due = np.zeros(n, dtype=np.int64)
    visits_done = np.zeros(n, dtype=np.int64)
    special_due = np.zeros(n, dtype=np.int64)
    special_done = np.zeros(n, dtype=np.int64)
    p_visits = np.zeros(n_people, dtype=np.int64)
    unvisited: list[tuple[int, ...]] = [() for _ in range(n)]
    hh = np.array([p.households for p in plan_list], dtype=np.int64)
    hh_off = np.concatenate(([0], np.cumsum(hh)))
    # Explode visits into one row per (activity, household).
    if hh_lists:
        lens = np.fromiter((len(x) for x in hh_lists), dtype=np.int64, count=len(hh_lists))
        v_act = np.repeat(np.asarray(hh_owner, dtype=np.int64), lens)
        v_hh = np.fromiter((h for x in hh_lists for h in x), dtype=np.int64, count=int(lens.sum()))
    else:
        v_act = np.zeros(0, dtype=np.int64)
        v_hh = np.zeros(0, dtype=np.int64)
    keep = counted[v_act] & (a_kind[v_act] == 1)
    v_act, v_hh = v_act[keep], v_hh[keep]
    v_grid = a_grid[v_act]
    bad = (v_hh < 0) | (v_hh >= hh[v_grid])
    if bad.any():
        j = int(v_act[np.flatnonzero(bad)[0]])
        a = activities[j]
        raise DutyError(
            f"activity {j} of {a.person!r} in {a.grid!r}: household number "
            f"{int(v_hh[np.flatnonzero(bad)[0]])}, expected 0..{int(hh[a_grid[j]]) - 1}"
        )
    v_flat = hh_off[v_grid] + v_hh
    total_hh = int(hh_off[-1])
    by_visit: dict[VisitDuty, list[int]] = {}
    for i, p in enumerate(plan_list):
        if p.visit is not None:
            by_visit.setdefault(p.visit, []).append(i)
    for vduty, members in by_visit.items():
        mem = np.zeros(n, dtype=bool)
        mem[members] = True
        sel = mem[v_grid]
        f, a_i = v_flat[sel], v_act[sel]
        nwin = _windows(span, vduty.every_days)
        win = np.floor((a_start[a_i] - t0) / (vduty.every_days * 86_400.0)).astype(np.int64)
        ok = win < nwin
        f, a_i, win = f[ok], a_i[ok], win[ok]
        # visits per (household, window), each counting up to `visits`
        key, cnt = np.unique(f * max(nwin, 1) + win, return_counts=True)
        per_hh = np.bincount(
            key // max(nwin, 1), weights=np.minimum(cnt, vduty.visits), minlength=total_hh
        ).astype(np.int64)
        need = nwin * vduty.visits
        grid_of_hh = np.repeat(np.arange(n), hh)
        done_g = np.bincount(grid_of_hh, weights=per_hh, minlength=n).astype(np.int64)
        short = per_hh < need
        for i in members:
            visits_due[i] = int(hh[i]) * need
            visits_done[i] = int(done_g[i])
            lo, hi = int(hh_off[i]), int(hh_off[i + 1])
            if need:
                unvisited[i] = tuple((np.flatnonzero(short[lo:hi])).tolist())
        # Per person: each of their (household, window) visits counts, up to `visits`.
        if len(f):
            pk, pc = np.unique(
                (a_person[a_i] * (total_hh + 1) + f) * max(nwin, 1) + win, return_counts=True
            )
            np.add.at(p_visits, pk // (max(nwin, 1) * (total_hh + 1)), np.minimum(pc, vduty.visits))
        for rule in vduty.special:
            is_kind = np.zeros(total_hh, dtype=bool)
            for i in members:
                listed = np.asarray(plan_list[i].special(rule.kind), dtype=np.int64)
                is_kind[hh_off[i] + listed] = True
            sel = mem[v_grid] & is_kind[v_flat]
            f, a_i = v_flat[sel], v_act[sel]
            nwin = _windows(span, rule.every_days)
            win = np.floor((a_start[a_i] - t0) / (rule.every_days * 86_400.0)).astype(np.int64)
            ok = win < nwin
            f, win = f[ok], win[ok]
            key, cnt = np.unique(f * max(nwin, 1) + win, return_counts=True)
            per_hh = np.bincount(
                key // max(nwin, 1), weights=np.minimum(cnt, rule.visits), minlength=total_hh
            )
            done_g = np.bincount(grid_of_hh, weights=per_hh, minlength=n).astype(np.int64)
            for i in members:
                special_due[i] += len(plan_list[i].special(rule.kind)) * nwin * rule.visits
                special_done[i] += int(done_g[i])

    insp_due = np.zeros(n, dtype=np.int64)
    insp_done = np.zeros(n, dtype=np.int64)
    p_insp = np.zeros(n_people, dtype=np.int64)
    comps = np.array([p.components for p in plan_list], dtype=np.int64)
    by_insp: dict[InspectionDuty, list[int]] = {}
    for i, p in enumerate(plan_list):
        if p.inspection is not None:
            by_insp.setdefault(p.inspection, []).append(i)
    for iduty, members in by_insp.items():
        mem = np.zeros(n, dtype=bool)
        mem[members] = True
        sel = np.flatnonzero(counted & (a_kind == 2))
        sel = sel[mem[a_grid[sel]]]
        nwin = _windows(span, iduty.every_days)
        win = np.floor((a_start[sel] - t0) / (iduty.every_days * 86_400.0)).astype(np.int64)
        ok = win < nwin
        sel, win = sel[ok], win[ok]
        per = np.bincount(
            a_grid[sel] * max(nwin, 1) + win, weights=a_comp[sel], minlength=n * max(nwin, 1)
        ).reshape(n, max(nwin, 1))[:, :nwin]
        capped = np.minimum(per, comps[:, None]).sum(axis=1).astype(np.int64)
        insp_due[members] = comps[members] * nwin
        insp_done[members] = capped[members]
        np.add.at(p_insp, a_person[sel], a_comp[sel])

    grids_out = {
        c: GridCompliance(
            c,
            int(patrols_due[i]),
            int(patrols_done[i]),
            int(visits_due[i]),
            int(visits_done[i]),
            int(special_due[i]),
            int(special_done[i]),
            int(insp_due[i]),
            int(insp_done[i]),
            tuple(missed[i]),
            unvisited[i],
        )
        for i, c in enumerate(codes)
    }
    people_out: dict[PersonId, PersonCompliance] = {
        pid: PersonCompliance(pid, int(p_patrols[k]), int(p_visits[k]), int(p_insp[k]))
        for pid, k in person_ids.items()
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
                patrols_due=int(patrols_due[idxs].sum()),
                visits_due=int(visits_due[idxs].sum()),
                inspections_due=int(insp_due[idxs].sum()),
            )
    return ComplianceReport(
        period_start,
        period_end,
        MappingProxyType(grids_out),
        MappingProxyType(people_out),
        unplanned,
    )
