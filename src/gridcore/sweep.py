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

This module is an edge: it reads files, the clock and talks to executors.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import functools
import hashlib
import io
import itertools
import json
import math
import os
import sys
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import attrs

from gridcore.errors import ConfigError, FileFormatError, ScenarioError
from gridcore.io.tables import write_csv, write_json
from gridcore.sim.scenario import (
    Scenario,
    apply_overrides,
    preset_scenario,
    scenario_from_dict,
)
from gridcore.sim.stats import estimate

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

Runner: TypeAlias = Callable[[Scenario, int], Any]
"""A function of (scenario, replication index) returning a result (pure, picklable)."""

FORMAT_VERSION = 1
MAX_RUNS = 100_000
"""The most runs (points x replications) a sweep may have."""
AGGREGATE_FIELDS = ("metric", "mean", "half_width", "ci_low", "ci_high", "n")
"""The statistics columns of the aggregate table (after the point columns)."""

# Keys that would break common random numbers or the replication count if a point
# changed them; `sweep.set` may still set them for every point at once.
_UNSWEEPABLE = ("run.seed", "run.replications", "name")
# Left out of a run's key: they do not change what one replication computes.
_KEY_EXCLUDED = (("name",), ("run", "replications"))


# ---------------------------------------------------------------------------------------------
# Values


def _pairs(value: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), v) for k, v in items)


@attrs.frozen
class Point:
    """One point of a sweep: its index and the overrides that make it."""

    index: int
    overrides: tuple[tuple[str, Any], ...] = attrs.field(converter=_pairs)
    name: str = ""

    @property
    def label(self) -> str:
        """A short human label: the given name, else ``key=value, ...`` (``base`` if none)."""
        if self.name:
            return self.name
        if not self.overrides:
            return "base"
        return ", ".join(f"{k}={_short(v)}" for k, v in self.overrides)

    def as_dict(self) -> dict[str, Any]:
        """The overrides as a mapping."""
        return dict(self.overrides)


