"""Calibrating a ~1M-event log: reading the JSON lines and fitting every key.

Run: `PYTHONPATH=src /work/venv/bin/python -m pytest benchmarks/bench_calibrate.py
--benchmark-only -s`. The log is a simulated xiling (100 grids, 14 days, 5 incidents a
day per 1,000 households, ~14k events) written 70 times with distinct case ids: a city 70
times xiling's households over the same fortnight, ~1M events. It is built once per
module; only `read_event_log` + `calibrate` are timed (CPU time of the process is printed
too, with the 1-minute load average after each round: on this shared 2-core machine the
wall time depends on the other jobs). `BENCH_ROUNDS` sets the rounds (default 3).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from gridcore.calibrate import calibrate, read_event_log
from gridcore.cases import event_to_json
from gridcore.sim.inputs import city_for
from gridcore.sim.model import partition_events, partitions
from gridcore.sim.scenario import apply_overrides, preset_scenario

COPIES = 70
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """(the events.jsonl path, its events, the households of the tiled city)."""
    s = apply_overrides(
        preset_scenario("xiling"),
        {"run.days": 14, "run.replications": 1, "incidents.per_1000_households_per_day": 5.0},
    )
    lines: list[str] = []
    for j in range(len(partitions(s))):
        lines.extend(event_to_json(e) for e in partition_events(s, 0, j)[1])
    path = tmp_path_factory.mktemp("calibrate_bench") / "events.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for k in range(COPIES):
            prefix = f'"case_id":"c{k}-'
            f.write("".join(x.replace('"case_id":"', prefix, 1) + "\n" for x in lines))
    return path, COPIES * len(lines), COPIES * city_for(s).total_households


def test_calibrate_a_million_events(benchmark: Any, big_log: tuple[Path, int, int]) -> None:
    """read_event_log + calibrate on ~1M events (the issue's bound: 60 s on this machine)."""
    path, n_events, households = big_log
    cpu: list[float] = []
    wall: list[float] = []
    load: list[float] = []

    def run() -> Any:
        c0, w0 = time.process_time(), time.perf_counter()
        cal = calibrate(read_event_log(path), households=households)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        load.append(os.getloadavg()[0])
        return cal

    cal = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert n_events > 900_000
    assert cal.entries["times.handle_grid"]["sample_size"] > 10_000
    assert 4.0 < cal.entries["incidents.per_1000_households_per_day"]["estimate"] < 5.5
    benchmark.extra_info["events"] = n_events
    benchmark.extra_info["cpu_s"] = cpu
    benchmark.extra_info["wall_s"] = wall
    benchmark.extra_info["load_1min"] = load
    for k, (c, w, la) in enumerate(zip(cpu, wall, load, strict=True)):
        print(f"\n{n_events:,} events, round {k + 1}: wall {w:.1f} s, CPU {c:.1f} s, load {la:.2f}")
