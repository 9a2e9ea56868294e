"""The grid model: incidents, grid workers, duties, escalation and routing as SimPy processes.

One replication is cut into partitions, one per street (escalations stay inside a
street; each street holds its share of every department), each its own small SimPy
environment; partitions can run on separate cores and are merged afterwards.

Per street:
- incidents arise per community and category (Poisson, hour-of-day and weekday
  profile, rates scaled by households, surges), at a point that the real routing
  index (`gridcore.routing.RoutingIndex`) locates to its grid; a resident reports
  it after a delay, or it stays latent until a patrol finds it (a discovery chance
  per pass; severity grows while unseen);
- every incident is a real case moved by `gridcore.cases.apply` (report, verify,
  register, dispatch, escalate, sign_for, start, handle, close / rework), with
  deadlines from the taxonomy and the working-time calendar;
- grid workers are processes pulling tasks from their grid (cases by priority,
  patrols, household visits, component inspections) in working hours; an emergency
  (severity 4) interrupts a patrol and is taken off hours too. Workers, arrivals, the
  working day and the sweeps are generators resumed by SimPy event callbacks
  (`_start`), not `simpy.Process` objects: the same events, without the Python-level
  step that a `Process` adds to each resume;
- community, street and department staff are multi-server queues (callbacks,
  no processes); relay routing forwards level by level, flattened routing goes
  straight to the owner;
- the desk misroutes a share of dispatches; the wrong owner asks for a return and the
  desk re-dispatches (request_return / approve_return);
- every `escalation.check_minutes` a sweep applies `gridcore.escalation.due_escalations`
  with the scenario's rules to the cases whose deadline light may have turned (a heap by
  the instant it can turn); an escalated case leaves its queue for its new owner's;
- events of finished cases are folded into the metrics' columnar facts in chunks,
  so memory holds the open cases and one row of facts per case, not the logs.

Event budget per case: occurrence 1, resident report 1, verify task 2 (wake +
timeout), desk 1, each relay hop 1, handling 1-2, check 1: about 8-10 SimPy events.
Duties: a patrol, a visit block and an inspection block are one timeout each.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import math
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import simpy

from gridcore.cases import (
    STATE_STAGE,
    Action,
    Actor,
    Case,
    CaseEvent,
    CategoryDeadlines,
    DeskRole,
    apply,
    level_rank,
)
from gridcore.cases import report as case_report
from gridcore.categories import Category, Stage, Taxonomy, default_taxonomy
from gridcore.clock import (
    CalendarSet,
    CountryHolidays,
    NoHolidays,
    RoundTheClock,
    WorkingHoursCalendar,
)
from gridcore.errors import GridcoreError, SimulationError
from gridcore.escalation import Escalation, EscalationRule, Trigger, due_escalations
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId
from gridcore.metrics import CaseFacts, EventTable, compute_metrics
from gridcore.sim.results import Check, ReplicationResult, Table, metrics_record
from gridcore.sim.rng import DistSampler, UniformBuffer
from gridcore.sim.scenario import Scenario
from gridcore.sim.stats import little_check

__all__ = [
    "PartitionResult",
    "Staff",
    "city_for",
    "default_owner_rules",
    "duty_of",
    "partition_events",
    "partitions",
    "routing_index_for",
    "run_grid_replication",
    "run_partition",
    "staff_for",
]

_FLUSH_EVENTS = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_LEVELS = ("grid", "community", "street", "department")

_TIMED = frozenset({Trigger.STAGE_OVERDUE, Trigger.YELLOW_REACHED})
_STAGE_ORDER = {st: k for k, st in enumerate(Stage)}
"""A time trigger's epoch: the stage's order (as `gridcore.escalation` counts it)."""
_HANDLE_STAGE = Stage.HANDLE
_ESC_COUNTER = {
    Action.ESCALATE: "esc_escalations",
    Action.SUPERVISE: "esc_supervisions",
    Action.WARN: "esc_warnings",
}
"""The counter each rule-made action adds to."""

# task kinds in a grid's queue
_VERIFY = 0
_HANDLE = 1


class _A:
    """The `Action` and `DeskRole` members the model passes, as plain class attributes (in
    Python 3.11 reading an Enum member is a descriptor call, ~0.2 µs, here per action)."""

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


_INTERRUPTED: Any = object()
"""Sent to a patrolling worker whose patrol an emergency cuts short."""

Resume = Callable[[Any], Any]
"""A driven process's own `send`: hooked onto an event, it resumes the process."""


def _start(env: simpy.Environment, gen: Generator[None, Any, None]) -> None:
    """Run `gen` as a process that event callbacks drive (cheaper than `simpy.Process`,
    which adds a Python-level step to every resume).

    `gen` first receives its own `send` (`resume = yield`); to wait for an event it appends
    that to the event's callbacks and yields, and SimPy's processing of the event resumes
    it. Like a process it starts with one event at the current instant. It must never
    return: it ends parked at a bare `yield` that nothing resumes.
    """
    next(gen)
    send = gen.send
    ev = env.event()
    ev.callbacks.append(lambda _e: send(send))
    ev.succeed()


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (process-wide) for the block, then restore
    its state (a collector the caller had disabled stays disabled).

    A street's run allocates millions of short-lived objects but makes only a few thousand
    reference cycles (its parked processes, a misroute's two callbacks): the collector's
    passes over the heap cost 13-15% of the run's CPU time and find next to nothing.
    Reference counting still frees everything else as it goes, so memory stays flat; the
    few cycles are collected once the collector runs again (`_Street.run(release=True)`
    breaks them first, so that they do not hold the whole street for it to walk).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Now(simpy.events.Event):
    """An event processed at the current instant before the normal ones (SimPy's urgent
    priority, as its interruptions have), with one callback."""

    def __init__(self, env: simpy.Environment, callback: Callable[[Any], Any]) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, simpy.events.URGENT)


def _union_minutes(intervals: Sequence[tuple[float, ...]]) -> float:
    """Minutes covered by the union of (start, end) intervals within a day."""
    total, reach = 0.0, -math.inf
    for a, b in sorted((iv[0], iv[1]) for iv in intervals):
        if b <= reach:
            continue
        total += b - max(a, reach)
        reach = b
    return total


def _clock_minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@lru_cache(maxsize=4)
def _city(preset: str, geojson: str, seed: int, grids: int) -> Hierarchy:
    if geojson:
        from gridcore.io.geojson import read_geojson

        return read_geojson(geojson)
    from gridcore.synth import CitySpec, build_city, preset_spec

    spec = preset_spec(preset)
    if grids and grids != spec.grids:
        scale = spec.grids / grids
        lo = max(1, round(spec.households_min * scale))
        hi = max(lo, round(spec.households_max * scale))
        communities = min(spec.communities, grids)
        streets = min(spec.streets, communities)
        spec = attrs.evolve(
            spec,
            grids=grids,
            households_min=lo,
            households_max=hi,
            communities=max(communities, math.ceil(grids / 99)),
            streets=streets,
            districts=min(spec.districts, streets),
        )
    assert isinstance(spec, CitySpec)
    return build_city(spec, seed=seed)


@lru_cache(maxsize=8)
def _calendars(
    tz: str, holidays: bool, periods: tuple[str, ...]
) -> tuple[WorkingHoursCalendar, CalendarSet]:
    """The working calendar and the calendar set (cached: loading holidays is slow)."""
    hol = CountryHolidays() if holidays else NoHolidays()
    spans = tuple(
        (time.fromisoformat(a.strip().zfill(5)), time.fromisoformat(b.strip().zfill(5)))
        for a, b in (p.split("-") for p in periods)
    )
    working = WorkingHoursCalendar(periods=spans, holidays=hol, tz=ZoneInfo(tz))
    return working, CalendarSet.of(working, RoundTheClock())


