"""One street's simulation, assembled, and the functions that run streets.

A replication is cut into partitions, one per street (escalations stay inside a street;
each street holds its share of every department), each its own small SimPy environment;
partitions can run on separate cores and are merged afterwards (`merge.py`).

`Street` is the street's parts over one slotted state: `arrivals.Arrivals`,
`day.Day`, `watch.Watch` (which builds on `desk.Desk`, which builds on
`workers.Workers`, on `bridge.Bridge`, on `state.StreetState`). Its run starts every
driven process (`_engine.start`), runs SimPy to the horizon and collects the result.

Event budget per case: occurrence 1, resident report 1, verify task 2 (wake +
timeout), desk 1, each relay hop 1, handling 1-2, check 1: about 8-10 SimPy events.
Duties: a patrol, a visit block and an inspection block are one timeout each.

Not itself a hot path: the parts are (see their docstrings). The golden runs
(`tests/sim/test_golden.py`) hold the whole street's output byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import attrs
import numpy as np

from gridcore.cases import CaseEvent, event_to_json
from gridcore.sim.inputs import partitions
from gridcore.sim.model._engine import Resume, event_count, gc_paused, start
from gridcore.sim.model.arrivals import Arrivals
from gridcore.sim.model.day import Day
from gridcore.sim.model.merge import (
    CaseRowSink,
    PartitionResult,
    ReplicationFold,
    concat_facts,
)
from gridcore.sim.model.state import StreetState
from gridcore.sim.model.watch import Watch
from gridcore.sim.results import ReplicationResult
from gridcore.sim.scenario import Scenario

__all__ = ["Street", "partition_events", "run_grid_replication", "run_partition"]


class Street(Arrivals, Day, Watch):
    """One street's simulation (a mutable object that owns its SimPy environment)."""

    __slots__ = ()

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

    def run(self, *, pause_gc: bool = False, release: bool = False) -> PartitionResult:
        """Simulate the street to the horizon and return its result.

        `pause_gc=True` pauses the cyclic garbage collector for the run
        (`_engine.gc_paused`: about 13-15% less CPU time; process-wide, restored after).
        `release=True` is for a caller that keeps only the result: the street then drops
        its state (`release`) before the collector resumes."""
        with gc_paused(pause_gc):
            procs = [self.arrivals(), self.clock(), self.snapshot()]
            if self.esc_on:
                procs.append(self.sweeps())
            procs += [self.worker(g, person) for g in self.grids for person in g.people]
            self.procs = procs
            for gen in procs:
                start(self.env, gen)
            self.env.run(until=self.end)
            res = self.result()
            if release:
                self.release()
            return res

    def release(self) -> None:
        """Close the parked processes and drop the state, so that reference counting frees
        the run (its parked processes and pending callbacks make cycles that would
        otherwise keep it all, for the collector to walk through). The street is unusable
        after."""
        for gen in self.procs:
            gen.close()
        for name in StreetState.__slots__:
            if hasattr(self, name):
                delattr(self, name)

    def result(self) -> PartitionResult:
        """The street's result at the horizon (its open cases' events as they stand)."""
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
            events=event_count(self.env),
        )


def run_partition(
    scenario: Scenario,
    replication: int,
    street_index: int,
    *,
    pause_gc: bool = False,
    events: bool = False,
) -> PartitionResult:
    """Simulate one street of one replication (pure: same input, same result).

    `pause_gc=True` pauses the cyclic garbage collector while the street runs (faster;
    see `Street.run`). `events=True` also returns the measured cases' events as JSON
    lines (`PartitionResult.event_lines`, in `partition_events`' order)."""
    street = Street(scenario, replication, street_index, keep_events=events)
    res = street.run(pause_gc=pause_gc)
    if events:
        res = attrs.evolve(res, event_lines="".join(event_to_json(e) + "\n" for e in street.kept))
    street.release()
    return res


def partition_events(
    scenario: Scenario, replication: int, street_index: int
) -> tuple[PartitionResult, tuple[CaseEvent, ...]]:
    """`run_partition`, plus the events of the measured cases (closed ones first, in the
    order they closed, then the open ones): the real case logs, for tests and inspection."""
    street = Street(scenario, replication, street_index, keep_events=True)
    res = street.run()
    return res, tuple(street.kept)


def run_grid_replication(
    scenario: Scenario,
    replication: int,
    seed: np.random.SeedSequence,
    *,
    pause_gc: bool = False,
    sink: CaseRowSink | None = None,
    events: bool = False,
) -> ReplicationResult:
    """Run one replication of the full grid model (streets one after another, each folded
    in and let go as it ends; per-case rows, and with `events` the case events, to `sink`
    when given)."""
    del seed  # the streets derive their streams from the scenario seed and indexes
    fold = ReplicationFold(scenario, replication, sink)
    for i in range(len(partitions(scenario))):
        fold.add(run_partition(scenario, replication, i, pause_gc=pause_gc, events=events))
    return fold.result()
