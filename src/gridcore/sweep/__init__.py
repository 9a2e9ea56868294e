"""Parameter sweeps: a base scenario, overrides on named fields, replications, any executor.

A `Sweep` is a base scenario plus points (a cartesian grid or an explicit list of
overrides on dotted scenario keys such as ``"staffing.workers_per_grid"``) and a
number of replications. `Sweep.runs()` expands it into `RunSpec`s with common random
numbers: replication ``r`` gets the same seed (the base ``run.seed``, spawned by ``r``)
at every point, so differences between points are not noise.

`run_sweep` sends the runs to any `concurrent.futures.Executor` (a local process pool by
default; a Dask client's `get_executor()` for a cluster). Each finished run is stored
atomically as ``runs/<key>.json``, the key a stable hash of the scenario's canonical JSON
and the replication index, so an interrupted sweep resumes and a finished one does no
work. A run that raises is stored as ``failed/<key>.json`` with its traceback and does
not stop the others. The aggregate (one row per point and metric: mean and 95% interval
over replications) is written as ``aggregate.csv`` and ``aggregate.json``.

One concept a module, re-exported here:

- `points`: `Sweep`, `Point`, `RunSpec` (what a sweep is, expanded into runs);
- `keys`: `canonical_json`, `run_key` (the stored key of a run);
- `loading`: `load_sweep` (a sweep TOML file and its base scenario);
- `running`: `run_sweep`, `sweep_key` (the runs not yet stored, on any executor);
- `records`: `SweepProgress`, `RunFailure`, `SweepResult` (what a sweep reports);
- `aggregate`: `write_aggregate` (``aggregate.csv``/``.json``, ``runs.csv``, failures);
- `results`: `flatten_metrics`, `load_results`, `read_csv_rows` (reading results back);
- `commands`: ``gridcore sweep`` (`register`).

The executors (`executor_from_spec`, `SerialExecutor`) live in `gridcore.sim.executors`
and are re-exported here. This package is an edge: it reads files, the clock and talks
to executors.
"""

from __future__ import annotations

from gridcore.sim.executors import SerialExecutor, executor_from_spec
from gridcore.sweep.aggregate import AGGREGATE_FIELDS
from gridcore.sweep.aggregate import write_aggregate as write_aggregate  # public before the split
from gridcore.sweep.commands import register
from gridcore.sweep.keys import FORMAT_VERSION as FORMAT_VERSION  # public before the split
from gridcore.sweep.keys import canonical_json, run_key
from gridcore.sweep.loading import load_sweep
from gridcore.sweep.points import MAX_RUNS, Point, RunSpec, Sweep
from gridcore.sweep.records import RunFailure, SweepProgress, SweepResult
from gridcore.sweep.results import flatten_metrics, load_results
from gridcore.sweep.results import read_csv_rows as read_csv_rows  # public before the split
from gridcore.sweep.running import Runner, run_sweep, sweep_key

__all__ = [
    "AGGREGATE_FIELDS",
    "MAX_RUNS",
    "Point",
    "RunFailure",
    "RunSpec",
    "Runner",
    "SerialExecutor",
    "Sweep",
    "SweepProgress",
    "SweepResult",
    "canonical_json",
    "executor_from_spec",
    "flatten_metrics",
    "load_results",
    "load_sweep",
    "register",
    "run_key",
    "run_sweep",
    "sweep_key",
]
