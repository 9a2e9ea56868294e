"""Running scenarios: one replication, all replications in parallel, and comparisons.

`run_replication(scenario, i)` is a pure function of the scenario and `i`: its
random streams come from `numpy.random.SeedSequence(seed).spawn(n)[i]` (which does
not depend on n), so replications can run anywhere in any order and give the same
numbers. `run_scenario` runs them on a `concurrent.futures` executor (a process pool
over the machine's cores by default; a Dask client's `get_executor()` works too).
`compare` runs a base and a what-if with the same seeds: common random numbers.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import attrs
import numpy as np

from gridcore.errors import SimulationError
from gridcore.sim.model.merge import CaseRowSink
from gridcore.sim.pool import MAX_WORKERS, process_pool, stop_pool
from gridcore.sim.results import (
    Check,
    Comparison,
    ReplicationResult,
    ScenarioResult,
    metrics_record,
)
from gridcore.sim.scenario import Scenario

__all__ = [
    "Progress",
    "compare",
    "paired",
    "replication_seed",
    "run_replication",
    "run_scenario",
    "side_progress",
]

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each finished replication."""


def replication_seed(scenario: Scenario, replication: int) -> np.random.SeedSequence:
    """The seed sequence of replication `i`: `SeedSequence(seed).spawn(n)[i]` for any n > i."""
    if replication < 0:
        raise SimulationError(f"replication {replication!r}: expected an index >= 0")
    return np.random.SeedSequence(scenario.run.seed, spawn_key=(replication,))


def run_replication(
    scenario: Scenario,
    replication: int,
    *,
    pause_gc: bool = False,
    case_rows: CaseRowSink | None = None,
    events: bool = False,
) -> ReplicationResult:
    """Run replication number `replication` of the scenario (pure: same input, same result).

    `pause_gc=True` pauses Python's cyclic garbage collector while each street runs
    (about 13-15% less CPU time; process-wide, restored after: see
    `gridcore.sim.model._engine.gc_paused`). The command line asks for it.
    `case_rows`: where the per-case rows (and with `events` the case events) go as each
    street ends (see `run_scenario`)."""
    seed = replication_seed(scenario, replication)
    if scenario.queue_only is not None:
        from gridcore.sim.queue import run_mmc

        metrics, little, n_events = run_mmc(scenario.queue_only, scenario.run, seed)
        checks = (
            Check(
                "little_queue",
                little["relative_error"] <= little["tolerance"]
                or little["relative_error"] != little["relative_error"],
                little["relative_error"],
                little["tolerance"],
                "L = lambda W on the waiting line",
            ),
        )
        return ReplicationResult(
            scenario.name, replication, metrics_record(metrics), (), checks, n_events
        )
    from gridcore.sim.model import run_grid_replication

    return run_grid_replication(
        scenario, replication, seed, pause_gc=pause_gc, sink=case_rows, events=events
    )


def _grid_parallel(
    scenario: Scenario,
    ex: Executor,
    progress: Progress | None,
    pause_gc: bool,
    case_rows: CaseRowSink | None,
    events: bool,
) -> list[ReplicationResult]:
    """Every (replication, street) as its own task, folded per replication in order.

    The same numbers as `run_replication` (each street's streams depend only on the
    seed and the indexes), but one replication can use every core. At most
    `in_flight(ex)` tasks are submitted and not yet folded, so the results waiting for
    their turn stay few however long the run. On any exception (Ctrl-C included) it
    propagates at once; whoever owns the executor stops it (`gridcore.sim.pool.stop_pool`:
    `run_scenario` for its own pool, the command line for its `--workers`/`--executor`).
    """
    from gridcore.sim.model import ReplicationFold, partitions, run_partition

    n = scenario.run.replications
    m = len(partitions(scenario))
    tasks = iter([(i, j) for i in range(n) for j in range(m)])
    limit = in_flight(ex)  # once: a Dask executor asks its scheduler
    window: deque[Future[Any]] = deque()

    def top_up() -> None:
        while len(window) < limit:
            task = next(tasks, None)
            if task is None:
                return
            i, j = task
            keep = events and i == 0
            window.append(ex.submit(run_partition, scenario, i, j, pause_gc=pause_gc, events=keep))

    out = []
    done = 0
    for i in range(n):
        fold = ReplicationFold(scenario, i, case_rows)
        for _ in range(m):
            top_up()
            fold.add(window.popleft().result())
            done += 1
            if progress is not None:
                progress(done, n * m)
        out.append(fold.result())
    return out