def city_for(scenario: Scenario) -> Hierarchy:
    """The hierarchy a scenario runs on (cached per process)."""
    c = scenario.city
    return _city(c.preset, c.geojson, c.seed, c.grids)


def default_owner_rules(h: Hierarchy, tax: Taxonomy) -> tuple[tuple[str, str, str], ...]:
    """Each 大类 to the department `dept:<大类>` at every top-level area (the city)."""
    top = h.at_level(h.scheme.level_names[0])
    return tuple((str(a), str(c.code), f"dept:{c.code}") for a in top for c in tax.roots())


@lru_cache(maxsize=8)
def _index_for(
    preset: str, geojson: str, seed: int, grids: int, owners: tuple[tuple[str, str, str], ...]
) -> Any:
    """The routing index with the ownership rules: defaults, then the scenario's overrides."""
    from gridcore.routing import OwnershipRule, OwnershipRules, RoutingIndex

    h = _city(preset, geojson, seed, grids)
    tax = default_taxonomy()
    overridden = {(a, c) for a, c, _ in owners}
    merged = [r for r in default_owner_rules(h, tax) if (r[0], r[1]) not in overridden]
    merged += owners
    rules = OwnershipRules(OwnershipRule(a, c, o) for a, c, o in merged)
    return RoutingIndex.build(h, rules=rules, taxonomy=tax)


def routing_index_for(scenario: Scenario) -> Any:
    """The `gridcore.routing.RoutingIndex` a scenario locates and routes with (cached)."""
    c = scenario.city
    return _index_for(c.preset, c.geojson, c.seed, c.grids, scenario.routing.owners)


def _policy_name(scenario: Scenario) -> str:
    from gridcore.synth import PRESETS as CITY_PRESETS

    spec = CITY_PRESETS.get(scenario.city.preset)
    return scenario.staffing.policy or (spec.staffing if spec else "full_duty")


@attrs.frozen(eq=False)
class Staff:
    """The real people of a scenario: a `Roster`, its `ResponsibilityIndex`, people per grid."""

    roster: Any
    responsibility: Any
    grid_people: dict[str, tuple[PersonId, ...]]
    min_per_grid: int


@lru_cache(maxsize=8)
def _staff(
    preset: str,
    geojson: str,
    seed: int,
    grids: int,
    policy: str,
    workers_per_grid: float,
    start: date,
    tz: str,
) -> Staff:
    from gridcore.staffing import ResponsibilityIndex, get_policy, staff_city
    from gridcore.synth import PRESETS as CITY_PRESETS

    h = _city(preset, geojson, seed, grids)
    pol = get_policy(policy)
    leaf = h.scheme.leaf_level
    per_grid = sum(r.count for r in pol.requirements(leaf) if r.level == leaf)
    minimum = pol.min_staff(h)
    n = len(h.grids)
    total: int | None
    if workers_per_grid > 0:
        total = minimum - per_grid * n + max(per_grid * n, round(workers_per_grid * n))
    else:
        spec = CITY_PRESETS.get(preset) if not geojson else None
        same_city = spec is not None and (grids in (0, spec.grids)) and spec.staffing == policy
        total = spec.staff_total if same_city and spec is not None else None
    t0 = datetime.combine(start, time(0), ZoneInfo(tz))
    # the same stream as gridcore.synth.synthetic_city: the preset city's own staff
    roster = staff_city(h, pol, seed + 1_000_003, t0, staff_total=total)
    people: dict[str, list[PersonId]] = {str(g): [] for g in h.grids}
    for a in roster.assignments:
        lst = people.get(str(a.area))
        if lst is not None and a.person not in lst:
            lst.append(a.person)
    return Staff(
        roster,
        ResponsibilityIndex(h, roster, pol),
        {g: tuple(v) for g, v in people.items()},
        max(1, per_grid),
    )


def staff_for(scenario: Scenario) -> Staff:
    """The roster a scenario's grid workers come from (`gridcore.staffing.staff_city`)."""
    c, st = scenario.city, scenario.staffing
    return _staff(
        c.preset,
        c.geojson,
        c.seed,
        c.grids,
        _policy_name(scenario),
        st.workers_per_grid,
        scenario.run.start,
        scenario.run.timezone,
    )


# The duty a category falls under (the six duties of a full-duty worker, Yichang): it
# picks the grid's direct responsible person (`ResponsibilityIndex.direct`).
_DUTY_OF_CLASS = {
    "G01": "family_planning",
    "G02": "information_collection",
    "G03": "comprehensive_order",
    "G04": "comprehensive_order",
    "G05": "comprehensive_order",
    "G06": "family_planning",
    "G07": "comprehensive_order",
    "G08": "civil_affairs",
    "G09": "comprehensive_order",
    "G10": "civil_affairs",
}


def duty_of(category: Category) -> str:
    """The grid duty a category belongs to (components and events: city management)."""
    return _DUTY_OF_CLASS.get(category.parent or category.code, "city_management")


def partitions(scenario: Scenario) -> tuple[AreaCode, ...]:
    """The street codes a replication is cut into (one SimPy environment each)."""
    h = city_for(scenario)
    levels = h.scheme.level_names
    level = "street" if "street" in levels else levels[max(0, len(levels) - 3)]
    return h.at_level(level)


@attrs.frozen
class PartitionResult:
    """What one street's simulation returns, merged into a replication's result."""

    street: str
    facts: CaseFacts | None
    counters: tuple[tuple[str, float], ...]
    grid_rows: tuple[tuple[Any, ...], ...]
    backlog: tuple[tuple[int, int], ...]
    queues: tuple[tuple[str, float, int, float], ...]
    """(queue kind, area, arrivals, total wait) per queue kind."""
    events: int


class _Queue:
    """A priority queue with time-weighted accounting for Little's law."""

    __slots__ = ("area", "arrivals", "heap", "kind", "last", "seq", "wait_sum")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.heap: list[tuple[int, int, float, Any]] = []
        self.seq = 0
        self.area = 0.0
        self.last = 0.0
        self.arrivals = 0
        self.wait_sum = 0.0

    def push(self, now: float, prio: int, item: Any) -> None:
        self.area += len(self.heap) * (now - self.last)
        self.last = now
        self.seq += 1
        self.arrivals += 1
        heapq.heappush(self.heap, (prio, self.seq, now, item))

    def pop(self, now: float) -> Any:
        self.area += len(self.heap) * (now - self.last)
        self.last = now
        _, _, t0, item = heapq.heappop(self.heap)
        self.wait_sum += now - t0
        return item

    def discard(self, now: float, inc: Any) -> bool:
        """Take `inc` out of the queue (it leaves: counted as served for Little's law)."""
        heap = self.heap
        for i, entry in enumerate(heap):
            item = entry[3]
            if item is inc or (isinstance(item, tuple) and item[1] is inc):
                self.area += len(heap) * (now - self.last)
                self.last = now
                self.wait_sum += now - entry[2]
                heap[i] = heap[-1]
                heap.pop()
                heapq.heapify(heap)
                return True
        return False

    def close(self, now: float) -> tuple[float, int, float]:
        """(area, arrivals, total wait incl. the wait so far of items still queued)."""
        area = self.area + len(self.heap) * (now - self.last)
        pending = sum(now - t0 for _, _, t0, _ in self.heap)
        return area, self.arrivals, self.wait_sum + pending


class _Incident:
    __slots__ = (
        "busy",
        "case",
        "cat",
        "due_at",
        "gen",
        "grid",
        "latent_since",
        "log",
        "measured",
        "q",
        "severity",
        "stage_at",
    )

    def __init__(self, grid: int, cat: int, severity: int, measured: bool) -> None:
        self.grid = grid
        self.cat = cat
        self.severity = severity
        self.measured = measured
        self.case: Case | None = None
        self.latent_since = 0.0
        # where the case waits, so that an escalation can take it away: the queue holding
        # it, a generation that pending callbacks (relay hops, routing, returns) compare
        # with theirs, and whether somebody is working on it right now
        self.q: _Queue | None = None
        self.gen = 0
        self.busy = False
        # sim minutes when the current stage began and when "due" was last set
        self.stage_at = 0.0
        self.due_at = 0.0
        # the open case's events (measured incidents only): appended per action, no lookup
        self.log: list[CaseEvent] | None = None


