"""A street's state: its queues, incidents, grids, pools, and the slotted `StreetState`.

`StreetState` holds everything one street's run reads and writes, built from the
scenario in `__init__` (in parts: inputs, areas, pools, counters, escalation watch); the
behaviour lives in the parts built on it (`bridge`, `workers`, `arrivals`, `desk`,
`watch`, `day`, assembled in `street`). It is slotted: every attribute is declared here,
and a misspelt one is an error, not a new attribute.

Hot path: `Queue.push`/`pop` (two of each per case) and the slotted attribute reads of
every part. What protects them: the golden runs (`tests/sim/test_golden.py`) and the
Little's-law checks of every run (`merge.py`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import simpy

from gridcore._time import epoch_us
from gridcore.cases import Action, Actor, Case, CaseEvent, CategoryDeadlines, DeskRole
from gridcore.categories import Stage, default_taxonomy
from gridcore.escalation import EscalationRule, Trigger
from gridcore.ids import PersonId
from gridcore.metrics import CaseFacts
from gridcore.sim.inputs import (
    Staff,
    calendars_for,
    category_rates,
    city_for,
    duty_of,
    partitions,
    routing_index_for,
    staff_for,
)
from gridcore.sim.rng import DistSampler, UniformBuffer
from gridcore.sim.scenario import Scenario

if TYPE_CHECKING:
    from gridcore.clock import WorkingHoursCalendar
    from gridcore.routing import OwnerTable, RoutingIndex

__all__ = [
    "EMERGENCY",
    "EMERGENCY_FIRST",
    "HANDLE",
    "LEVELS",
    "REWORK_RANK",
    "SEVERITY_RANK",
    "VERIFY",
    "Grid",
    "Incident",
    "Pool",
    "Queue",
    "StreetState",
]

LEVELS = ("grid", "community", "street", "department")
"""The levels a case climbs through, bottom up."""

EMERGENCY = 4
"""The severity of an emergency: taken off hours, and it cuts a patrol short."""

VERIFY = 0
HANDLE = 1
"""Task kinds in a grid's queue (of equal severity, a verification goes first)."""

SEVERITY_RANK = 10
"""A grid queue's priority is `-SEVERITY_RANK * severity - task` (the lowest first)."""

EMERGENCY_FIRST = -SEVERITY_RANK * EMERGENCY - VERIFY
"""A grid queue whose first priority is at or below this has an emergency first."""

REWORK_RANK = 10
"""A level queue's priority is `-severity`; a reworked case comes back at
`-severity - REWORK_RANK`, ahead of every new case."""

COUNTERS = (
    "incidents", "incidents_measured", "reported", "latent_found", "latent_open",
    "pending_report", "closed", "cancelled", "severity_found_sum", "patrols_due",
    "patrols_done", "visit_due_min", "visit_done_min", "inspect_due_min",
    "inspect_done_min", "emergency_interrupts", "reworks", "esc_escalations",
    "esc_warnings", "esc_supervisions", "misroutes", "returns",
)  # fmt: skip
"""A street's counters (summed over streets when a replication is merged)."""

TIMED = frozenset({Trigger.STAGE_OVERDUE, Trigger.YELLOW_REACHED})
"""The triggers that fire by time (a deadline's light turning)."""


class Queue:
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
        """Queue `item` at priority `prio` (the lowest first; ties in arrival order)."""
        self.area += len(self.heap) * (now - self.last)
        self.last = now
        self.seq += 1
        self.arrivals += 1
        heapq.heappush(self.heap, (prio, self.seq, now, item))

    def pop(self, now: float) -> Any:
        """Take the first item."""
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


class Incident:
    """One incident of the street: where its case is, and when its stage began."""

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
        self.q: Queue | None = None
        self.gen = 0
        self.busy = False
        # sim minutes when the current stage began and when "due" was last set
        self.stage_at = 0.0
        self.due_at = 0.0
        # the open case's events (measured incidents only): appended per action, no lookup
        self.log: list[CaseEvent] | None = None


class Grid:
    """One grid of the street: its workers, its task queue and its duty pools."""

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
        self.queue = Queue("grid")
        self.idle: list[Any] = []
        self.patrolling: list[Any] = []
        self.patrol_pending = 0
        self.visit_pool = 0.0
        self.inspect_pool = 0.0
        self.latent: list[Incident] = []


class Pool:
    """Staff of a community, street or department share: c servers, priority queue."""

    __slots__ = ("free", "name", "queue", "staff")

    def __init__(self, name: str, staff: int) -> None:
        self.name = name
        self.staff = [f"{name}#{k + 1}" for k in range(staff)]
        self.free = list(reversed(self.staff))
        self.queue = Queue("level")


