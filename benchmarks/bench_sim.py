"""Simulation speed: the full grid model against a bare SimPy model of the same work.

Baseline (named `bare`): the same incidents (per grid Poisson arrivals at the
scenario's rate, scaled by households) and the same mean handling times, with no
domain logic: one worker loop per grid pulling from a `simpy.Store`. Both run the
yichang preset for 30 days on one core; the figure compared is SimPy events per
second (`extra_info`), over process CPU time (the machine is shared: CPU time is what
other jobs disturb least), and the ratio pairs each full round with bare rounds timed
around it (after a one-day warm-up of one street, so that the first round does not also
pay for lazy imports). The ratio is a watch figure, not a target (issue 18 retired the
old target of 0.5: by instruction count the model runs at about 0.52 of the bare one; the
scale figures in bench_scale.py are what an analyst waits for). The full model pauses the
cyclic garbage collector while a street runs (`pause_gc=True`, as the command line runs
it); a second ratio times the bare model with it paused too (like for like).
`sim_costs.py` beside this file breaks the full model's time down by kind of event.
The city presets are then timed end to end (one replication, streets in parallel on the
machine's cores): yubei (target <= 60 s) and yichang (target <= 20 s).

Run: .venv/bin/pytest benchmarks/bench_sim.py --benchmark-only
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

import numpy as np
import pytest
import simpy

from gridcore.sim.model import (
    city_for,
    merge_partitions,
    partitions,
    routing_index_for,
    run_partition,
    staff_for,
)
from gridcore.sim.run import run_scenario
from gridcore.sim.scenario import apply_overrides, preset_scenario

DAYS = 30


def _scenario(name: str) -> Any:
    return apply_overrides(
        preset_scenario(name), {"run.days": DAYS, "run.replications": 1, "run.seed": 1}
    )


def _bare_inputs(name: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per grid: arrival instants (minutes) and handling times, seeded."""
    s = _scenario(name)
    h = city_for(s)
    rng = np.random.default_rng(1)
    rate = s.incidents.per_1000_households_per_day / 1000.0 / 1440.0
    t = s.times
    mean_handle = float(
        np.mean(
            [
                t.handle_grid.mean_minutes,
                t.handle_community.mean_minutes,
                t.handle_street.mean_minutes,
                t.handle_department.mean_minutes,
            ]
        )
    )
    arrivals, handles = [], []
    horizon = DAYS * 1440.0
    for hh in h.grid_households().tolist():
        n = rng.poisson(rate * hh * horizon)
        arrivals.append(np.sort(rng.uniform(0, horizon, n)))
        handles.append(rng.exponential(mean_handle / 4.0, n))
    return arrivals, handles


def bare_model(arrivals: list[np.ndarray], handles: list[np.ndarray]) -> tuple[int, int]:
    """The baseline: per grid an arrival loop and one worker pulling from a Store."""
    env = simpy.Environment()
    done = [0]

    def source(store: simpy.Store, times: list[float], work: list[float]) -> Any:
        for a, w in zip(times, work, strict=True):
            yield env.timeout(a - env.now)
            yield store.put(w)

    def worker(store: simpy.Store) -> Any:
        while True:
            w = yield store.get()
            yield env.timeout(w)
            done[0] += 1

    for times, work in zip(arrivals, handles, strict=True):
        store = simpy.Store(env)
        env.process(source(store, times.tolist(), work.tolist()))
        env.process(worker(store))
    env.run(until=DAYS * 1440.0 * 2)
    return done[0], int(next(env._eid))


def full_model_serial(name: str) -> Any:
    """Every street of one replication on this core, merged."""
    s = _scenario(name)
    parts = [run_partition(s, 0, i, pause_gc=True) for i in range(len(partitions(s)))]
    return merge_partitions(s, 0, parts)


@pytest.fixture(scope="module")
def rates() -> dict[str, float]:
    return {}