class _Grid:
    __slots__ = (
        "code",
        "community",
        "idle",
        "index",
        "inspect_pool",
        "latent",
        "patrol_pending",
        "patrolling",
        "people",
        "pos",
        "queue",
        "team",
        "visit_pool",
        "workers",
    )

    def __init__(
        self, index: int, code: str, community: int, people: tuple[PersonId, ...], pos: int
    ) -> None:
        self.index = index
        self.code = code
        self.community = community
        self.people = people
        self.workers = len(people)
        self.pos = pos
        self.team = f"team:{code}"
        self.queue = _Queue("grid")
        self.idle: list[Any] = []
        self.patrolling: list[Any] = []
        self.patrol_pending = 0
        self.visit_pool = 0.0
        self.inspect_pool = 0.0
        self.latent: list[_Incident] = []


class _Pool:
    """Staff of a community, street or department share: c servers, priority queue."""

    __slots__ = ("free", "name", "queue", "staff")

    def __init__(self, name: str, staff: int) -> None:
        self.name = name
        self.staff = [f"{name}#{k + 1}" for k in range(staff)]
        self.free = list(reversed(self.staff))
        self.queue = _Queue("level")


def _taxonomy_rates(scenario: Scenario, tax: Taxonomy) -> tuple[list[Category], np.ndarray]:
    leaves = sorted(tax.leaves(), key=lambda c: c.code)
    weights = np.array([scenario.category_weight(c.code) for c in leaves], dtype=np.float64)
    if not weights.sum() > 0:
        raise SimulationError(f"scenario {scenario.name!r}: every category weight is 0")
    return leaves, weights / weights.sum()