def in_flight(ex: Executor) -> int:
    """How many street tasks to keep submitted: four per worker (`ex.workers` when the
    executor says, else the machine's cores), at least eight."""
    workers = getattr(ex, "workers", None)
    return max(8, 4 * (workers if isinstance(workers, int) else default_workers()))


def _theory(scenario: Scenario) -> tuple[tuple[str, float], ...]:
    if scenario.queue_only is None or scenario.queue_only.trace:
        return ()  # a trace's customers follow no theory
    from gridcore.sim.queue import mmc_theory

    return tuple(sorted(mmc_theory(scenario.queue_only).items()))


def default_workers() -> int:
    """Worker processes used by default: the machine's cores (at most `MAX_WORKERS`)."""
    return min(MAX_WORKERS, max(1, os.cpu_count() or 1))


def run_scenario(
    scenario: Scenario,
    executor: Executor | None = None,
    progress: Progress | None = None,
    *,
    pause_gc: bool = False,
    case_rows: CaseRowSink | None = None,
    events: bool = False,
) -> ScenarioResult:
    """Run every replication (in parallel by default) and gather them in order.

    With `executor=None` and more than one replication, a process pool over the
    machine's cores is used (and stopped, its workers killed, if the run is interrupted);
    a given executor is used and left open. `pause_gc`: as for `run_replication`.
    `case_rows`: a sink that takes each street's per-case rows as it is folded in, in
    (replication, street) order (`gridcore.sim.case_rows` writes the results folder's
    per-case table); the result then holds no per-case table. Without one the rows are
    kept in memory (a histogram past `MAX_CASE_ROWS` a replication). `events=True` (with a
    sink) also hands it replication 0's case events, street by street, as JSON lines.
    """
    n = scenario.run.replications
    results: list[ReplicationResult] = []
    if (
        executor is None
        and (n == 1 or default_workers() == 1)
        and (scenario.queue_only is not None or default_workers() == 1)
    ):
        for i in range(n):
            keep = events and i == 0
            results.append(
                run_replication(scenario, i, pause_gc=pause_gc, case_rows=case_rows, events=keep)
            )
            if progress is not None:
                progress(i + 1, n)
    else:
        own = executor is None
        ex = executor or process_pool(default_workers())
        stopped = True
        try:
            if scenario.queue_only is not None:
                futures = [ex.submit(run_replication, scenario, i) for i in range(n)]
                for done, fut in enumerate(futures, 1):
                    results.append(fut.result())
                    if progress is not None:
                        progress(done, n)
            else:
                results = _grid_parallel(scenario, ex, progress, pause_gc, case_rows, events)
            stopped = False
        finally:
            if own and stopped:
                stop_pool(ex)
            elif own:
                ex.shutdown()
    results.sort(key=lambda r: r.replication)
    return ScenarioResult(scenario, tuple(results), _theory(scenario))


def paired(base: Scenario, whatif: Scenario) -> Scenario:
    """The what-if as `compare` runs it: with the base's seed, replications, horizon,
    warm-up and start (common random numbers)."""
    run = attrs.evolve(
        whatif.run,
        seed=base.run.seed,
        replications=base.run.replications,
        days=base.run.days,
        warmup_days=base.run.warmup_days,
        start=base.run.start,
    )
    return attrs.evolve(whatif, run=run)


def side_progress(progress: Progress | None, side: int) -> Progress | None:
    """The progress of one side of a comparison (0: base, 1: what-if) as a share of both."""
    if progress is None:
        return None
    p = progress
    return lambda done, total: p(side * total + done, 2 * total)


def compare(
    base: Scenario,
    whatif: Scenario,
    executor: Executor | None = None,
    progress: Progress | None = None,
    *,
    pause_gc: bool = False,
) -> Comparison:
    """Run base and what-if with common random numbers; differences paired by replication.

    The what-if takes the base's seed, replication count, horizon and warm-up, so
    replication i of both sees the same random streams.
    """
    whatif = paired(base, whatif)
    b = run_scenario(base, executor, side_progress(progress, 0), pause_gc=pause_gc)
    w = run_scenario(whatif, executor, side_progress(progress, 1), pause_gc=pause_gc)
    return Comparison(b, w)