def test_bare_simpy_baseline(benchmark: Any, rates: dict[str, float]) -> None:
    """bare: arrivals + one worker loop per grid pulling from a Store (yichang, 30 days)."""
    arrivals, handles = _bare_inputs("yichang")
    cpu: list[float] = []

    def timed() -> tuple[int, int]:
        c0 = time.process_time()
        out = bare_model(arrivals, handles)
        cpu.append(time.process_time() - c0)
        return out

    done, events = benchmark.pedantic(timed, rounds=5)
    secs = min(cpu)  # the least disturbed round, as for the full model
    assert done == sum(a.size for a in arrivals)
    rates["bare"] = events / secs
    benchmark.extra_info["events"] = events
    benchmark.extra_info["events_per_s"] = round(events / secs)


def test_full_model_events_per_second(benchmark: Any, rates: dict[str, float]) -> None:
    """full: the grid model of the same city and horizon on one core; ratio to bare.

    The machine's speed drifts between rounds (a shared VM), so each full round is paired
    with bare rounds timed just before and after it, and the ratio is the median of the
    rounds' ratios (the bare figure of a round: the faster of its two neighbours)."""
    s = _scenario("yichang")
    city_for(s)  # built once per process, outside the timed call: city, index, roster
    routing_index_for(s)
    staff_for(s)
    # one simulated day of one street first: the lazy imports (the holiday calendars) and
    # process-wide caches are then as warm in the first round as in the others
    run_partition(apply_overrides(s, {"run.days": 1, "run.warmup_days": 0}), 0, 0, pause_gc=True)
    arrivals, handles = _bare_inputs("yichang")
    cpu: list[float] = []
    ratios: list[float] = []

    gc_paused_ratios: list[float] = []

    def bare_rate(gc_paused: bool = False) -> float:
        was = gc.isenabled()
        if gc_paused:
            gc.disable()
        try:
            c0 = time.process_time()
            _, events = bare_model(arrivals, handles)
            return events / (time.process_time() - c0)
        finally:
            if was:
                gc.enable()

    def timed() -> Any:
        before = bare_rate()
        before_paused = bare_rate(gc_paused=True)
        c0 = time.process_time()
        out = full_model_serial("yichang")
        secs = time.process_time() - c0
        cpu.append(secs)
        full = out.events / secs
        ratios.append(full / max(before, bare_rate()))
        # the full model pauses the cyclic collector while a street runs: the baseline
        # with the collector paused too, for a like-for-like figure
        gc_paused_ratios.append(full / max(before_paused, bare_rate(gc_paused=True)))
        return out

    r = benchmark.pedantic(timed, rounds=3)
    secs = min(cpu)
    assert r.metric("cases") > 10_000
    assert all(c.ok for c in r.checks)
    ratio = statistics.median(ratios)
    rates["full"] = r.events / secs
    benchmark.extra_info["events"] = r.events
    benchmark.extra_info["events_per_s"] = round(r.events / secs)
    benchmark.extra_info["ratio_to_bare"] = round(ratio, 3)
    benchmark.extra_info["ratios"] = [round(x, 3) for x in ratios]
    paused = statistics.median(gc_paused_ratios)
    benchmark.extra_info["ratio_to_bare_gc_paused"] = round(paused, 3)
    print(
        f"\nCPU events/s full {rates['full']:,.0f} ({r.events:,} events, {secs:.2f} s CPU); "
        f"ratio to bare per round {[round(x, 3) for x in ratios]}, median {ratio:.3f}; "
        f"to bare with the collector paused too "
        f"{[round(x, 3) for x in gc_paused_ratios]}, median {paused:.3f}"
    )


@pytest.mark.parametrize("name", ["yichang", "yubei"])
def test_preset_30_days_one_replication(benchmark: Any, name: str) -> None:
    """End to end, streets in parallel on the machine's cores (targets: 20 s, 60 s)."""
    s = _scenario(name)
    r = benchmark.pedantic(run_scenario, args=(s,), kwargs={"pause_gc": True}, rounds=1)
    rep = r.replications[0]
    assert rep.metric("grids") == len(city_for(s).grids)
    assert r.checks_ok()
    benchmark.extra_info["events"] = rep.events
    benchmark.extra_info["cases"] = rep.metric("cases")
