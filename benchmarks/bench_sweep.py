"""Sweep speed: 8 points x 4 replications on a 2-process pool against serial.

The issue's target is the `yichang` preset for 30 days. When the full grid model is not
available (it raises `SimulationError`) the benchmark measures the largest real scenario
that runs: a queue-only M/M/c model sized so one run takes about a second, and says so
in its output.

Baseline in the same run: the same 32 runs one after another in this process
(`SerialExecutor`). Reported (printed and in `extra_info`): the speedup (serial wall /
pool wall) and the pool's overhead: sweep wall time minus the sum of the run times
divided by the workers. Both sweeps must store identical metrics.

    .venv/bin/pytest benchmarks/bench_sweep.py --benchmark-only -s

It takes minutes: it is a benchmark, not a test (rounds=1).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from gridcore.errors import SimulationError
from gridcore.sim.run import run_replication
from gridcore.sim.scenario import apply_overrides, preset_scenario, scenario_from_dict
from gridcore.sweep import SerialExecutor, Sweep, SweepResult, run_sweep

WORKERS = 2
REPLICATIONS = 4
TIMES: dict[str, SweepResult] = {}


def _grid_model_available() -> bool:
    probe = apply_overrides(preset_scenario("shuanghu"), {"run.days": 1})
    try:
        run_replication(probe, 0)
    except SimulationError:
        return False
    return True


def _sweep() -> tuple[Sweep, str]:
    if _grid_model_available():
        base = apply_overrides(preset_scenario("yichang"), {"run.days": 30, "run.seed": 1})
        # 8 points: 4 staffing levels x 2 routing modes
        axes: dict[str, list[Any]] = {
            "staffing.workers_per_grid": [1, 2, 3, 4],
            "routing.mode": ["relay", "flattened"],
        }
        what = "yichang preset, 30 days (full grid model)"
    else:
        base = scenario_from_dict(
            {
                "name": "mmc-bench",
                "run": {"days": 150, "seed": 1},
                "queue_only": {
                    "workers": 55,
                    "arrivals_per_hour": 50.0,
                    "mean_handling_minutes": 60,
                },
            }
        )
        axes = {"queue_only.workers": [53, 54, 55, 56, 57, 58, 59, 60]}
        what = (
            "FALLBACK: queue-only M/M/c, 150 days, ~180k customers a run "
            "(the grid model was not available)"
        )
    return Sweep.grid(base, axes, replications=REPLICATIONS, name="bench"), what


@pytest.fixture(scope="module")
def sweep() -> tuple[Sweep, str]:
    """The benchmark sweep (built outside the timed calls)."""
    return _sweep()


def _stored(folder: Path) -> dict[str, Any]:
    return {
        p.stem: json.loads(p.read_text("utf-8"))["metrics"]
        for p in sorted((folder / "runs").glob("*.json"))
    }


def _timed_sweep(benchmark: BenchmarkFixture, sw: Sweep, make: Any, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"bench_sweep_{name}_"))

    def run() -> SweepResult:
        shutil.rmtree(folder / "runs", ignore_errors=True)  # every round does the work
        with make() as ex:
            return run_sweep(sw, folder, ex, runner=run_replication)

    load_before = os.getloadavg()[0]
    result = benchmark.pedantic(run, rounds=1, iterations=1)
    # other processes on the machine share the cores: record how busy it was
    benchmark.extra_info["load_avg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    assert result.ok and result.executed == len(sw.points) * REPLICATIONS
    TIMES[name] = result
    return folder


def test_serial_baseline(benchmark: BenchmarkFixture, sweep: tuple[Sweep, str]) -> None:
    """Baseline: the 32 runs one after another in this process."""
    sw, what = sweep
    benchmark.extra_info["scenario"] = what
    folder = _timed_sweep(benchmark, sw, SerialExecutor, "serial")
    TIMES["serial_folder"] = folder  # type: ignore[assignment]


def test_two_process_pool(benchmark: BenchmarkFixture, sweep: tuple[Sweep, str]) -> None:
    """The same sweep on a 2-process pool: speedup and overhead against the baseline."""
    sw, what = sweep
    folder = _timed_sweep(benchmark, sw, lambda: cf.ProcessPoolExecutor(WORKERS), f"pool{WORKERS}")
    pool = TIMES[f"pool{WORKERS}"]
    overhead = pool.elapsed_s - pool.run_seconds / WORKERS
    info = {
        "scenario": what,
        "runs": pool.total,
        "pool_wall_s": round(pool.elapsed_s, 2),
        "pool_sum_run_s": round(pool.run_seconds, 2),
        "overhead_s": round(overhead, 2),
        "overhead_share": round(overhead / pool.elapsed_s, 3),
    }
    serial = TIMES.get("serial")
    if serial is not None:
        info["serial_wall_s"] = round(serial.elapsed_s, 2)
        info["speedup"] = round(serial.elapsed_s / pool.elapsed_s, 2)
        # the runs' own times: >1 means the pool's runs were slowed by a busy machine
        info["run_time_ratio_pool_vs_serial"] = round(pool.run_seconds / serial.run_seconds, 2)
        serial_folder: Any = TIMES["serial_folder"]
        assert _stored(folder) == _stored(serial_folder)  # identical results
    info["load_avg_1min"] = benchmark.extra_info["load_avg_1min"]
    benchmark.extra_info.update(info)
    print("\nbench_sweep:", json.dumps(info, indent=1))
