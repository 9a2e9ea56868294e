"""Running a sweep: every run not yet stored, on any executor, resumable.

`run_sweep` sends the runs to any `concurrent.futures.Executor` (a local process pool by
default; a Dask client's `get_executor()` for a cluster, `gridcore.sim.executors`). Each
finished run is stored atomically as ``runs/<key>.json`` (`gridcore.sweep.keys`), so an
interrupted sweep resumes and a finished one does no work. A run that raises is stored
as ``failed/<key>.json`` with its traceback and does not stop the others. The aggregate
is written at the end, or when the sweep is interrupted (`gridcore.sweep.aggregate`).
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import itertools
import math
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from gridcore.sim.executors import SerialExecutor, local_pool
from gridcore.sim.scenario import Scenario
from gridcore.sweep.aggregate import read_record, store_json, write_aggregate, write_failures
from gridcore.sweep.keys import FORMAT_VERSION
from gridcore.sweep.points import RunSpec, Sweep
from gridcore.sweep.records import RunFailure, SweepProgress, SweepResult
from gridcore.sweep.results import flatten_metrics

__all__ = ["Runner", "run_sweep", "sweep_key"]

Runner: TypeAlias = Callable[[Scenario, int], Any]
"""A function of (scenario, replication index) returning a result (pure, picklable)."""


def _default_runner() -> Runner:
    # imported here: the simulation's runner loads SimPy, needed only when a sweep runs
    from gridcore.sim.run import run_replication

    # each replication with the cyclic collector paused, as the command line runs them
    return functools.partial(run_replication, pause_gc=True)


def _execute(
    runner: Runner, scenario: Scenario, replication: int, key: str, point: int
) -> dict[str, Any]:
    """Run one replication in a worker; return its record (never raises for a run error)."""
    t0 = time.perf_counter()
    base = {"key": key, "point": point, "replication": replication}
    try:
        result = runner(scenario, replication)
        metrics = flatten_metrics(result)
    except Exception:  # a failing run is data, not a crash of the sweep
        return {
            **base,
            "status": "failed",
            "error": traceback.format_exc(),
            "seconds": time.perf_counter() - t0,
        }
    rec = {**base, "status": "ok", "metrics": metrics, "seconds": time.perf_counter() - t0}
    checks = getattr(result, "checks", None)
    if isinstance(checks, tuple):  # the sim's self-checks (Little's law, conservation)
        rec["checks_ok"] = all(bool(getattr(c, "ok", True)) for c in checks)
    return rec


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path,
    executor: cf.Executor | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
    *,
    runner: Runner | None = None,
    workers: int | None = None,
    retry_failed: bool = True,
    max_pending: int = 512,
    overwrite: bool = False,
) -> SweepResult:
    """Run every run of `sweep` not yet stored in `out_dir`; write the aggregate.

    `executor` is any `concurrent.futures.Executor` (not shut down here); by default a
    local `ProcessPoolExecutor` with `workers` (default `os.cpu_count()`) processes is
    made and closed. `runner` defaults to `gridcore.sim.run.run_replication`; it and the
    scenarios must pickle for a process pool or Dask. Runs stored as failed are run again
    unless `retry_failed` is False. `progress` is called after each finished run.

    `out_dir` must be empty, absent or this sweep's own folder (same base and points; the
    replication count may grow), unless `overwrite` (its contents are then removed). The
    sweep holds a lock on it while it runs: a second sweep on it is refused at once. Its
    `manifest.json` lists every file when the sweep ends (or is interrupted).
    """
    from gridcore.io.folder import check_destination, folder_lock

    if workers is not None:
        from gridcore.sim.pool import check_workers

        check_workers(workers, "workers")
    out = Path(out_dir)
    key = sweep_key(sweep)
    check_destination(out, "sweep", key, overwrite=overwrite)
    with folder_lock(out):
        if overwrite:
            _clear(out)
        return _run_locked(
            sweep, out, key, executor, progress, runner, workers, retry_failed, max_pending
        )


def sweep_key(sweep: Sweep) -> str:
    """The hash a sweep folder's manifest carries: the base and the points, without the
    names and the replication count (adding replications resumes the same folder)."""
    from gridcore.io.folder import content_hash

    base = sweep.base.to_dict()
    base.pop("name", None)
    base.get("run", {}).pop("replications", None)
    return content_hash({"base": base, "points": [p.as_dict() for p in sweep.points]})


def _clear(folder: Path) -> None:
    """Remove a folder's contents but its dot files (the lock)."""
    import shutil

    for p in folder.iterdir():
        if p.name.startswith("."):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def _run_locked(
    sweep: Sweep,
    out: Path,
    key: str,
    executor: cf.Executor | None,
    progress: Callable[[SweepProgress], None] | None,
    runner: Runner | None,
    workers: int | None,
    retry_failed: bool,
    max_pending: int,
) -> SweepResult:
    from gridcore.io.folder import seal

    runs_dir, failed_dir = out / "runs", out / "failed"
    runs_dir.mkdir(parents=True, exist_ok=True)
    failed_dir.mkdir(parents=True, exist_ok=True)
    fn = runner if runner is not None else _default_runner()
    specs = sweep.runs()
    store_json(
        out / "sweep.json",
        {
            "format": FORMAT_VERSION,
            "kind": "sweep",
            **sweep.describe(),
            "runs": [
                {"key": s.key, "point": s.point.index, "replication": s.replication} for s in specs
            ],
        },
    )
    seal(out, "sweep", key)  # the folder is this sweep's from now on (a resume finds it)

    t0 = time.monotonic()
    todo, reused, failures = _stored(specs, runs_dir, failed_dir, retry_failed)
    state = {"done": reused, "failed": len(failures), "new": 0}

    def report() -> None:
        if progress is None:
            return
        elapsed = time.monotonic() - t0
        left = len(specs) - state["done"] - state["failed"]
        rate = elapsed / state["new"] if state["new"] else math.nan
        remaining = 0.0 if left == 0 else rate * left
        progress(
            SweepProgress(len(specs), state["done"], state["failed"], reused, elapsed, remaining)
        )

    report()
    run_seconds = 0.0
    own = executor is None and bool(todo)
    ex = local_pool(workers) if own else executor
    try:
        for spec, rec in _submit_all(ex, fn, todo, max_pending):
            state["new"] += 1
            run_seconds += float(rec.get("seconds", 0.0))
            rec = {**rec, "overrides": spec.point.as_dict(), "label": spec.point.label}
            if rec.get("status") == "ok":
                store_json(runs_dir / f"{spec.key}.json", rec)
                (failed_dir / f"{spec.key}.json").unlink(missing_ok=True)
                state["done"] += 1
            else:
                store_json(failed_dir / f"{spec.key}.json", rec)
                failures[spec.key] = _failure(spec, str(rec.get("error", "")))
                state["failed"] += 1
            report()
    except BaseException:
        # Interrupted (Ctrl-C, a lost cluster): the stored runs stay; aggregate what exists.
        write_aggregate(sweep, out, specs)
        write_failures(out, specs, failures)
        seal(out, "sweep", key)
        raise
    finally:
        if own and ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)

    rows = write_aggregate(sweep, out, specs)
    write_failures(out, specs, failures)
    seal(out, "sweep", key)
    return SweepResult(
        out,
        len(specs),
        state["new"],
        reused,
        tuple(failures[s.key] for s in specs if s.key in failures),
        time.monotonic() - t0,
        run_seconds,
        tuple(rows),
    )


