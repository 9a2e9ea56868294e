"""The tables of a sweep folder: the aggregate, one row per run, and the failures.

The aggregate has one row per point and metric: the mean and 95% interval over the
replications stored in ``runs/<key>.json`` (``aggregate.csv`` and ``aggregate.json``);
``runs.csv`` has one row per run, ``failures.json`` the runs that raised.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gridcore.io.tables import write_csv, write_json
from gridcore.sim.stats import estimate
from gridcore.sweep.points import Point, RunSpec, Sweep
from gridcore.sweep.records import RunFailure

__all__ = ["AGGREGATE_FIELDS", "read_record", "store_json", "write_aggregate", "write_failures"]

AGGREGATE_FIELDS = ("metric", "mean", "half_width", "ci_low", "ci_high", "n")
"""The statistics columns of the aggregate table (after the point columns)."""


def read_record(path: Path) -> dict[str, Any] | None:
    """A stored run record (``runs/<key>.json``, ``failed/<key>.json``), or None if absent
    or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent, or torn by an old crash: run it again
    return data if isinstance(data, dict) else None


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
        rec = read_record(out_dir / "runs" / f"{s.key}.json")
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
    store_json(
        out_dir / "aggregate.json",
        {"name": sweep.name, "fields": list(sweep.fields), "rows": rows},
    )
    run_cols = [*point_cols, "replication", "key", "status", "seconds"]
    extra = sorted({k for r in run_rows for k in r} - set(run_cols))
    _write_csv(out_dir / "runs.csv", run_rows, [*run_cols, *extra])
    return rows


def _write_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    write_csv(path, columns, ([r.get(c) for c in columns] for r in rows))


def store_json(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` atomically, making its folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, data, indent=1)


def write_failures(
    out_dir: Path, specs: Sequence[RunSpec], failures: Mapping[str, RunFailure]
) -> None:
    """Write ``failures.json``: the failed runs in the order of `specs`."""
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
    store_json(out_dir / "failures.json", data)