def _short(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v


@attrs.frozen
class RunSpec:
    """One run of a sweep: a point's scenario and a replication index, with its stored key."""

    point: Point
    replication: int
    scenario: Scenario = attrs.field(repr=False)
    key: str


@attrs.frozen
class Sweep:
    """A base scenario, the points to run (overrides on dotted keys) and the replications.

    >>> from gridcore.sim.scenario import Scenario
    >>> s = Sweep.grid(Scenario(), {"staffing.workers_per_grid": [1, 2]}, replications=3)
    >>> [p.label for p in s.points], len(s.runs())
    (['staffing.workers_per_grid=1', 'staffing.workers_per_grid=2'], 6)
    """

    base: Scenario = attrs.field(repr=False)
    points: tuple[Point, ...]
    replications: int
    name: str = "sweep"
    fields: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if isinstance(self.replications, bool) or not (
            isinstance(self.replications, int) and self.replications >= 1
        ):
            raise ScenarioError("sweep.replications", self.replications, "an integer >= 1")
        if not self.points:
            raise ScenarioError("sweep.points", [], "at least one point")
        _check_runs(len(self.points), self.replications)
        for p in self.points:
            for k, v in p.overrides:
                if k in _UNSWEEPABLE:
                    raise ScenarioError(
                        k,
                        v,
                        "a key other than run.seed, run.replications or name in a sweep point "
                        "(replications share seeds across points; set them in [sweep] or "
                        "[sweep.set])",
                    )

    @classmethod
    def grid(
        cls,
        base: Scenario,
        axes: Mapping[str, Sequence[Any]],
        replications: int | None = None,
        name: str = "sweep",
    ) -> Sweep:
        """The cartesian product of the values of each dotted key (first key varies slowest)."""
        for key, values in axes.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise ScenarioError(f"sweep.grid.{key}", values, "a non-empty array of values")
        keys = list(axes)
        _check_runs(math.prod(len(axes[k]) for k in keys), replications or 1)
        combos = itertools.product(*(axes[k] for k in keys))
        points = tuple(Point(i, tuple(zip(keys, c, strict=True))) for i, c in enumerate(combos))
        reps = base.run.replications if replications is None else replications
        return cls(base, points, reps, name, tuple(keys))

    @classmethod
    def from_list(
        cls,
        base: Scenario,
        overrides: Sequence[Mapping[str, Any]],
        replications: int | None = None,
        name: str = "sweep",
    ) -> Sweep:
        """One point per mapping of overrides (a ``"label"`` key names the point)."""
        points = []
        fields: list[str] = []
        for i, o in enumerate(overrides):
            if not isinstance(o, Mapping):
                raise ScenarioError(f"sweep.points[{i}]", o, "a table of dotted keys")
            label = o.get("label", "")
            if not isinstance(label, str):
                raise ScenarioError(f"sweep.points[{i}].label", label, "a string")
            pairs = [(k, v) for k, v in o.items() if k != "label"]
            fields.extend(k for k, _ in pairs if k not in fields)
            points.append(Point(i, tuple(pairs), label))
        reps = base.run.replications if replications is None else replications
        return cls(base, tuple(points), reps, name, tuple(fields))

    def scenario_at(self, point: Point) -> Scenario:
        """The scenario of one point: the base with the point's overrides and replications."""
        overrides = {**point.as_dict(), "run.replications": self.replications}
        try:
            s = apply_overrides(self.base, overrides)
        except ScenarioError as exc:
            raise ScenarioError(
                exc.key, exc.value, exc.expected, f"sweep point {point.index} ({point.label})"
            ) from None
        return attrs.evolve(s, name=f"{self.name}/{point.index}")

    def runs(self) -> tuple[RunSpec, ...]:
        """Every run, point by point; replication r has the same seed at every point."""
        out: list[RunSpec] = []
        for p in self.points:
            s = self.scenario_at(p)
            out.extend(RunSpec(p, r, s, run_key(s, r)) for r in range(self.replications))
        return tuple(out)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: name, fields, replications, base and points."""
        return {
            "name": self.name,
            "fields": list(self.fields),
            "replications": self.replications,
            "base": self.base.to_dict(),
            "points": [
                {"point": p.index, "label": p.label, "overrides": p.as_dict()} for p in self.points
            ],
        }


def _check_runs(points: int, replications: int) -> None:
    if points * replications > MAX_RUNS:
        raise ScenarioError(
            "sweep.grid",
            f"{points} points x {replications} replications",
            f"at most {MAX_RUNS:,} runs",
        )


# ---------------------------------------------------------------------------------------------
# Keys


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # JSON has no NaN/inf; keep them distinct anyway
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if attrs.has(type(v)):
        return _jsonable(attrs.asdict(v, recurse=False))
    return str(v)


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, tuples as lists) of a JSON-like value.

    >>> canonical_json({"b": (1, 2.5), "a": "x"})
    '{"a":"x","b":[1,2.5]}'
    """
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def run_key(scenario: Scenario, replication: int) -> str:
    """The stored key of one run: SHA-256 of the scenario's canonical JSON and the index.

    The scenario's name and replication count are left out: neither changes what one
    replication computes, so renaming a sweep or adding replications reuses results.
    """
    data = scenario.to_dict()
    for path in _KEY_EXCLUDED:
        node: Any = data
        for part in path[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(path[-1], None)
    text = canonical_json({"format": FORMAT_VERSION, "scenario": data, "replication": replication})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------
# Loading a sweep file


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep from TOML: a ``[sweep]`` table plus the base scenario.

    The base is ``sweep.scenario`` (a scenario file, relative to the sweep file), or
    ``sweep.preset`` (a preset name), or the file's other tables (an inline scenario);
    ``[sweep.set]`` overrides it for every point. The points are ``[sweep.grid]``
    (dotted key -> array of values, crossed) or ``[[sweep.points]]`` (one table of dotted
    keys per point, with an optional ``label``). A bad key raises `ScenarioError` naming
    the key, the value and what was expected.
    """
    from gridcore.io.text import read_text

    p = Path(path)
    src = str(p)
    text = read_text(p, "a sweep file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(src, "", "", "valid TOML", str(exc)) from None
    except RecursionError:
        raise FileFormatError(src, "", "", "TOML nested less deeply") from None
    table = data.pop("sweep", None)
    if not isinstance(table, dict):
        raise ScenarioError("sweep", table, "a [sweep] table", src)
    allowed = {"name", "scenario", "preset", "replications", "set", "grid", "points"}
    for k, v in table.items():
        if k not in allowed:
            raise ScenarioError(f"sweep.{k}", v, f"one of the keys {sorted(allowed)}", src)
    name = table.get("name", p.stem)
    if not isinstance(name, str) or not name:
        raise ScenarioError("sweep.name", name, "a non-empty string", src)

    base = _load_base(table, data, p)
    extra = table.get("set", {})
    if not isinstance(extra, dict):
        raise ScenarioError("sweep.set", extra, "a table of dotted keys", src)
    if extra:
        try:
            base = apply_overrides(base, _flat_keys(extra))
        except ScenarioError as exc:
            raise ScenarioError(f"sweep.set: {exc.key}", exc.value, exc.expected, src) from None

    reps = table.get("replications", base.run.replications)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ScenarioError("sweep.replications", reps, "an integer >= 1", src)

    if "grid" in table and "points" in table:
        raise ScenarioError(
            "sweep.points",
            table["points"],
            "either [sweep.grid] or [[sweep.points]], not both",
            src,
        )
    try:
        if "points" in table:
            pts = table["points"]
            if not isinstance(pts, list) or not pts:
                raise ScenarioError("sweep.points", pts, "a non-empty array of tables")
            sweep = Sweep.from_list(
                base, [_flat_keys(x) if isinstance(x, dict) else x for x in pts], reps, name
            )
        else:
            axes = table.get("grid", {})
            if not isinstance(axes, dict):
                raise ScenarioError("sweep.grid", axes, "a table of dotted key = [values]")
            flat = _flat_keys(axes)
            if not flat:
                sweep = Sweep(base, (Point(0, ()),), reps, name)
            else:
                for k, v in flat.items():
                    if not isinstance(v, list) or not v:
                        raise ScenarioError(f"sweep.grid.{k}", v, "a non-empty array of values")
                sweep = Sweep.grid(base, flat, reps, name)
        sweep.runs()  # validate every point's scenario now, not halfway through a sweep
    except ScenarioError as exc:
        where = f"{src}: {exc.source}" if exc.source else src
        raise ScenarioError(exc.key, exc.value, exc.expected, where) from None
    return sweep


def _flat_keys(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys from TOML: ``"a.b" = 1`` and ``a.b = 1`` (a nested table) both give a.b."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flat_keys(v, key + "."))
        else:
            out[key] = v
    return out


def _load_base(table: Mapping[str, Any], rest: dict[str, Any], path: Path) -> Scenario:
    src = str(path)
    sources = [k for k in ("scenario", "preset") if k in table]
    if len(sources) > 1 or (sources and rest):
        got = sources + ([f"[{k}]" for k in rest] if rest else [])
        raise ScenarioError(
            "sweep.scenario",
            got,
            "one base: sweep.scenario (a file), sweep.preset (a name) or inline tables",
            src,
        )
    if "scenario" in table:
        ref = table["scenario"]
        if not isinstance(ref, str) or not ref:
            raise ScenarioError("sweep.scenario", ref, "a scenario file path", src)
        from gridcore.sim.scenario import load_scenario

        return load_scenario(path.parent / ref)
    if "preset" in table:
        name = _str_key(table["preset"], "sweep.preset", src)
        try:
            return preset_scenario(name)
        except ScenarioError as exc:
            raise ScenarioError("sweep.preset", name, exc.expected, src) from None
    return scenario_from_dict({"name": path.stem, **rest}, src)


def _str_key(v: Any, key: str, src: str) -> str:
    if not isinstance(v, str):
        raise ScenarioError(key, v, "a string", src)
    return v


# ---------------------------------------------------------------------------------------------
# Running


def flatten_metrics(result: Any, prefix: str = "") -> dict[str, float]:
    """The finite-or-NaN scalar numbers of a result, by dotted name (lists are left out).

    A result with ``as_dict()`` (a `ReplicationResult`: its metrics) gives that; else
    ``to_dict()``, an attrs value or a mapping is walked. Booleans become 0/1.

    >>> flatten_metrics({"wait": {"mean": 2.0, "n": 3}, "ok": True, "rows": [1, 2]})
    {'wait.mean': 2.0, 'wait.n': 3.0, 'ok': 1.0}
    """
    data: Any = result
    if not prefix:
        if callable(getattr(result, "as_dict", None)):  # gridcore.sim ReplicationResult
            data = result.as_dict()
        elif callable(getattr(result, "to_dict", None)):
            data = result.to_dict()
        elif attrs.has(type(result)):
            data = attrs.asdict(result)
    out: dict[str, float] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            key = f"{prefix}{k}"
            if isinstance(v, int | float):  # bool is an int: True -> 1.0
                out[key] = float(v)
            elif isinstance(v, Mapping) or attrs.has(type(v)):
                inner = attrs.asdict(v) if attrs.has(type(v)) else v
                out.update(flatten_metrics(inner, key + "."))
    return out


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


@attrs.frozen
class SweepProgress:
    """Where a sweep is: runs done (stored, this session or before), failed, time."""

    total: int
    done: int
    failed: int
    reused: int
    elapsed_s: float
    remaining_s: float

    def to_text(self) -> str:
        """One line: ``12/32 done, 1 failed, 40.1 s elapsed, ~66 s left``."""
        left = "?" if math.isnan(self.remaining_s) else f"~{self.remaining_s:.0f} s"
        reused = f" ({self.reused} reused)" if self.reused else ""
        return (
            f"{self.done}/{self.total} done{reused}, {self.failed} failed, "
            f"{self.elapsed_s:.1f} s elapsed, {left} left"
        )


@attrs.frozen
class RunFailure:
    """A run that raised: its key, point, replication, overrides and traceback text."""

    key: str
    point: int
    replication: int
    overrides: tuple[tuple[str, Any], ...]
    error: str

    def headline(self) -> str:
        """The last line of the traceback (the exception and its message)."""
        lines = [x for x in self.error.strip().splitlines() if x.strip()]
        return lines[-1] if lines else "error"


@attrs.frozen
class SweepResult:
    """What `run_sweep` did: counts, failures, wall time and the aggregate rows."""

    out_dir: Path
    total: int
    executed: int
    reused: int
    failures: tuple[RunFailure, ...]
    elapsed_s: float
    run_seconds: float
    aggregate: tuple[dict[str, Any], ...] = attrs.field(repr=False)

    @property
    def ok(self) -> bool:
        """Whether every run succeeded."""
        return not self.failures


class SerialExecutor(cf.Executor):
    """An executor that runs each call at once in this process (for debugging and baselines)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Run ``fn(*args, **kwargs)`` now; the future holds its result or exception."""
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller sees it through the future, as with a pool
            fut.set_exception(exc)
        return fut


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent, or torn by an old crash: run it again
    return data if isinstance(data, dict) else None


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
    _write_json(
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
    todo: list[RunSpec] = []
    reused = 0
    failures: dict[str, RunFailure] = {}
    for s in specs:
        if (runs_dir / f"{s.key}.json").exists() and _read_record(runs_dir / f"{s.key}.json"):
            reused += 1
            continue
        old = _read_record(failed_dir / f"{s.key}.json") if not retry_failed else None
        if old is not None:
            failures[s.key] = _failure(s, str(old.get("error", "")))
            continue
        todo.append(s)

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
    ex = _local_pool(workers) if own else executor
    try:
        for spec, rec in _submit_all(ex, fn, todo, max_pending):
            state["new"] += 1
            run_seconds += float(rec.get("seconds", 0.0))
            rec = {**rec, "overrides": spec.point.as_dict(), "label": spec.point.label}
            if rec.get("status") == "ok":
                _write_json(runs_dir / f"{spec.key}.json", rec)
                (failed_dir / f"{spec.key}.json").unlink(missing_ok=True)
                state["done"] += 1
            else:
                _write_json(failed_dir / f"{spec.key}.json", rec)
                failures[spec.key] = _failure(spec, str(rec.get("error", "")))
                state["failed"] += 1
            report()
    except BaseException:
        # Interrupted (Ctrl-C, a lost cluster): the stored runs stay; aggregate what exists.
        write_aggregate(sweep, out, specs)
        _write_failures(out, specs, failures)
        seal(out, "sweep", key)
        raise
    finally:
        if own and ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)

    rows = write_aggregate(sweep, out, specs)
    _write_failures(out, specs, failures)
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


# ---------------------------------------------------------------------------------------------
# Aggregating and loading


def _point_columns(sweep: Sweep, point: Point) -> dict[str, Any]:
    cols: dict[str, Any] = {"point": point.index, "label": point.label}
    values = point.as_dict()
    for f in sweep.fields:
        cols[f] = values.get(f)
    return cols


def write_aggregate(
    sweep: Sweep, out_dir: Path, specs: Sequence[RunSpec] | None = None
) -> list[dict[str, Any]]:
    """Write ``aggregate.csv``/``.json`` and ``runs.csv`` from the stored runs; return rows.

    One aggregate row per (point, metric): the point's columns, then mean, half width,
    95% interval and the number of replications it rests on.
    """
    specs = sweep.runs() if specs is None else specs
    per_point: dict[int, list[dict[str, Any]]] = {p.index: [] for p in sweep.points}
    run_rows: list[dict[str, Any]] = []
    for s in specs:
        rec = _read_record(out_dir / "runs" / f"{s.key}.json")
        status = "ok" if rec is not None else "missing"
        if rec is None and (out_dir / "failed" / f"{s.key}.json").exists():
            status = "failed"
        row = {
            **_point_columns(sweep, s.point),
            "replication": s.replication,
            "key": s.key,
            "status": status,
        }
        if rec is not None:
            metrics = rec.get("metrics", {})
            per_point[s.point.index].append(metrics)
            row["seconds"] = rec.get("seconds")
            row.update(metrics)
        run_rows.append(row)

    rows: list[dict[str, Any]] = []
    for p in sweep.points:
        recs = per_point[p.index]
        names = sorted({k for m in recs for k in m})
        for name in names:
            vals = [float(m[name]) if m.get(name) is not None else math.nan for m in recs]
            est = estimate(vals).to_dict()
            rows.append({**_point_columns(sweep, p), "metric": name, **est})
    point_cols = ["point", "label", *sweep.fields]
    _write_csv(out_dir / "aggregate.csv", rows, [*point_cols, *AGGREGATE_FIELDS])
    _write_json(
        out_dir / "aggregate.json",
        {"name": sweep.name, "fields": list(sweep.fields), "rows": rows},
    )
    run_cols = [*point_cols, "replication", "key", "status", "seconds"]
    extra = sorted({k for r in run_rows for k in r} - set(run_cols))
    _write_csv(out_dir / "runs.csv", run_rows, [*run_cols, *extra])
    return rows


def _write_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    write_csv(path, columns, ([r.get(c) for c in columns] for r in rows))


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, data, indent=1)


def _write_failures(
    out_dir: Path, specs: Sequence[RunSpec], failures: Mapping[str, RunFailure]
) -> None:
    data = [
        {
            "key": f.key,
            "point": f.point,
            "replication": f.replication,
            "overrides": dict(f.overrides),
            "error": f.error,
        }
        for s in specs
        if (f := failures.get(s.key)) is not None
    ]
    _write_json(out_dir / "failures.json", data)


def _convert(text: str) -> Any:
    if text == "":
        return math.nan
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def read_csv_rows(path: str | Path, text_columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """A CSV file as a list of dicts, numbers converted (empty cells become NaN).

    Columns in `text_columns` stay strings (codes such as ``"0101"`` keep their zeros).
    """
    from gridcore.io.text import read_text

    keep = set(text_columns)
    text = read_text(path, "a CSV table")
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, [])
            out = []
            for row in reader:
                if not row:  # a blank line (DictReader skipped them too)
                    continue
                if len(row) != len(header):
                    raise FileFormatError(
                        str(path), f"line {reader.line_num}", "", f"{len(header)} fields", len(row)
                    )
                out.append(
                    {k: v if k in keep else _convert(v) for k, v in zip(header, row, strict=True)}
                )
        except csv.Error as exc:
            raise FileFormatError(
                str(path), f"line {reader.line_num}", "", f"valid CSV ({exc})"
            ) from None
    return out


def load_results(path: str | Path, table: str | None = None) -> Any:
    """Results of a sweep folder or a single-run folder as a table.

    A sweep folder (it has ``sweep.json``) gives one row per run: the point, its swept
    fields, the replication, key, status and every scalar metric (``runs.csv``);
    ``table="aggregate"`` gives the aggregate instead. A run folder (``summary.json``
    from ``gridcore simulate``) gives its ``replications.csv`` table when it has one, or
    ``table="NAME"`` loads ``NAME.csv`` (for example ``grids``); a comparison folder gives
    ``comparison.csv`` (per metric: base, what-if, difference, interval). The result is a
    ``pandas.DataFrame`` when pandas is installed, else a list of dicts (one per row,
    numbers converted), which ``polars.DataFrame(rows)`` also takes.
    """
    d = Path(path)
    if not d.is_dir():
        raise FileFormatError(str(d), "", "", "a sweep or run results folder")
    if (d / "sweep.json").exists():
        name = table or "runs"
    elif (d / "comparison.csv").exists():
        name = table or "comparison"
    elif (d / "summary.json").exists():
        name = table or "replications"
        if table is None and not (d / "replications.csv").exists():
            from gridcore.io.text import read_text

            try:
                summary = json.loads(read_text(d / "summary.json", "a summary.json"))
            except (json.JSONDecodeError, RecursionError) as exc:
                raise FileFormatError(
                    str(d / "summary.json"), "", "", "valid JSON", str(exc)
                ) from None
            return _frame([flatten_metrics(summary)])
    else:
        raise FileFormatError(
            str(d), "", "", "a folder with sweep.json, comparison.csv or summary.json"
        )
    csv_path = d / f"{name}.csv"
    if not csv_path.exists():
        have = sorted(x.stem for x in d.glob("*.csv"))
        raise FileFormatError(str(csv_path), "", "table", f"one of the tables {have}", name)
    try:
        import pandas as pd
    except ImportError:
        return read_csv_rows(csv_path)
    return pd.read_csv(csv_path)


def _frame(rows: list[dict[str, Any]]) -> Any:
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Executors and the command line


class _DaskExecutor(cf.Executor):
    """A Dask client's executor that also closes the client on shutdown."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._inner = client.get_executor()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Submit to the cluster (pure=False: a call is never merged with an identical one)."""
        fut: cf.Future[Any] = self._inner.submit(fn, *args, pure=False, **kwargs)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Finish (or cancel) the submitted calls and close the client."""
        self._inner.shutdown(wait=wait and not cancel_futures)
        self._client.close()


def _local_pool(workers: int | None) -> cf.Executor:
    """A local process pool whose workers die with this process (default: the cores)."""
    from gridcore.sim.pool import MAX_WORKERS, process_pool

    return process_pool(min(MAX_WORKERS, os.cpu_count() or 1) if workers is None else workers)


def executor_from_spec(spec: str = "local", workers: int | None = None) -> cf.Executor:
    """An executor from a command-line spec: ``local``, ``serial`` or ``dask://HOST:PORT``.

    ``local`` is a process pool of `workers` (default: the machine's cores). Dask is an
    optional extra (``pip install 'gridcore[dist]'``), imported only for a ``dask://``
    spec. The caller shuts the executor down.
    """
    if spec == "local":
        return _local_pool(workers)
    if spec == "serial":
        return SerialExecutor()
    if spec.startswith(("dask://", "tcp://")):
        try:
            from distributed import Client as _Client
        except ImportError:
            raise ConfigError(
                f"executor {spec!r} needs Dask: install the extra with pip install 'gridcore[dist]'"
            ) from None
        make_client: Any = _Client  # untyped library
        address = "tcp://" + spec.split("://", 1)[1]
        try:
            client = make_client(address, timeout=10)
        except OSError as exc:
            raise ConfigError(
                f"executor {spec!r}: cannot reach a Dask scheduler at {address} ({exc})"
            ) from None
        return _DaskExecutor(client)
    raise ConfigError(f"executor {spec!r}: expected 'local', 'serial' or 'dask://HOST:PORT'")


def _print_progress(stream: Any) -> Callable[[SweepProgress], None]:
    last = [0.0]
    tty = bool(getattr(stream, "isatty", lambda: False)())

    def show(p: SweepProgress) -> None:
        now = time.monotonic()
        final = p.done + p.failed >= p.total
        if tty:
            stream.write("\r" + p.to_text() + ("\n" if final else ""))
            stream.flush()
        elif final or now - last[0] >= 2.0:
            print(p.to_text(), file=stream)
            last[0] = now

    return show


def _cmd_sweep(args: argparse.Namespace) -> int:
    if args.workers is not None:
        from gridcore.sim.pool import check_workers

        check_workers(args.workers)
    sweep = load_sweep(args.file)
    from gridcore.io.folder import check_destination

    check_destination(args.out, "sweep", sweep_key(sweep), overwrite=args.overwrite)
    n_runs = len(sweep.points) * sweep.replications
    print(
        f"sweep {sweep.name!r}: {len(sweep.points)} points x {sweep.replications} "
        f"replications = {n_runs} runs -> {args.out}",
        file=sys.stderr,
    )
    ex = executor_from_spec(args.executor, args.workers)
    try:
        result = run_sweep(
            sweep, args.out, ex, _print_progress(sys.stderr), overwrite=args.overwrite
        )
    finally:
        ex.shutdown(wait=False, cancel_futures=True)
    for f in result.failures:
        print(
            f"failed: run {f.key} point {f.point} replication {f.replication} "
            f"{dict(f.overrides)}: {f.headline()}",
            file=sys.stderr,
        )
    print(
        f"{result.total} runs: {result.executed} run now, {result.reused} reused, "
        f"{len(result.failures)} failed, {result.elapsed_s:.1f} s; "
        f"wrote {Path(args.out) / 'aggregate.csv'}"
    )
    return 0 if result.ok else 1


def register(subparsers: Any) -> None:
    """Add ``gridcore sweep FILE.toml --out DIR [--executor ...] [--workers N]``."""
    p = subparsers.add_parser(
        "sweep", help="run a parameter sweep (points x replications) and aggregate it"
    )
    p.add_argument("file", help="the sweep TOML file")
    p.add_argument("--out", required=True, help="results folder (resumed if it exists)")
    p.add_argument(
        "--executor",
        default="local",
        help="local (process pool, default), serial, or dask://HOST:PORT",
    )
    p.add_argument("--workers", type=int, default=None, help="local processes (default: cores)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the contents of an --out folder that is not this sweep's",
    )
    p.set_defaults(func=_cmd_sweep)