def _stored(
    specs: Sequence[RunSpec], runs_dir: Path, failed_dir: Path, retry_failed: bool
) -> tuple[list[RunSpec], int, dict[str, RunFailure]]:
    """The runs still to do, how many are stored already, and the stored failures kept
    (those not to be retried)."""
    todo: list[RunSpec] = []
    reused = 0
    failures: dict[str, RunFailure] = {}
    for s in specs:
        if (runs_dir / f"{s.key}.json").exists() and read_record(runs_dir / f"{s.key}.json"):
            reused += 1
            continue
        old = read_record(failed_dir / f"{s.key}.json") if not retry_failed else None
        if old is not None:
            failures[s.key] = _failure(s, str(old.get("error", "")))
            continue
        todo.append(s)
    return todo, reused, failures


def _failure(spec: RunSpec, error: str) -> RunFailure:
    return RunFailure(spec.key, spec.point.index, spec.replication, spec.point.overrides, error)


def _submit_all(
    ex: cf.Executor | None, fn: Runner, todo: Sequence[RunSpec], max_pending: int
) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
    """Submit runs (at most `max_pending` in flight) and yield them as they finish."""
    if ex is None or not todo:
        return
    if isinstance(ex, SerialExecutor):
        max_pending = 1  # it runs at submit: one at a time, so each run is stored as it ends
    pending: dict[cf.Future[Any], RunSpec] = {}
    order: dict[cf.Future[Any], int] = {}
    queue = iter(todo)

    def fill() -> None:
        for spec in itertools.islice(queue, max(1, max_pending - len(pending))):
            # Each call has its own arguments (key, replication): Dask would merge
            # identical calls into one task.
            fut = ex.submit(
                _execute, fn, spec.scenario, spec.replication, spec.key, spec.point.index
            )
            pending[fut] = spec
            order[fut] = len(order)

    fill()
    try:
        while pending:
            finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(finished, key=order.__getitem__):  # deterministic order
                spec = pending.pop(fut)
                try:
                    rec = fut.result()
                except Exception:  # the executor lost the run (a dead worker, pickling)
                    rec = {
                        "key": spec.key,
                        "point": spec.point.index,
                        "replication": spec.replication,
                        "status": "failed",
                        "error": traceback.format_exc(),
                        "seconds": 0.0,
                    }
                yield spec, rec
            fill()
    finally:
        for fut in pending:
            fut.cancel()
