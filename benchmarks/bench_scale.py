"""Province scale (issue 18): how big a question answers in how long, and in how much memory.

- `test_two_workers_vs_one`: yubei 30 days, one replication, its 19 streets on a local
  pool of 2 workers against a pool of 1, rounds interleaved (1, 2, 1, 2 ...); the ratio
  is the median of the paired wall times (target >= 1.7).
- `test_dask_local_cluster_vs_local_pool`: the same run through a Dask
  `LocalCluster(n_workers=2, threads_per_worker=1)` against the local pool of 2,
  interleaved (target: within 15%, pool time / Dask time >= 0.87).
- `test_chongqing_scale_30_days`: the `chongqing-scale` preset (125,818 grids), 30 days,
  one replication, `gridcore simulate --workers 2 --out` in a subprocess: wall time,
  grid-days per second, peak memory of the run and of its largest worker (target
  <= 10 minutes). Long: only with GRIDCORE_BENCH_CHONGQING=1.
- `test_memory_30_vs_365_days`: yichang, one replication, `--workers 1 --out`: peak memory
  of the run and of its worker at 30 and 365 days (target: 365 within 1.25x of 30).

Every run gives the serial run's folder byte for byte (tests/sim/test_scale.py), so only
time and memory are compared. The machine has 2 cores: a scaling figure means something
only when nothing else runs; each test prints the load average it saw.
GRIDCORE_BENCH_ROUNDS sets the interleaved rounds (default 3).

Run: PYTHONPATH=src pytest benchmarks/bench_scale.py --benchmark-only -s -p no:cacheprovider
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pytest

import gridcore
from gridcore.sim.inputs import city_for
from gridcore.sim.pool import process_pool
from gridcore.sim.run import run_scenario
from gridcore.sim.scenario import apply_overrides, preset_scenario

SRC = Path(gridcore.__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("GRIDCORE_BENCH_ROUNDS", "3"))


def _yubei(days: float = 30) -> Any:
    return apply_overrides(
        preset_scenario("yubei"), {"run.days": days, "run.replications": 1, "run.seed": 1}
    )


def _timed(run: Callable[[], Any]) -> float:
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


def _paired(base: Callable[[], Any], new: Callable[[], Any]) -> tuple[list[float], list[float]]:
    """Wall times of `base` and `new`, interleaved round by round."""
    b, n = [], []
    for _ in range(ROUNDS):
        b.append(_timed(base))
        n.append(_timed(new))
    return b, n


def _report(benchmark: Any, name: str, base: list[float], new: list[float]) -> float:
    ratios = [x / y for x, y in zip(base, new, strict=True)]
    ratio = statistics.median(ratios)
    load = os.getloadavg()[0]
    benchmark.extra_info.update(
        {f"{name}_ratio": ratio, "ratios": ratios, "base_s": base, "new_s": new, "load": load}
    )
    print(
        f"\n{name}: base time / new time {ratio:.2f} (rounds {min(ratios):.2f}-"
        f"{max(ratios):.2f}); base {min(base):.1f}-{max(base):.1f} s, new "
        f"{min(new):.1f}-{max(new):.1f} s; load average {load:.1f}"
    )
    return ratio


def _on(ex: Executor, s: Any) -> Callable[[], Any]:
    return lambda: run_scenario(s, ex, pause_gc=True)


def test_two_workers_vs_one(benchmark: Any) -> None:
    s = _yubei()
    with process_pool(1) as one, process_pool(2) as two:
        for ex in (one, two):
            run_scenario(_yubei(1), ex)  # each worker builds the city and roster once
        base, new = _paired(_on(one, s), _on(two, s))
        benchmark.pedantic(_on(two, s), rounds=1, iterations=1)
    _report(benchmark, "two_vs_one_worker", base, new)


def test_dask_local_cluster_vs_local_pool(benchmark: Any) -> None:
    distributed = pytest.importorskip("distributed")
    from gridcore.sim.executors import DaskExecutor

    s = _yubei()
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    dask = DaskExecutor(distributed.Client(cluster))
    try:
        with process_pool(2) as pool:
            for ex in (pool, dask):
                run_scenario(_yubei(1), ex)
            base, new = _paired(_on(pool, s), _on(dask, s))
            benchmark.pedantic(_on(dask, s), rounds=1, iterations=1)
    finally:
        dask.shutdown()
        cluster.close()
    _report(benchmark, "local_pool_vs_dask", base, new)


# The run's own peak is VmHWM (its address space's high-water mark, new at exec):
# `ru_maxrss` would also count the pages of the process that started it, as they were when
# it forked (Linux keeps the larger of the two across exec).
_PROBE = (
    "import re, resource, sys\n"
    "from gridcore.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "own = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print('PEAK', own, kids, code)\n"
)


def _simulate(args: list[str]) -> dict[str, float]:
    """`gridcore simulate ARGS --out TMP` in a subprocess: wall time and peak memory (MiB)
    of the run's process and of its largest worker."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, "simulate", *args, "--quiet", "--out", f"{tmp}/run"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("PEAK"))
    _, own, kids, code = line.split()
    assert code in ("0", "1"), out.stderr
    return {"wall_s": wall, "peak_mib": int(own) / 1024, "worker_peak_mib": int(kids) / 1024}


@pytest.mark.skipif(
    os.environ.get("GRIDCORE_BENCH_CHONGQING") != "1",
    reason="5-10 minutes: set GRIDCORE_BENCH_CHONGQING=1",
)
def test_chongqing_scale_30_days(benchmark: Any) -> None:
    args = ["--preset", "chongqing-scale", "--days", "30", "--replications", "1"]
    args += ["--workers", "2", "--seed", "1"]
    got: dict[str, float] = {}
    benchmark.pedantic(lambda: got.update(_simulate(args)), rounds=1, iterations=1)
    grids = len(city_for(preset_scenario("chongqing-scale")).grids)
    got["grid_days_per_s"] = grids * 30 / got["wall_s"]
    got["load"] = os.getloadavg()[0]
    benchmark.extra_info.update(got)
    print(
        f"\nchongqing-scale 30 days, 2 workers: {got['wall_s']:.0f} s "
        f"({got['grid_days_per_s']:,.0f} grid-days/s), peak {got['peak_mib']:.0f} MiB, "
        f"largest worker {got['worker_peak_mib']:.0f} MiB; load average {got['load']:.1f}"
    )


def test_memory_30_vs_365_days(benchmark: Any) -> None:
    got: dict[int, dict[str, float]] = {}

    def both() -> None:
        for days in (30, 365):
            args = ["--preset", "yichang", "--days", str(days), "--replications", "1"]
            args += ["--workers", "1", "--seed", "1", "--tables", "csv"]
            got[days] = _simulate(args)

    benchmark.pedantic(both, rounds=1, iterations=1)

    def total(d: int) -> float:
        return got[d]["peak_mib"] + got[d]["worker_peak_mib"]

    ratio = total(365) / total(30)
    benchmark.extra_info.update({"runs": got, "ratio_365_to_30": ratio})
    print(
        f"\nyichang peak memory, run + worker: 30 days {total(30):.0f} MiB "
        f"({got[30]['peak_mib']:.0f} + {got[30]['worker_peak_mib']:.0f}), 365 days "
        f"{total(365):.0f} MiB ({got[365]['peak_mib']:.0f} + "
        f"{got[365]['worker_peak_mib']:.0f}): {ratio:.2f}x"
    )