class _Street:
    """One street's simulation (a mutable object that owns its SimPy environment)."""

    def __init__(
        self, scenario: Scenario, replication: int, street_index: int, keep_events: bool = False
    ) -> None:
        s = scenario
        self.s = s
        h = city_for(s)
        self.index = routing_index_for(s)
        self.owner_tab = self.index.owners
        self.staff = staff_for(s)
        self.street = partitions(s)[street_index]
        root = np.random.SeedSequence(s.run.seed, spawn_key=(replication, street_index))
        # a fifth stream for misrouting: spawn(5)'s first four children are spawn(4)'s
        arr, hnd, pat, wrk, mis = (np.random.default_rng(x) for x in root.spawn(5))
        self.arr_rng = arr
        self.env = simpy.Environment()
        self.tz = ZoneInfo(s.run.timezone)
        self.t0 = datetime.combine(s.run.start, time(0), self.tz)
        self.warm = s.run.warmup_days * 1440.0
        self.end = self.warm + s.run.days * 1440.0
        self.tax = default_taxonomy()
        working, self.calendars = _calendars(
            s.run.timezone, s.duties.holidays, s.duties.working_periods
        )
        self.working_cal = working
        self._dt_key = -1.0
        self.t0_ts = self.t0.timestamp()
        self.t0_us = (self.t0 - _EPOCH) // _US
        self.add_us = working.add_us
        self._dt_val = self.t0
        self.policy = CategoryDeadlines(self.tax, self.calendars)
        self.cats, self.cat_p = _taxonomy_rates(s, self.tax)
        self.cat_24x7 = [self.calendars.get(k.calendar) is not working for k in self.cats]
        self.cat_level = [str(k.resolve_level) for k in self.cats]
        self.cat_pos = [self.owner_tab.category_position(k.code) for k in self.cats]
        self.cat_duty = [duty_of(k) for k in self.cats]
        self.cat_resident = [
            (
                s.category(k.code).resident_share
                if s.category(k.code).resident_share is not None
                else s.incidents.resident_share
            )
            for k in self.cats
        ]
        t = s.times
        self.verify_t = DistSampler(t.verify, hnd)
        self.dispatch_t = DistSampler(t.dispatch, hnd)
        self.check_t = DistSampler(t.check, hnd)
        level_dists = {
            "grid": t.handle_grid,
            "community": t.handle_community,
            "street": t.handle_street,
            "department": t.handle_department,
        }
        self.handle_t = [
            DistSampler(s.category(k.code).handle or level_dists[str(k.resolve_level)], hnd)
            for k in self.cats
        ]
        self.forward_t = DistSampler(s.routing.forward, hnd)
        self.direct_t = DistSampler(s.routing.direct, hnd)
        self.delay_t = DistSampler(s.incidents.report_delay, arr)
        self.u_hnd = UniformBuffer(hnd)
        self.u_pat = UniformBuffer(pat)
        self.wrk_rng = wrk
        self.u_mis = UniformBuffer(mis)
        self.return_t = DistSampler(s.routing.return_delay, mis)
        self.misroute_p = s.routing.misroute_probability

        # areas of this street
        grid_pos = h.grid_positions_under(self.street)
        all_grids = h.grids
        communities = h.children(self.street)
        comm_index = {code: i for i, code in enumerate(communities)}
        self.communities = communities
        wpg = s.staffing.workers_per_grid
        base = math.floor(wpg)
        extra_share = wpg - base
        thin = 0 < wpg < self.staff.min_per_grid  # fewer workers than the policy's posts
        self.grids: list[_Grid] = []
        self.grid_of_pos: dict[int, int] = {}
        households = h.grid_households()
        self.hh: list[int] = []
        self.components: list[int] = []
        for i, p in enumerate(grid_pos.tolist()):
            code = all_grids[p]
            parent = h.parent(code)
            draw = base + (1 if wrk.random() < extra_share else 0)
            people = self.staff.grid_people.get(str(code), ())
            if thin:
                people = people[: max(1, draw)]
            if not people:  # a grid without staff in the roster: one stand-in worker
                people = (PersonId(f"{code}-W1"),)
            g = _Grid(i, code, comm_index.get(parent, 0) if parent else 0, people, p)
            self.grids.append(g)
            self.grid_of_pos[p] = i
            self.hh.append(int(households[p]))
            self.components.append(sum(n for name, n in h.area(code).components if name))
        self.comm_hh = np.zeros(len(communities))
        for g, hh in zip(self.grids, self.hh, strict=True):
            self.comm_hh[g.community] += hh
        # community boxes (incident points are drawn in them) as arrays: no loop per incident
        boxes = np.full((len(communities), 4), math.nan)
        for j, code in enumerate(communities):
            poly = h.area_polygon(code)
            if poly is not None:
                boxes[j] = poly.bounds
        self.box_x0, self.box_y0 = boxes[:, 0], boxes[:, 1]
        self.box_w, self.box_h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        comm_first_grid = [0] * len(communities)
        for g in reversed(self.grids):
            comm_first_grid[g.community] = g.index
        self.comm_first = np.array(comm_first_grid, dtype=np.int64)
        # grid position in the city -> grid index in this street (-1: another street)
        self.grid_lut = np.full(len(all_grids), -1, np.int64)
        for p, i in self.grid_of_pos.items():
            self.grid_lut[p] = i
        st = s.staffing
        self.comm_owner = [f"community:{code}" for code in communities]
        self.street_owner = f"street:{self.street}"
        self.pools: dict[str, _Pool] = {}
        for code in communities:
            self.pools[f"community:{code}"] = _Pool(f"community:{code}", st.community_staff)
        # street and department staff scale with the street's size (per 50 grids)
        size = max(1.0, len(self.grids) / 50.0)
        self.pools[f"street:{self.street}"] = _Pool(
            f"street:{self.street}", math.ceil(st.street_staff * size)
        )
        self.dept_staff = math.ceil(st.department_staff * size)
        for d in sorted(self.owner_tab.owners):
            self.pools[d] = _Pool(f"{d}@{self.street}", self.dept_staff)
        self.departments = sorted(self.owner_tab.owners)
        self.comm_grids: list[list[int]] = [[] for _ in communities]
        for g in self.grids:
            self.comm_grids[g.community].append(g.index)

        # actors
        self.desk = Actor(PersonId(f"desk:{self.street}"), DeskRole.DISPATCHER)
        self.system = Actor(PersonId("system"), DeskRole.SYSTEM)
        self.checker = Actor(PersonId(f"checker:{self.street}"), DeskRole.CHECKER)
        self.resident = Actor(PersonId("resident"), DeskRole.REPORTER)

        # state and counters
        self.working = False
        self.on_call = False
        self.unsigned: list[_Incident] = []
        self.actors: dict[tuple[PersonId, DeskRole, str], Actor] = {}
        self.block = s.duties.block_minutes
        self.n_case = 0
        self.logs: dict[str, list[CaseEvent]] = {}
        self.finished: list[CaseEvent] = []
        self.chunks: list[CaseFacts] = []
        self.open_cases = 0
        self.ctr: dict[str, float] = dict.fromkeys(
            (
                "incidents", "incidents_measured", "reported", "latent_found", "latent_open",
                "pending_report", "closed", "cancelled", "severity_found_sum", "patrols_due",
                "patrols_done", "visit_due_min", "visit_done_min", "inspect_due_min",
                "inspect_done_min", "emergency_interrupts", "reworks", "esc_escalations",
                "esc_warnings", "esc_supervisions", "misroutes", "returns",
            ),
            0.0,
        )  # fmt: skip
        ng = len(self.grids)
        self.t_patrol = [0.0] * ng
        self.t_visit = [0.0] * ng
        self.t_inspect = [0.0] * ng
        self.t_case = [0.0] * ng
        self.work_min = [0.0] * ng
        self.g_patrols = [0] * ng
        self.g_found = [0] * ng
        self.backlog: list[tuple[int, int]] = []
        self.events_base = 0
        self.keep_events = keep_events
        self.kept: list[CaseEvent] = []

        # escalation: rules, a heap of (instant the light may change, seq, incident,
        # stage_seq, exact) and the cases a non-time trigger may have fired for
        self.rules: tuple[EscalationRule, ...] = s.escalation.rule_set()
        self.esc_on = bool(self.rules)
        self.esc_heap: list[tuple[float, int, _Incident, int, tuple[float, float] | None]] = []
        self.esc_seq = 0
        self.esc_dirty: list[_Incident] = []
        # stage changes to watch, armed lazily at the next sweep (most are gone by then):
        # (heap sequence number taken at the change, incident, case at the change, minute)
        self.to_arm: list[tuple[int, _Incident, Case, float]] = []
        # escalations deferred because the case is being worked on: (incident, stage_seq,
        # light turns), asked again at the first sweep after the work ends
        self.esc_waiting: list[tuple[_Incident, int, tuple[float, float] | None]] = []
        self.esc_cand: dict[str, _Incident] = {}
        triggers = {r.trigger for r in self.rules}
        self.watch_time = bool(triggers & {Trigger.STAGE_OVERDUE, Trigger.YELLOW_REACHED})
        sev = [r.threshold for r in self.rules if r.trigger is Trigger.SEVERITY]
        self.sev_min = min(sev) if sev else 99
        dirty: set[Action] = set()
        if Trigger.BUCK_PASSING in triggers:
            dirty |= {Action.APPROVE_RETURN, Action.TRANSFER}
        if Trigger.BEYOND_AUTHORITY in triggers:
            dirty.add(Action.DECLARE_BEYOND_AUTHORITY)
        if Trigger.REOPENED in triggers:
            dirty.add(Action.REOPEN)
        self.dirty_actions = frozenset(dirty)
        # stage limits in minutes per category (wall-time lower bounds of the light's turns)
        self.limit_min: list[dict[Stage, float]] = [
            {st: lim.total_seconds() / 60.0 for st, lim in k.limits.items()} for k in self.cats
        ]
        self.rule_ctr: dict[str, float] = {r.name: 0.0 for r in self.rules}
        # (phase, stage epoch, rules fired) -> the rules of the phase that can still fire
        self.rules_left: dict[
            tuple[int, int, frozenset[tuple[str, int]]], tuple[EscalationRule, ...]
        ] = {}
        self.rules_by_phase = (
            tuple(r for r in self.rules if r.trigger not in _TIMED),
            tuple(r for r in self.rules if r.trigger is not Trigger.STAGE_OVERDUE),
            self.rules,
        )

    # -- time ---------------------------------------------------------------------------

    def dt(self, minutes: float) -> datetime:
        """The aware instant of simulated minute `minutes` (the last one is cached: several
        actions often happen at one instant, and building a datetime costs ~1 µs)."""
        if minutes == self._dt_key:
            return self._dt_val
        val = self.t0 + _US * round(minutes * 60e6)  # faster than timedelta(...)
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
        inc: _Incident,
        action: Action,
        actor: Actor,
        reason: str = "",
        payload: Mapping[str, Any] | None = None,
    ) -> None:
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
                action is _A.REGISTER and case.info.severity >= self.sev_min
            ):
                self.esc_dirty.append(inc)

    def finish(self, inc: _Incident) -> None:
        assert inc.case is not None
        self.open_cases -= 1
        if inc.log is not None:
            del self.logs[inc.case.id]
            self.finished.extend(inc.log)
            if self.keep_events:
                self.kept.extend(inc.log)
            inc.log = None
            if len(self.finished) >= _FLUSH_EVENTS:
                self.flush()
        inc.case = None

    def flush(self, as_of: datetime | None = None) -> None:
        if self.finished:
            self.chunks.append(EventTable.from_events(self.finished).facts(as_of))
            self.finished = []

    def open_case(self, inc: _Incident, actor: Actor, channel: str) -> None:
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

    # -- incidents ----------------------------------------------------------------------

    def arrivals(self) -> Generator[None, Any, None]:
        resume: Resume = yield
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
                inc = _Incident(gi, k, severity[k], measured)
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

    def _report_cb(self, ev: Any) -> None:
        self.resident_report(ev.value)

    def resident_report(self, inc: _Incident) -> None:
        self.ctr["pending_report"] -= 1
        if self.env.now >= self.end:
            self.ctr["pending_report"] += 1  # reported after the horizon: still pending
            return
        self.ctr["reported"] += 1
        self.open_case(inc, self.resident, "resident")
        g = self.grids[inc.grid]
        g.queue.push(self.env.now, -10 * inc.severity - _VERIFY, (_VERIFY, inc))
        inc.q = g.queue
        self.wake(g, emergency=inc.severity >= 4)

    # -- grid workers -------------------------------------------------------------------

    def wake(self, g: _Grid, emergency: bool = False) -> None:
        if g.idle:
            if self.on_call or emergency:
                g.idle.pop().succeed()
        elif emergency and g.patrolling:
            self.ctr["emergency_interrupts"] += 1
            patrol = g.patrolling.pop()
            resume = patrol.callbacks[0]  # the patrolling worker's (its only callback)

            def cut_short(_e: Any) -> None:
                # as a SimPy interrupt: the patrol's end no longer resumes the worker
                if patrol.callbacks is not None and resume in patrol.callbacks:
                    patrol.callbacks.remove(resume)
                    resume(_INTERRUPTED)

            _Now(self.env, cut_short)

    def actor(self, person: PersonId, role: DeskRole, unit: str = "") -> Actor:
        """One Actor value per (person, role, unit), built once."""
        key = (person, role, unit)
        a = self.actors.get(key)
        if a is None:
            a = self.actors[key] = Actor(person, role, unit)
        return a

    def responsible(self, inc: _Incident) -> PersonId:
        """The grid's direct responsible person for the case's duty now (the roster's answer
        through `ResponsibilityIndex.direct`), or the grid's first worker when vacant."""
        g = self.grids[inc.grid]
        ts = self.t0_ts + self.env.now * 60.0
        person, _ = self.staff.responsibility.direct(g.code, self.cat_duty[inc.cat], ts)
        return person if person is not None else g.people[0]

    def sign_grid(self, inc: _Incident) -> None:
        """The responsible person signs for a grid case (签收: an acknowledgement in the app)."""
        g = self.grids[inc.grid]
        who = self.responsible(inc)
        self.act(inc, _A.SIGN_FOR, self.actor(who, _A.GRID_WORKER, g.team))
        g.queue.push(self.env.now, -10 * inc.severity - _HANDLE, (_HANDLE, inc))
        inc.q = g.queue
        self.wake(g, emergency=inc.severity >= 4)

    def worker(self, g: _Grid, person: PersonId) -> Generator[None, Any, None]:
        """One grid worker: between activities it takes the next task of its grid — a case
        by priority (on call, or an emergency), else in working periods a due patrol, a
        visit block, an inspection block — or waits to be woken (no polling)."""
        resume: Resume = yield
        env = self.env
        timeout = env.timeout
        new_event = env.event
        me = self.actor(person, _A.GRID_WORKER)
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
            if heap and (self.on_call or heap[0][0] <= -40):
                start = env.now
                task, inc = gq.pop(start)
                inc.q = None
                if task == _VERIFY:
                    timeout(verify_t()).callbacks.append(resume)
                    yield
                    t_case[i] += env.now - start
                    self.act(inc, _A.VERIFY, me)
                    self.to_desk(inc)
                else:
                    # The handler of record (who signed for it) stays accountable (首办负责);
                    # whichever teammate is free does the work under that name.
                    case = inc.case
                    who = self.actor(case.handler or me.id, _A.GRID_WORKER)
                    if case.state == "signed_for":
                        self.act(inc, _A.START, who)
                    inc.busy = True
                    timeout(handle_t[inc.cat]()).callbacks.append(resume)
                    yield
                    inc.busy = False
                    t_case[i] += env.now - start
                    self.act(inc, _A.HANDLE, who)
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
                if (yield) is _INTERRUPTED:  # an emergency (the only interruption there is)
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

    def patrol_found(self, g: _Grid, me: Actor, frac: float) -> None:
        """A patrol (`frac` of it walked) passed the grid's latent incidents: each is found
        with the discovery probability, grown in severity for the time it went unseen."""
        p = self.s.incidents.discovery_probability * frac
        keep: list[_Incident] = []
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
                self.act(inc, _A.VERIFY, me)
                self.to_desk(inc)
            else:
                keep.append(inc)
        g.latent = keep

    # -- desk, routing and levels -------------------------------------------------------

    def to_desk(self, inc: _Incident) -> None:
        # the dispatch desk (supervision centre, 12345 hotline) works round the clock
        self.env.timeout(self.dispatch_t()).callbacks.append(lambda _e: self.dispatch(inc))

    def owner_of(self, inc: _Incident, level: str) -> str:
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

    def dispatch(self, inc: _Incident) -> None:
        self.act(inc, _A.REGISTER, self.desk)
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

    def send(self, inc: _Incident, level: str, arrive: Any) -> None:
        """The desk dispatches to the owner at `level`; a misroute (chance
        `routing.misroute_probability`) goes to a wrong owner of that level (`misrouted`).
        `arrive(inc)` follows."""
        right = self.owner_of(inc, level)
        wrong = None
        if self.misroute_p > 0.0 and self.u_mis() < self.misroute_p:
            wrong = self.wrong_owner(inc, level)
        self.act(inc, _A.DISPATCH, self.desk, "", {"to": wrong or right, "level": level})
        if wrong is None:
            arrive(inc)
        else:
            self.misrouted(inc, level, arrive, right, wrong)

    def misrouted(self, inc: _Incident, level: str, arrive: Any, right: str, wrong: str) -> None:
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
                _A.REQUEST_RETURN,
                self.owner_actor(inc, wrong),
                f"not ours: {self.cats[inc.cat].code} belongs to {right} (回退)",
            )
            self.env.timeout(self.dispatch_t()).callbacks.append(approve)

        def approve(_e: Any) -> None:
            if inc.gen != gen:
                return
            self.act(inc, _A.APPROVE_RETURN, self.desk, "", {"to": right, "level": level})
            if inc.measured:
                self.ctr["returns"] += 1
            arrive(inc)

        self.env.timeout(when - self.env.now).callbacks.append(request)

    def wrong_owner(self, inc: _Incident, level: str) -> str | None:
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

    def owner_actor(self, inc: _Incident, owner: str) -> Actor:
        """Someone acting for the owner unit `owner` (a grid worker, or a level handler)."""
        if owner.startswith("team:"):
            code = owner[5:]
            for g in self.grids:
                if g.code == code:
                    return self.actor(g.people[0], _A.GRID_WORKER, owner)
        pool = self.pools[owner]
        return self.actor(PersonId(pool.staff[0]), _A.HANDLER, owner)

    def relay(self, inc: _Incident, level: str, target: str) -> None:
        if level_rank(level) >= level_rank(target):
            self.to_pool(inc, level)
            return
        nxt = _LEVELS[_LEVELS.index(level) + 1]
        d = self.after_work(self.env.now, self.forward_t(), inc.cat)
        gen = inc.gen

        def forward(_e: Any) -> None:
            if inc.gen != gen:  # an escalation took the case meanwhile
                return
            self.act(
                inc,
                _A.ESCALATE,
                self.system,
                f"beyond {level} authority",
                {"to": self.owner_of(inc, nxt), "level": nxt},
            )
            self.relay(inc, nxt, target)

        self.env.timeout(d - self.env.now).callbacks.append(forward)

    # -- escalation sweeps --------------------------------------------------------------

    def stage_began(self, inc: _Incident, case: Case, m: float) -> None:
        """`case` entered a new stage at minute `m`: note when, and (if a time rule
        watches) queue it to be armed at the next sweep, in the order of the changes."""
        inc.stage_at = m
        if self.watch_time:
            self.esc_seq += 1
            self.to_arm.append((self.esc_seq, inc, case, m))

    def arm_pending(self) -> None:
        """Arm the stage changes since the last sweep whose case is still in that stage
        (the others would be skipped when popped: they are dropped unpushed instead)."""
        pending, self.to_arm = self.to_arm, []
        for seq, inc, case, at in pending:
            c = inc.case
            if c is not None and c.stage_seq == case.stage_seq:
                self.arm(seq, inc, case, at)

    def arm(self, seq: int, inc: _Incident, case: Case, now: float) -> None:
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
            key = inc.due_at + 0.8 * budget.total_seconds() / 60.0
        else:
            lim = self.limit_min[inc.cat].get(stage)
            if lim is None:
                return
            key = now + 0.8 * lim
        heapq.heappush(self.esc_heap, (key, seq, inc, case.stage_seq, None))

    def light_turns(self, inc: _Incident, case: Case) -> tuple[float, float] | None:
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
            self.after_work(start, 0.8 * lim, inc.cat),
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
        cand: dict[str, tuple[_Incident, tuple[float, float] | None, int, int]] = {}
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
                epoch = _STAGE_ORDER[stage]
                memo = (phase, epoch, fired)
                left = self.rules_left.get(memo)
                if left is None:
                    left = self.rules_left[memo] = tuple(
                        r for r in rules if r.trigger not in _TIMED or (r.name, epoch) not in fired
                    )
                rules = left
            if rules:
                groups.setdefault(rules, []).append(c)
        for rules, cases in groups.items():
            due = due_escalations(cases, when, rules, policy=self.policy, owner_for=self.owner_for)
            for e in due:
                inc = cand[e.case_id][0]
                if e.action is _A.ESCALATE and inc.busy:
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
            else:
                continue  # red seen: the stage's time rules have fired
            self.push(key, inc, c.stage_seq, turns)

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

    def push(
        self, key: float, inc: _Incident, sseq: int, turns: tuple[float, float] | None
    ) -> None:
        """Watch `inc` again at `key` (sim minutes) while it is in stage `sseq`."""
        self.esc_seq += 1
        heapq.heappush(self.esc_heap, (key, self.esc_seq, inc, sseq, turns))

    def owner_for(self, case: Case, level: str) -> str:
        """`gridcore.escalation.OwnerFor`: the sim's real owner of the case at `level`."""
        return self.owner_of(self.esc_cand[case.id], level)

    def apply_escalation(self, inc: _Incident, e: Escalation) -> None:
        """Apply a rule's action; an escalation moves the case to its new owner's queue."""
        c = inc.case
        assert c is not None
        if e.action is not _A.ESCALATE:
            self.act(inc, e.action, self.system, e.reason, e.payload)
        else:
            # take it from wherever it waits: a queue, the unsigned list, a pending hop
            inc.gen += 1
            if inc.q is not None:
                inc.q.discard(self.env.now, inc)
                inc.q = None
            elif c.level == "grid" and c.state == "dispatched" and inc in self.unsigned:
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

    def to_grid(self, inc: _Incident) -> None:
        assert inc.case is not None
        if inc.case.state != "dispatched":  # reworked: back to its handler's queue
            g = self.grids[inc.grid]
            g.queue.push(self.env.now, -10 * inc.severity - _HANDLE, (_HANDLE, inc))
            inc.q = g.queue
            self.wake(g, emergency=inc.severity >= 4)
        elif self.on_call or inc.severity >= 4:
            self.sign_grid(inc)
        else:
            self.unsigned.append(inc)

    def to_pool(self, inc: _Incident, level: str) -> None:
        pool = self.pools[self.owner_of(inc, level)]
        pool.queue.push(self.env.now, -inc.severity, inc)
        inc.q = pool.queue
        if pool.free:
            self.pool_start(pool)

    def pool_start(self, pool: _Pool) -> None:
        inc: _Incident = pool.queue.pop(self.env.now)
        inc.q = None
        inc.busy = True
        person = pool.free.pop()
        assert inc.case is not None
        actor = self.actor(PersonId(person), _A.HANDLER)
        if inc.case.state == "dispatched":
            unit = inc.case.owner or ""
            self.act(inc, _A.SIGN_FOR, self.actor(actor.id, _A.HANDLER, unit))
            self.act(inc, _A.START, actor)
        else:
            actor = self.actor(inc.case.handler or actor.id, _A.HANDLER)
        end = self.after_work(self.env.now, self.handle_t[inc.cat](), inc.cat)

        def done(_e: Any) -> None:
            inc.busy = False
            self.act(inc, _A.HANDLE, actor)
            pool.free.append(person)
            if pool.queue.heap:
                self.pool_start(pool)
            self.to_check(inc, pool)

        self.env.timeout(end - self.env.now).callbacks.append(done)

    def to_check(self, inc: _Incident, pool: _Pool | None) -> None:
        d = self.after_work(self.env.now, self.check_t(), inc.cat)

        def check(_e: Any) -> None:
            if self.u_hnd() < self.s.times.rework_probability:
                self.ctr["reworks"] += 1
                self.act(inc, _A.REWORK, self.checker, "check failed (返工)")
                if pool is None:
                    self.to_grid(inc)
                else:
                    pool.queue.push(self.env.now, -inc.severity - 10, inc)
                    inc.q = pool.queue
                    if pool.free:
                        self.pool_start(pool)
                return
            self.act(inc, _A.CLOSE, self.checker)
            self.ctr["closed"] += 1
            self.finish(inc)

        self.env.timeout(d - self.env.now).callbacks.append(check)

    # -- the working day ----------------------------------------------------------------

    def clock(self) -> Generator[None, Any, None]:
        resume: Resume = yield
        env, s = self.env, self.s
        duties = s.duties
        periods = [tuple(_clock_minutes(x) for x in p.split("-")) for p in duties.working_periods]
        starts = [_clock_minutes(x) for x in duties.patrol_starts]
        n_p = duties.patrols_per_day
        if n_p > len(starts):
            first, last = periods[0][0], periods[-1][1] - duties.patrol_minutes
            starts = [int(first + (last - first) * k / max(1, n_p - 1)) for k in range(n_p)]
        starts = sorted(starts[:n_p])
        calls = [tuple(_clock_minutes(x) for x in p.split("-")) for p in duties.on_call_periods]
        rank = {"con": 0, "on": 1, "patrol": 2, "off": 3, "coff": 4}
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
            marks.sort(key=lambda m: (m[0], rank[m[1]]))
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

    def wake_all(self, g: _Grid) -> None:
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

    # -- run --------------------------------------------------------------------------

    def snapshot(self) -> Generator[None, Any, None]:
        """At the end of the warm-up, zero the duty-time accumulators."""
        resume: Resume = yield
        if self.warm > 0:
            self.env.timeout(self.warm).callbacks.append(resume)
            yield
            for arr in (self.t_patrol, self.t_visit, self.t_inspect, self.t_case):
                for j in range(len(arr)):
                    arr[j] = 0.0
            self.ctr["patrols_done"] = 0.0
            for g in self.grids:
                g.queue.area = g.queue.wait_sum = 0.0
                g.queue.arrivals = 0
                g.queue.last = self.warm
            for p in self.pools.values():
                p.queue.area = p.queue.wait_sum = 0.0
                p.queue.arrivals = 0
                p.queue.last = self.warm
        yield  # parked for good (a driven process never returns)

    def run(self, release: bool = False) -> PartitionResult:
        """Simulate the street to the horizon and return its result.

        `release=True` is for a caller that keeps only the result: the street then drops
        its state before the collector resumes, so that reference counting frees it (its
        parked processes and pending callbacks make cycles that would otherwise keep it
        all, for the collector to walk through)."""
        env = self.env
        with _cyclic_gc_paused():
            procs = [self.arrivals(), self.clock(), self.snapshot()]
            if self.esc_on:
                procs.append(self.sweeps())
            procs += [self.worker(g, person) for g in self.grids for person in g.people]
            for gen in procs:
                _start(env, gen)
            env.run(until=self.end)
            res = self.result()
            if release:
                for gen in procs:
                    gen.close()
                vars(self).clear()
            return res

    def result(self) -> PartitionResult:
        end_dt = self.dt(self.end)
        # the horizon stops SimPy before the clock's last end-of-day: count that day here
        last_day = math.ceil(self.end / 1440.0) - 1 - int(self.warm // 1440.0)
        if not self.backlog or self.backlog[-1][0] < last_day:
            self.backlog.append((last_day, self.open_cases))
        # open cases at the horizon: their events as they stand
        for evs in self.logs.values():
            self.finished.extend(evs)
            if self.keep_events:
                self.kept.extend(evs)
        self.logs = {}
        self.flush(end_dt)
        facts = concat_facts(self.chunks, end_dt) if self.chunks else None
        self.chunks = []
        c = self.ctr
        c["open_cases"] = float(self.open_cases)
        c["grids"] = float(len(self.grids))
        c["workers"] = float(sum(g.workers for g in self.grids))
        c["latent_open"] = float(sum(len(g.latent) for g in self.grids))
        for name, arr in (
            ("t_patrol", self.t_patrol), ("t_visit", self.t_visit),
            ("t_inspect", self.t_inspect), ("t_case", self.t_case), ("t_work", self.work_min),
        ):  # fmt: skip
            c[name] = math.fsum(arr)
        for name, n in self.rule_ctr.items():
            c[f"rule:{name}"] = n
        c["visit_done_min"] = c["t_visit"]
        c["inspect_done_min"] = c["t_inspect"]
        rows = []
        for g in self.grids:
            i = g.index
            busy = self.t_patrol[i] + self.t_visit[i] + self.t_inspect[i] + self.t_case[i]
            rows.append(
                (
                    g.code,
                    g.workers,
                    self.hh[i],
                    round(self.t_patrol[i], 6),
                    round(self.t_visit[i], 6),
                    round(self.t_inspect[i], 6),
                    round(self.t_case[i], 6),
                    round(max(0.0, self.work_min[i] - busy), 6),
                    self.g_patrols[i],
                    self.g_found[i],
                    len(g.latent),
                )
            )
        queues: dict[str, list[float]] = {}
        for q in [g.queue for g in self.grids] + [p.queue for p in self.pools.values()]:
            area, n, wait = q.close(self.end)
            acc = queues.setdefault(q.kind, [0.0, 0.0, 0.0])
            acc[0] += area
            acc[1] += n
            acc[2] += wait
        return PartitionResult(
            street=str(self.street),
            facts=facts,
            counters=tuple(sorted(c.items())),
            grid_rows=tuple(rows),
            backlog=tuple(self.backlog),
            queues=tuple((k, v[0], int(v[1]), v[2]) for k, v in sorted(queues.items())),
            events=_event_count(self.env),
        )


# -- facts: concatenate chunks -------------------------------------------------------


def concat_facts(chunks: Sequence[CaseFacts], as_of: datetime) -> CaseFacts:
    """One `CaseFacts` from several (`CaseFacts.concat`), as of `as_of`."""
    merged = CaseFacts.concat(chunks)
    as_of_us = round(as_of.timestamp() * 1e6)
    if merged.as_of_us != as_of_us:
        merged = attrs.evolve(merged, as_of_us=as_of_us)
    return merged


def run_partition(scenario: Scenario, replication: int, street_index: int) -> PartitionResult:
    """Simulate one street of one replication (pure: same input, same result)."""
    return _Street(scenario, replication, street_index).run(release=True)


def partition_events(
    scenario: Scenario, replication: int, street_index: int
) -> tuple[PartitionResult, tuple[CaseEvent, ...]]:
    """`run_partition`, plus the events of the measured cases (closed ones first, in the
    order they closed, then the open ones): the real case logs, for tests and inspection."""
    street = _Street(scenario, replication, street_index, keep_events=True)
    res = street.run()
    return res, tuple(street.kept)


_GRID_COLUMNS = (
    "grid", "workers", "households", "patrol_min", "visit_min", "inspection_min", "case_min",
    "idle_min", "patrols", "latent_found", "latent_open",
)  # fmt: skip

_METRIC_COLUMNS = (
    ("n_cases", "cases"),
    ("closure_rate", "closure_rate"),
    ("on_time_rate", "on_time_rate"),
    ("accurate_dispatch_rate", "accurate_dispatch_rate"),
    ("rework_rate", "rework_rate"),
    ("share_grid", "share_resolved_grid"),
    ("share_community", "share_resolved_community"),
    ("share_street", "share_resolved_street"),
    ("share_department", "share_resolved_department"),
)


def merge_partitions(
    scenario: Scenario, replication: int, parts: Sequence[PartitionResult]
) -> ReplicationResult:
    """A replication's result from its streets' results."""
    tz = ZoneInfo(scenario.run.timezone)
    t0 = datetime.combine(scenario.run.start, time(0), tz)
    end_dt = t0 + timedelta(days=scenario.run.warmup_days + scenario.run.days)
    chunks = [p.facts for p in parts if p.facts is not None and len(p.facts)]
    ctr: dict[str, float] = {}
    for p in parts:
        for k, v in p.counters:
            ctr[k] = ctr.get(k, 0.0) + v
    m: dict[str, float] = {}
    tables: list[Table] = []
    checks: list[Check] = []
    if chunks:
        facts = concat_facts(chunks, end_dt)
        total = compute_metrics(facts).to_rows()[0]
        for src, dst in _METRIC_COLUMNS:
            if src in total:
                m[dst] = _f(total[src])
        for key in ("response_s", "resolution_s"):
            for stat in ("mean", "p90"):
                col = f"{key}_{stat}"
                if col in total:
                    unit = 60.0 if key == "response_s" else 3600.0
                    name = "response_minutes" if key == "response_s" else "resolution_hours"
                    m[f"{name}_{stat}"] = _f(total[col]) / unit
        level_rows, level_metrics = _levels(facts)
        m.update(level_metrics)
        tables.append(Table("levels", _LEVEL_COLUMNS, level_rows))
        tables.append(_case_table(facts))
        by_grid = compute_metrics(facts, by="grid")
        cols = [
            c
            for c in (
                "grid",
                "n_cases",
                "n_closed",
                "on_time_rate",
                "response_s_mean",
                "resolution_s_mean",
                "share_grid",
            )
            if c in by_grid.names
        ]
        rows = [tuple(_cell(r[c]) for c in cols) for r in by_grid.to_rows()]
        tables.append(Table("grid_cases", tuple(cols), tuple(rows)))
        n_open = int(total.get("n_open", 0))
    else:
        n_open = 0
    work = ctr.get("t_work", 0.0)
    busy = sum(ctr.get(k, 0.0) for k in ("t_patrol", "t_visit", "t_inspect", "t_case"))
    for k, name in (
        ("t_patrol", "patrol"),
        ("t_visit", "visit"),
        ("t_inspect", "inspection"),
        ("t_case", "case"),
    ):
        m[f"worker_share_{name}"] = ctr.get(k, 0.0) / work if work else math.nan
    m["worker_share_idle"] = max(0.0, work - busy) / work if work else math.nan
    m["worker_utilisation"] = busy / work if work else math.nan
    m["patrol_coverage"] = _ratio(ctr.get("patrols_done", 0.0), ctr.get("patrols_due", 0.0))
    m["visit_rate"] = _ratio(ctr.get("visit_done_min", 0.0), ctr.get("visit_due_min", 0.0))
    m["inspection_rate"] = _ratio(ctr.get("inspect_done_min", 0.0), ctr.get("inspect_due_min", 0.0))
    m["incidents"] = ctr.get("incidents_measured", 0.0)
    found = ctr.get("latent_found", 0.0)
    m["latent_found"] = found
    m["latent_open_end"] = ctr.get("latent_open", 0.0)
    m["severity_at_discovery_mean"] = (
        ctr.get("severity_found_sum", 0.0) / found if found else math.nan
    )
    m["open_cases_end"] = ctr.get("open_cases", 0.0)
    m["emergency_interrupts"] = ctr.get("emergency_interrupts", 0.0)
    m["grids"] = ctr.get("grids", 0.0)
    n_cases = m.get("cases", 0.0)
    for key, name in (
        ("esc_escalations", "escalations"),
        ("esc_warnings", "warnings"),
        ("esc_supervisions", "supervisions"),
        ("returns", "returns"),
    ):
        m[f"{name}_per_100_cases"] = 100.0 * ctr.get(key, 0.0) / n_cases if n_cases else math.nan
    m["misroutes"] = ctr.get("misroutes", 0.0)
    tables.append(_escalation_table(scenario, ctr, n_cases))
    m["workers"] = ctr.get("workers", 0.0)

    # self-checks
    incidents = ctr.get("incidents", 0.0)
    accounted = (
        ctr.get("closed", 0.0)
        + ctr.get("open_cases", 0.0)
        + ctr.get("latent_open", 0.0)
        + ctr.get("pending_report", 0.0)
    )
    checks.append(
        Check(
            "conservation",
            incidents == accounted,
            incidents - accounted,
            0.0,
            "incidents = closed + open cases + latent + reports pending at the horizon",
        )
    )
    checks.append(
        Check(
            "open_cases_in_metrics",
            n_open <= ctr.get("open_cases", 0.0) + 0.5,
            float(n_open),
            0.0,
            "cases open in the metrics <= open cases at the horizon",
        )
    )
    span = (end_dt - t0).total_seconds() / 60.0 - scenario.run.warmup_days * 1440.0
    qs: dict[str, list[float]] = {}
    for p in parts:
        for kind, area, n_in, wait in p.queues:
            acc = qs.setdefault(kind, [0.0, 0.0, 0.0])
            acc[0] += area
            acc[1] += n_in
            acc[2] += wait
    for kind, (area, n, wait) in sorted(qs.items()):
        lc = little_check(f"{kind}_queue", area, int(n), wait / n if n else 0.0, span, 0.05)
        checks.append(
            Check(
                f"little_{kind}_queue",
                lc.ok,
                lc.relative_error,
                lc.tolerance,
                f"L={lc.l_observed:.4g} lambdaW={lc.lambda_w:.4g}",
            )
        )
    grid_rows = tuple(r for p in parts for r in p.grid_rows)
    tables.append(Table("grid_workers", _GRID_COLUMNS, grid_rows))
    backlog: dict[int, int] = {}
    for p in parts:
        for day, n_b in p.backlog:
            backlog[day] = backlog.get(day, 0) + n_b
    tables.append(Table("backlog", ("day", "open_cases"), tuple(sorted(backlog.items()))))
    events = sum(p.events for p in parts)
    m["sim_events"] = float(events)
    return ReplicationResult(
        scenario.name, replication, metrics_record(m), tuple(tables), tuple(checks), events
    )


def _escalation_table(scenario: Scenario, ctr: Mapping[str, float], n_cases: float) -> Table:
    """`escalations`: per rule, the actions it made on measured cases (and per 100 cases)."""
    rows = []
    for r in scenario.escalation.rule_set():
        n = ctr.get(f"rule:{r.name}", 0.0)
        per = _round(100.0 * n / n_cases) if n_cases else None
        rows.append((r.name, r.trigger.value, r.response.value, int(n), per))
    cols = ("rule", "trigger", "response", "count", "per_100_cases")
    return Table("escalations", cols, tuple(rows))


MAX_CASE_ROWS = 100_000
"""Per-case rows in `cases.csv` up to this many cases a replication; above, a histogram."""

_LEVEL_COLUMNS = (
    "level", "cases", "closed", "share", "response_minutes_mean", "resolution_hours_mean",
    "on_time_rate",
)  # fmt: skip

_HIST_EDGES_MIN = (0, 15, 30, 60, 120, 240, 480, 1440, 2880, 7 * 1440, 14 * 1440, 30 * 1440)


def _case_columns(
    facts: CaseFacts,
) -> tuple[list[str], np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per case: resolved level name, response and resolution minutes (NaN: not yet)."""
    from gridcore.metrics import NO_TIME

    lv = facts.resolved_level
    names = facts.level_names
    levels = [names[k] if k >= 0 else "" for k in lv.tolist()]
    rep = facts.reported_us
    sign = facts.first_sign_us
    closed = facts.closed_us
    resp = np.where(sign != NO_TIME, (sign - rep) / 60e6, np.nan)
    resol = np.where(closed != NO_TIME, (closed - rep) / 60e6, np.nan)
    return levels, resp, resol, facts.on_time


def _levels(facts: CaseFacts) -> tuple[tuple[tuple[Any, ...], ...], dict[str, float]]:
    """Per resolving level: cases, closed, share of closed, mean response / resolution."""
    levels, resp, resol, on_time = _case_columns(facts)
    lv = np.array(levels, dtype=object)
    closed = facts.closed
    n_closed = int(closed.sum())
    rows = []
    out: dict[str, float] = {}
    for name in _LEVELS:
        sel = lv == name
        n = int(sel.sum())
        c = int((sel & closed).sum())
        r = resp[sel]
        rr = r[np.isfinite(r)]
        q = resol[sel & closed]
        r_mean = float(rr.mean()) if rr.size else math.nan
        q_mean = float(q.mean()) / 60.0 if q.size else math.nan
        on = float(on_time[sel & closed].mean()) if c else math.nan
        rows.append(
            (
                name,
                n,
                c,
                _round(c / n_closed if n_closed else math.nan),
                _round(r_mean),
                _round(q_mean),
                _round(on),
            )
        )
        out[f"response_minutes_{name}_mean"] = r_mean
        out[f"resolution_hours_{name}_mean"] = q_mean
    return tuple(rows), out


def _round(x: float, nd: int = 6) -> float | None:
    return None if not math.isfinite(x) else round(x, nd)


def _rounded(x: np.ndarray[Any, Any], nd: int) -> list[float | None]:
    """`[_round(v, nd) for v in x]`, the same values, in bulk for all but a few.

    `round(v, nd)` rounds the exact binary value of `v` to `nd` decimals and returns the
    float nearest that decimal: `rint(v * 10**nd) / 10**nd`, unless the product's own
    rounding landed it on a half (rounding is monotonic, so it cannot jump past one).
    Products within two ulps of a half (a margin), NaN, infinities and products past
    2**52 are left to `_round`.
    """
    scale = 10.0**nd
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.asarray(x, np.float64) * scale
        frac = y - np.floor(y)
        doubt = ~(np.abs(frac - 0.5) > 2 * np.spacing(np.abs(y))) | ~(np.abs(y) < 2.0**52)
    out: list[float | None] = (np.rint(y) / scale).tolist()
    for i in np.flatnonzero(doubt).tolist():
        out[i] = _round(float(x[i]), nd)
    return out


def _case_table(facts: CaseFacts) -> Table:
    """`cases`: one row per case, or `case_hist` when a replication has too many cases."""
    levels, resp, resol, on_time = _case_columns(facts)
    if len(facts) <= MAX_CASE_ROWS:
        grids = [facts.grid_names[k] if k >= 0 else "" for k in facts.grid.tolist()]
        cats = [facts.category_names[k] if k >= 0 else "" for k in facts.category.tolist()]
        rows = tuple(
            zip(
                grids,
                cats,
                levels,
                _rounded(resp, 3),
                _rounded(resol, 3),
                on_time.astype(bool).tolist(),
                strict=True,
            )
        )
        cols: tuple[str, ...] = (
            "grid",
            "category",
            "level",
            "response_minutes",
            "resolution_minutes",
            "on_time",
        )
        return Table("cases", cols, rows)
    edges = np.array([*_HIST_EDGES_MIN, np.inf])
    lv = np.array(levels, dtype=object)
    hist: list[tuple[Any, ...]] = []
    for name in _LEVELS:
        sel = lv == name
        for measure, col in (("response", resp), ("resolution", resol)):
            x = col[sel]
            counts, _ = np.histogram(x[np.isfinite(x)], bins=edges)
            for lo, hi, n in zip(edges[:-1], edges[1:], counts.tolist(), strict=True):
                hist.append((name, measure, float(lo), _round(float(hi)), int(n)))
    cols = ("level", "measure", "minutes_from", "minutes_to", "cases")
    return Table("case_hist", cols, tuple(hist))


def _event_count(env: Any) -> int:
    """Events scheduled so far (SimPy numbers them with an itertools counter)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else 0


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _cell(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def run_grid_replication(
    scenario: Scenario, replication: int, seed: np.random.SeedSequence
) -> ReplicationResult:
    """Run one replication of the full grid model (streets one after another)."""
    del seed  # the streets derive their streams from the scenario seed and indexes
    n = len(partitions(scenario))
    parts = [run_partition(scenario, replication, i) for i in range(n)]
    return merge_partitions(scenario, replication, parts)