class StreetState:
    """Everything one street's run reads and writes (slotted; built from the scenario)."""

    __slots__ = (
        "_dt_key",
        "_dt_val",
        "actors",
        "add_us",
        "after_rules",
        "arr_rng",
        "backlog",
        "block",
        "box_h",
        "box_w",
        "box_x0",
        "box_y0",
        "cat_24x7",
        "cat_duty",
        "cat_level",
        "cat_p",
        "cat_pos",
        "cat_resident",
        "cats",
        "check_t",
        "checker",
        "chunks",
        "comm_first",
        "comm_grids",
        "comm_hh",
        "comm_owner",
        "components",
        "ctr",
        "delay_t",
        "departments",
        "desk",
        "direct_t",
        "dirty_actions",
        "dispatch_t",
        "end",
        "env",
        "esc_cand",
        "esc_dirty",
        "esc_heap",
        "esc_on",
        "esc_seq",
        "esc_waiting",
        "finished",
        "forward_t",
        "g_found",
        "g_patrols",
        "grid_lut",
        "grids",
        "handle_t",
        "hh",
        "index",
        "keep_events",
        "kept",
        "limit_min",
        "logs",
        "misroute_p",
        "n_case",
        "on_call",
        "open_cases",
        "owner_tab",
        "policy",
        "pools",
        "procs",
        "resident",
        "return_t",
        "rule_ctr",
        "rules",
        "rules_by_phase",
        "rules_left",
        "s",
        "sev_min",
        "staff",
        "street",
        "street_owner",
        "system",
        "t0",
        "t0_ts",
        "t0_us",
        "t_case",
        "t_inspect",
        "t_patrol",
        "t_visit",
        "to_arm",
        "u_hnd",
        "u_mis",
        "u_pat",
        "unsigned",
        "verify_t",
        "warm",
        "watch_time",
        "work_min",
        "working",
        "working_cal",
    )

    index: RoutingIndex
    owner_tab: OwnerTable
    working_cal: WorkingHoursCalendar
    grids: list[Grid]
    pools: dict[str, Pool]

    def __init__(
        self, scenario: Scenario, replication: int, street_index: int, keep_events: bool = False
    ) -> None:
        self.s = scenario
        self.street = partitions(scenario)[street_index]
        root = np.random.SeedSequence(scenario.run.seed, spawn_key=(replication, street_index))
        # a fifth stream for misrouting: spawn(5)'s first four children are spawn(4)'s
        arr, hnd, pat, wrk, mis = (np.random.default_rng(x) for x in root.spawn(5))
        self._init_inputs()
        self._init_streams(arr, hnd, pat, mis)
        self._init_areas(wrk)
        self._init_pools()
        self._init_counters(keep_events)
        self._init_watch()

    def _init_inputs(self) -> None:
        """The shared inputs (city, routing index, roster), the clock, the categories."""
        s = self.s
        self.index = routing_index_for(s)
        self.owner_tab = self.index.owners
        self.staff: Staff = staff_for(s)
        self.env = simpy.Environment()
        self.t0 = datetime.combine(s.run.start, time(0), ZoneInfo(s.run.timezone))
        self.warm = s.run.warmup_days * 1440.0
        self.end = self.warm + s.run.days * 1440.0
        working, calendars = calendars_for(s)
        self.working_cal = working
        self._dt_key = -1.0
        self._dt_val = self.t0
        self.t0_ts = self.t0.timestamp()
        self.t0_us = epoch_us(self.t0)
        self.add_us = working.add_us
        tax = default_taxonomy()
        self.policy = CategoryDeadlines(tax, calendars)
        self.cats, self.cat_p = category_rates(s, tax)
        self.cat_24x7 = [calendars.get(k.calendar) is not working for k in self.cats]
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

    def _init_streams(
        self,
        arr: np.random.Generator,
        hnd: np.random.Generator,
        pat: np.random.Generator,
        mis: np.random.Generator,
    ) -> None:
        """The samplers of the random streams (arrivals, handling, patrols, misroutes)."""
        s = self.s
        t = s.times
        self.arr_rng = arr
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
        self.u_mis = UniformBuffer(mis)
        self.return_t = DistSampler(s.routing.return_delay, mis)
        self.misroute_p = s.routing.misroute_probability

    def _init_areas(self, wrk: np.random.Generator) -> None:
        """The street's grids (with their workers), communities and their boxes."""
        s = self.s
        h = city_for(s)
        grid_pos = h.grid_positions_under(self.street)
        all_grids = h.grids
        communities = h.children(self.street)
        comm_index = {code: i for i, code in enumerate(communities)}
        wpg = s.staffing.workers_per_grid
        base = math.floor(wpg)
        extra_share = wpg - base
        thin = 0 < wpg < self.staff.min_per_grid  # fewer workers than the policy's posts
        self.grids = []
        grid_of_pos: dict[int, int] = {}
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
            g = Grid(i, code, comm_index.get(parent, 0) if parent else 0, people, p)
            self.grids.append(g)
            grid_of_pos[p] = i
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
        for p, i in grid_of_pos.items():
            self.grid_lut[p] = i
        self.comm_owner = [f"community:{code}" for code in communities]
        self.comm_grids: list[list[int]] = [[] for _ in communities]
        for g in self.grids:
            self.comm_grids[g.community].append(g.index)

    def _init_pools(self) -> None:
        """The staff pools: one per community, the street office, each department's share."""
        st = self.s.staffing
        self.street_owner = f"street:{self.street}"
        self.pools = {}
        for owner in self.comm_owner:
            self.pools[owner] = Pool(owner, st.community_staff)
        # street and department staff scale with the street's size (per 50 grids)
        size = max(1.0, len(self.grids) / 50.0)
        self.pools[self.street_owner] = Pool(self.street_owner, math.ceil(st.street_staff * size))
        dept_staff = math.ceil(st.department_staff * size)
        for d in sorted(self.owner_tab.owners):
            self.pools[d] = Pool(f"{d}@{self.street}", dept_staff)
        self.departments = sorted(self.owner_tab.owners)

    def _init_counters(self, keep_events: bool) -> None:
        """The actors, the run's state, the open cases' logs and the counters."""
        self.desk = Actor(PersonId(f"desk:{self.street}"), DeskRole.DISPATCHER)
        self.system = Actor(PersonId("system"), DeskRole.SYSTEM)
        self.checker = Actor(PersonId(f"checker:{self.street}"), DeskRole.CHECKER)
        self.resident = Actor(PersonId("resident"), DeskRole.REPORTER)
        self.working = False
        self.on_call = False
        self.unsigned: list[Incident] = []
        self.actors: dict[tuple[PersonId, DeskRole, str], Actor] = {}
        self.block = self.s.duties.block_minutes
        self.n_case = 0
        self.logs: dict[str, list[CaseEvent]] = {}
        self.finished: list[CaseEvent] = []
        self.chunks: list[CaseFacts] = []
        self.open_cases = 0
        self.ctr: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        ng = len(self.grids)
        self.t_patrol = [0.0] * ng
        self.t_visit = [0.0] * ng
        self.t_inspect = [0.0] * ng
        self.t_case = [0.0] * ng
        self.work_min = [0.0] * ng
        self.g_patrols = [0] * ng
        self.g_found = [0] * ng
        self.backlog: list[tuple[int, int]] = []
        self.keep_events = keep_events
        self.kept: list[CaseEvent] = []
        self.procs: list[Generator[None, Any, None]] = []

    def _init_watch(self) -> None:
        """The escalation watch: the rules, what they watch, and its queues."""
        self.rules: tuple[EscalationRule, ...] = self.s.escalation.rule_set()
        self.esc_on = bool(self.rules)
        # a heap of (instant the light may change, seq, incident, stage_seq, exact turns)
        self.esc_heap: list[tuple[float, int, Incident, int, tuple[float, float] | None]] = []
        self.esc_seq = 0
        # the cases a non-time trigger may have fired for
        self.esc_dirty: list[Incident] = []
        # stage changes to watch, armed lazily at the next sweep (most are gone by then):
        # (heap sequence number taken at the change, incident, case at the change, minute)
        self.to_arm: list[tuple[int, Incident, Case, float]] = []
        # escalations deferred because the case is being worked on: (incident, stage_seq,
        # light turns), asked again at the first sweep after the work ends
        self.esc_waiting: list[tuple[Incident, int, tuple[float, float] | None]] = []
        self.esc_cand: dict[str, Incident] = {}
        triggers = {r.trigger for r in self.rules}
        self.watch_time = bool(triggers & TIMED)
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
        # time rules that wait for another to fire first (looked at again after red)
        self.after_rules = tuple(r for r in self.rules if r.after and r.trigger in TIMED)
        # (phase, stage epoch, rules fired) -> the rules of the phase that can still fire
        self.rules_left: dict[
            tuple[int, int, frozenset[tuple[str, int]]], tuple[EscalationRule, ...]
        ] = {}
        self.rules_by_phase = (
            tuple(r for r in self.rules if r.trigger not in TIMED),
            tuple(r for r in self.rules if r.trigger is not Trigger.STAGE_OVERDUE),
            self.rules,
        )
