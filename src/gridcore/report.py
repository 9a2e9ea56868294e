"""Reports: an HTML page with PNG figures for a run, a comparison or a sweep folder.

`write_report(folder)` reads what `gridcore simulate` / `compare` / `sweep` wrote and
renders, as far as the folder holds the data:

- a run: each metric over the replications with its 95% interval; response and
  resolution time distributions; backlog over time; a map of the grids coloured by
  on-time rate (or load); the share of cases resolved at each level;
- a comparison (``comparison.csv``): each difference (what-if - base) with its interval,
  then the base and what-if runs as above;
- a sweep (``sweep.json``): each metric against the swept field with confidence bars.

The page is ``report.html`` next to its figures (relative ``<img>`` links to PNG files),
with a table of the summary. matplotlib is an optional extra (``gridcore[report]``),
used with the Agg renderer through `matplotlib.figure.Figure` (no pyplot state).

Tables the run figures read (first name found wins; see docs/analysis.md): case times
``cases.csv`` (``response_minutes``, ``resolution_minutes``), ``backlog.csv`` (a time
column and ``open``), ``grids.csv`` (``grid`` and ``on_time_rate`` or a load column),
share per level from ``levels.csv`` or metrics named ``share_resolved_<level>``.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from gridcore.errors import ConfigError, FileFormatError
from gridcore.io.atomic import write_text_atomic
from gridcore.sweep.results import read_csv_rows

__all__ = ["Figure", "register", "write_report"]

Rows = list[dict[str, Any]]

# Where the run figures look for their data: table names, then column names, first found.
CASE_TABLES = ("cases", "case_times")
# (column, hours per unit): per-case times, first found
RESPONSE_COLUMNS = (("response_minutes", 1 / 60), ("response_s", 1 / 3600), ("response_hours", 1.0))
RESOLUTION_COLUMNS = (
    ("resolution_minutes", 1 / 60),
    ("resolution_s", 1 / 3600),
    ("resolution_hours", 1.0),
)
# per-grid mean times, the fallback when a run has no per-case table
GRID_RESPONSE_COLUMNS = (("response_s_mean", 1 / 3600), ("response_minutes_mean", 1 / 60))
GRID_RESOLUTION_COLUMNS = (("resolution_s_mean", 1 / 3600), ("resolution_hours_mean", 1.0))
BACKLOG_TABLES = ("backlog",)
BACKLOG_TIME_COLUMNS = ("day", "days", "time_days", "hour", "hours", "time_hours", "minute", "time")
BACKLOG_VALUE_COLUMNS = ("open_cases", "open", "backlog", "queue")
GRID_TABLES = ("grid_cases", "grids", "grid")
GRID_CODE_COLUMNS = ("grid", "code", "grid_code")
GRID_RATE_COLUMNS = ("on_time_rate", "ontime_rate", "on_time")
GRID_LOAD_COLUMNS = ("n_cases", "cases", "load", "incidents", "cases_per_worker")
LEVEL_NAMES = ("grid", "community", "street", "district", "city", "department")
_SHARE_RE = re.compile(r"^(?:share_resolved|resolved_share|share)_(?P<level>[a-z]+)$")

# Metrics shown first in tables and sweep figures when a folder has them.
KEY_METRICS = (
    "on_time_rate",
    "response_minutes_mean",
    "resolution_hours_mean",
    "closure_rate",
    "open_cases_end",
    "worker_utilisation",
    "queue_wait_minutes",
    "p_wait",
    "utilisation",
)


@attrs.frozen
class Figure:
    """One figure of a report: its PNG file name, title and a one-line caption."""

    file: str
    title: str
    caption: str = ""


# ---------------------------------------------------------------------------------------------
# matplotlib, loaded lazily


def _mpl() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure as MplFigure
    except ImportError:
        raise ConfigError(
            "reports need matplotlib: install the extra with pip install 'gridcore[report]'"
        ) from None
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", "sans-serif"]
    return MplFigure


def _new_figure(width: float = 7.0, height: float = 4.0) -> Any:
    fig = _mpl()(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _save(fig: Any, out: Path, name: str) -> str:
    fig.savefig(out / name, format="png")
    return name


# ---------------------------------------------------------------------------------------------
# Reading folders


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileFormatError(str(path), "", "", "readable JSON", str(exc)) from None


def _table(folder: Path, names: Sequence[str], text_columns: Sequence[str] = ()) -> Rows | None:
    for n in names:
        p = folder / f"{n}.csv"
        if p.exists():
            return read_csv_rows(p, text_columns)
        if (folder / f"{n}.parquet").exists():
            return _parquet_rows(folder / f"{n}.parquet", text_columns)
    return None


def _parquet_rows(path: Path, text_columns: Sequence[str] = ()) -> Rows:
    """A Parquet table (a run's `cases.parquet`) as `read_csv_rows` gives a CSV one: a
    list of dicts, a missing number as NaN."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(
            f"{path}: reading a Parquet table needs pyarrow (pip install 'gridcore[report]')"
        ) from None
    try:
        rows: Rows = pq.read_table(path).to_pylist()
    except (OSError, ValueError) as exc:
        raise FileFormatError(str(path), "", "", "a readable Parquet table", str(exc)) from None
    keep = set(text_columns)
    for row in rows:
        for k, v in row.items():
            if v is None and k not in keep:
                row[k] = math.nan
    return rows


def _column(rows: Rows, names: Sequence[str]) -> str | None:
    if not rows:
        return None
    for n in names:
        if n in rows[0]:
            return n
    return None


def _floats(rows: Rows, col: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    vals = []
    for r in rows:
        v = r.get(col)
        vals.append(float(v) if isinstance(v, int | float) else math.nan)
    return np.asarray(vals, dtype=float)


def _ordered_metrics(names: Sequence[str]) -> list[str]:
    first = [m for m in KEY_METRICS if m in names]
    return first + sorted(n for n in names if n not in first)


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:.4g}"
    return html.escape(str(x))


# ---------------------------------------------------------------------------------------------
# Run figures


def _fig_replications(
    folder: Path, out: Path, prefix: str, theory: Mapping[str, Any]
) -> Figure | None:
    rows = _table(folder, ("replications",))
    if not rows:
        return None
    names = _ordered_metrics([k for k in rows[0] if k != "replication"])[:12]
    names = [n for n in names if np.isfinite(_floats(rows, n)).any()]
    if not names:
        return None
    ncol = 3
    nrow = math.ceil(len(names) / ncol)
    fig = _new_figure(9.0, 2.2 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        ys = _floats(rows, name)
        xs = np.arange(len(ys))
        ax.plot(xs, ys, "o", color="#1f77b4")
        ok = ys[np.isfinite(ys)]
        if ok.size:
            m = float(ok.mean())
            ax.axhline(m, color="#d62728", lw=1)
            if ok.size > 1:
                from gridcore.sim.stats import estimate

                e = estimate(list(ok))
                ax.axhspan(e.low, e.high, color="#d62728", alpha=0.15)
        t = theory.get(name)
        if isinstance(t, int | float):  # queue-only runs: Erlang C
            ax.axhline(float(t), color="#2ca02c", ls="--", lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_xticks(xs)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_axis_off()
    more = ", dashed: theory" if theory else ""
    fig.suptitle(f"Metrics per replication (line: mean, band: 95% interval{more})", fontsize=10)
    return Figure(
        _save(fig, out, f"{prefix}replications.png"),
        "Metrics per replication",
        "Each dot is one replication; the band is the 95% Student t interval of the mean.",
    )


def _unit_column(rows: Rows, options: Sequence[tuple[str, float]]) -> tuple[str, float] | None:
    for col, factor in options:
        if rows and col in rows[0]:
            return col, factor
    return None


def _fig_times(folder: Path, out: Path, prefix: str) -> Figure | None:
    rows = _table(folder, CASE_TABLES)
    per_case = bool(rows)
    options: tuple[Sequence[tuple[str, float]], ...] = (RESPONSE_COLUMNS, RESOLUTION_COLUMNS)
    if not rows:  # no per-case table: the distribution of per-grid means
        rows = _table(folder, GRID_TABLES, GRID_CODE_COLUMNS)
        options = (GRID_RESPONSE_COLUMNS, GRID_RESOLUTION_COLUMNS)
    if not rows:
        return None
    cols = [
        (found, label)
        for opts, label in zip(options, ("response", "resolution"), strict=True)
        if (found := _unit_column(rows, opts)) is not None
    ]
    if not cols:
        return None
    unit = "cases" if per_case else "grids (mean time of a grid's cases)"
    fig = _new_figure(9.0, 3.5)
    axes = fig.subplots(1, len(cols), squeeze=False)[0]
    for ax, ((col, factor), label) in zip(axes, cols, strict=True):
        v = _floats(rows, col)
        v = v[np.isfinite(v)]
        if v.size == 0:
            ax.text(0.5, 0.5, "no cases", ha="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        hours = v * factor
        hi = float(np.quantile(hours, 0.99)) if hours.size > 10 else float(hours.max())
        colour = "#2ca02c" if label == "response" else "#9467bd"
        ax.hist(np.clip(hours, 0, hi), bins=min(40, max(5, v.size // 3)), color=colour)
        med = float(np.median(hours))
        ax.axvline(med, color="k", ls="--", lw=1, label="median")
        ax.set_xlabel(f"{label} time (hours; clipped at the 99th percentile)")
        ax.set_ylabel(unit.split(" ")[0])
        ax.set_title(f"{label} time: median {med:.2f} h, n={v.size}", fontsize=9)
        ax.legend(fontsize=8)
    what = "over all cases" if per_case else "of the per-grid mean times"
    return Figure(
        _save(fig, out, f"{prefix}times.png"),
        "Response and resolution times",
        f"Distribution {what}, all replications.",
    )


def _fig_backlog(folder: Path, out: Path, prefix: str) -> Figure | None:
    rows = _table(folder, BACKLOG_TABLES)
    tcol = _column(rows or [], BACKLOG_TIME_COLUMNS)
    vcol = _column(rows or [], BACKLOG_VALUE_COLUMNS)
    if not rows or tcol is None or vcol is None:
        return None
    fig = _new_figure(8.0, 3.5)
    ax = fig.subplots()
    reps = sorted({r.get("replication", 0) for r in rows}, key=str)
    for rep in reps:
        sel = [r for r in rows if r.get("replication", 0) == rep]
        style = "o-" if len(sel) < 30 else "-"
        ax.plot(_floats(sel, tcol), _floats(sel, vcol), style, lw=1, label=f"replication {rep}")
    ax.set_xlabel(tcol)
    ax.set_ylabel(f"{vcol} (cases)")
    ax.set_title("Backlog over time", fontsize=10)
    if len(reps) <= 8:
        ax.legend(fontsize=7)
    return Figure(
        _save(fig, out, f"{prefix}backlog.png"),
        "Backlog over time",
        "Open cases at each sample time, one line per replication.",
    )


def _city_for(folder: Path) -> Any:
    """The hierarchy the run used: a GeoJSON in the folder or named by the scenario, else
    the synthetic preset rebuilt from its name, seed and grid count."""
    from gridcore.io.geojson import read_geojson

    local = folder / "city.geojson"
    if local.exists():
        return read_geojson(local)
    scen = folder / "scenario.json"
    if not scen.exists():
        return None
    city = _read_json(scen).get("city", {})
    if city.get("geojson"):
        p = Path(city["geojson"])
        return read_geojson(p) if p.exists() else None
    from gridcore.synth import build_city, preset_spec

    spec = preset_spec(str(city.get("preset", "yichang")))
    if city.get("grids"):
        spec = attrs.evolve(spec, grids=int(city["grids"]))
    return build_city(spec, seed=int(city.get("seed", 0)))


def _grid_values(rows: Rows, code_col: str, col: str, *, load: bool) -> dict[str, float]:
    """Per grid: the mean of a rate over replications, or a load summed and divided by the
    replications (a grid a replication does not list had no cases in it)."""
    acc: dict[str, list[float]] = {}
    for r in rows:
        v = r.get(col)
        if isinstance(v, int | float) and math.isfinite(v):
            acc.setdefault(str(r[code_col]), []).append(float(v))
    if not load:
        return {k: float(np.mean(v)) for k, v in acc.items()}
    n_reps = max(1, len({r.get("replication", 0) for r in rows}))
    return {k: float(np.sum(v)) / n_reps for k, v in acc.items()}


def _fig_map(folder: Path, out: Path, prefix: str) -> Figure | None:
    rows = _table(folder, GRID_TABLES, GRID_CODE_COLUMNS)
    code_col = _column(rows or [], GRID_CODE_COLUMNS)
    if not rows or code_col is None:
        return None
    panels = [
        (col, load)
        for col, load in (
            (_column(rows, GRID_RATE_COLUMNS), False),
            (_column(rows, GRID_LOAD_COLUMNS), True),
        )
        if col is not None
    ]
    h = _city_for(folder) if panels else None
    if h is None:
        return None
    shapes, codes = [], []
    for code, poly in zip(h.grids, h.grid_polygons(), strict=True):
        if poly is None:
            continue
        geom = poly.geoms[0] if hasattr(poly, "geoms") else poly
        shapes.append(np.asarray(geom.exterior.coords))
        codes.append(str(code))
    if not shapes:
        return None
    import matplotlib
    from matplotlib.collections import PolyCollection

    fig = _new_figure(6.0 * len(panels), 5.5)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    titles = []
    for ax, (col, load) in zip(axes, panels, strict=True):
        assert col is not None
        per_grid = _grid_values(rows, code_col, col, load=load)
        fill = 0.0 if load else math.nan
        values = np.asarray([per_grid.get(c, fill) for c in codes], dtype=float)
        cmap = matplotlib.colormaps["viridis" if load else "RdYlGn"]
        coll = PolyCollection(
            shapes,
            array=np.ma.masked_invalid(values),
            cmap=cmap.with_extremes(bad="#cccccc"),
            edgecolor="white",
            linewidths=0.2,
        )
        ax.add_collection(coll)
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_axis_off()
        what = f"{col} per grid, per replication" if load else f"{col} (mean over replications)"
        fig.colorbar(coll, ax=ax, shrink=0.7, label=what)
        with_data = int(np.isfinite(values).sum())
        if load:
            ax.set_title(f"load: {col} per grid and replication", fontsize=10)
        else:
            ax.set_title(f"{col}: {with_data} of {len(codes)} grids with data", fontsize=10)
        titles.append(col)
    return Figure(
        _save(fig, out, f"{prefix}map.png"),
        f"Map of the grids by {' and '.join(titles)}",
        "Grey: no closed case in that grid, so no rate.",
    )


def _level_shares(folder: Path, summary: Mapping[str, Any]) -> dict[str, float]:
    rows = _table(folder, ("levels",))
    if rows and "level" in rows[0]:
        col = _column(rows, ("share", "share_resolved", "resolved_share"))
        if col:
            acc: dict[str, list[float]] = {}
            for r in rows:
                v = r.get(col)
                if isinstance(v, int | float) and math.isfinite(v):
                    acc.setdefault(str(r["level"]), []).append(float(v))
            return {k: float(np.mean(v)) for k, v in acc.items()}
    shares: dict[str, float] = {}
    for name, est in summary.get("metrics", {}).items():
        m = _SHARE_RE.match(name)
        if m and m.group("level") in LEVEL_NAMES and isinstance(est, Mapping):
            v = est.get("mean")
            if isinstance(v, int | float):
                shares[m.group("level")] = float(v)
    return shares


def _fig_levels(folder: Path, out: Path, prefix: str, summary: Mapping[str, Any]) -> Figure | None:
    shares = _level_shares(folder, summary)
    if not shares:
        return None
    levels = sorted(shares, key=lambda x: LEVEL_NAMES.index(x) if x in LEVEL_NAMES else 99)
    fig = _new_figure(6.0, 3.5)
    ax = fig.subplots()
    vals = [shares[x] for x in levels]
    bars = ax.bar(levels, vals, color="#ff7f0e")
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in vals], fontsize=8)
    ax.set_ylabel("share of cases resolved")
    ax.set_ylim(0, max(1.0, max(vals) * 1.1))
    ax.set_title("Share of cases resolved per level", fontsize=10)
    return Figure(
        _save(fig, out, f"{prefix}levels.png"),
        "Share resolved per level",
        "Mean over replications.",
    )


def _summary_table(summary: Mapping[str, Any]) -> str:
    metrics = summary.get("metrics", {})
    if not isinstance(metrics, Mapping) or not metrics:
        return ""
    lines = ["<table><tr><th>metric</th><th>mean</th><th>95% interval</th><th>n</th></tr>"]
    for name in _ordered_metrics(list(metrics)):
        e = metrics[name]
        lines.append(
            f"<tr><td>{html.escape(name)}</td><td>{_fmt(e.get('mean'))}</td>"
            f"<td>{_fmt(e.get('ci_low'))} – {_fmt(e.get('ci_high'))}</td>"
            f"<td>{_fmt(e.get('n'))}</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _run_section(folder: Path, out: Path, prefix: str) -> tuple[str, list[Figure]]:
    summary = _read_json(folder / "summary.json")
    figs = [
        f
        for f in (
            _fig_replications(folder, out, prefix, summary.get("theory") or {}),
            _fig_times(folder, out, prefix),
            _fig_backlog(folder, out, prefix),
            _fig_map(folder, out, prefix),
            _fig_levels(folder, out, prefix, summary),
        )
        if f is not None
    ]
    facts = ", ".join(
        f"{k} {_fmt(summary.get(k))}"
        for k in ("scenario", "mode", "seed", "replications", "days", "warmup_days")
        if k in summary
    )
    checks = summary.get("checks_ok")
    check_txt = "" if checks is None else f"; self-checks {'passed' if checks else 'FAILED'}"
    body = f"<p>{facts}{check_txt}</p>\n{_summary_table(summary)}"
    return body, figs


# ---------------------------------------------------------------------------------------------
# Comparison and sweep figures


def _fig_differences(rows: Rows, out: Path) -> Figure | None:
    rows = [
        r
        for r in rows
        if isinstance(r.get("difference"), int | float) and math.isfinite(r["difference"])
    ]
    if not rows:
        return None
    rows = sorted(
        rows, key=lambda r: _ordered_metrics([x["metric"] for x in rows]).index(r["metric"])
    )
    fig = _new_figure(8.0, 0.35 * len(rows) + 1.5)
    ax = fig.subplots()
    ys = np.arange(len(rows))
    d = _floats(rows, "difference")
    lo, hi = _floats(rows, "ci_low"), _floats(rows, "ci_high")
    # relative to the base so metrics of different units share one axis
    base = np.abs(_floats(rows, "base"))
    scale = np.where(base > 0, base, 1.0)
    err = np.vstack([np.nan_to_num((d - lo) / scale), np.nan_to_num((hi - d) / scale)])
    ax.errorbar(d / scale, ys, xerr=err, fmt="o", color="#1f77b4", capsize=3)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(ys, [str(r["metric"]) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("(what-if - base) / |base|, with 95% interval")
    ax.set_title("What-if against base (common random numbers)", fontsize=10)
    return Figure(
        _save(fig, out, "differences.png"),
        "Differences with their intervals",
        "Paired by replication; an interval that excludes 0 is a real difference.",
    )


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _fig_sweep_metric(rows: Rows, metric: str, fields: Sequence[str], out: Path, i: int) -> Figure:
    sel = [r for r in rows if r["metric"] == metric]
    fig = _new_figure(6.5, 3.8)
    ax = fig.subplots()
    x_field = fields[0] if fields else None
    xs_raw = [r.get(x_field) for r in sel] if x_field else []
    groups: dict[Any, Rows] = {}
    if x_field and _numeric(xs_raw) and len(fields) <= 2:
        other = fields[1] if len(fields) == 2 else None
        for r in sel:
            groups.setdefault(r.get(other) if other else None, []).append(r)
        for gval, g in groups.items():
            g = sorted(g, key=lambda r: float(r[x_field]))
            m = _floats(g, "mean")
            hw = np.nan_to_num(_floats(g, "half_width"))
            label = f"{other}={gval}" if other else None
            ax.errorbar(_floats(g, x_field), m, yerr=hw, fmt="o-", capsize=4, label=label)
        distinct = sorted({float(x) for x in xs_raw if x is not None})
        if len(distinct) <= 12:
            ax.set_xticks(distinct, [f"{x:g}" for x in distinct])
        ax.set_xlabel(x_field)
        if len(groups) > 1:
            ax.legend(fontsize=8)
    else:
        labels = [str(r.get("label", r.get("point"))) for r in sel]
        xs = np.arange(len(sel))
        ax.errorbar(
            xs,
            _floats(sel, "mean"),
            yerr=np.nan_to_num(_floats(sel, "half_width")),
            fmt="o",
            capsize=4,
        )
        ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
        ax.set_xlabel("sweep point")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: mean and 95% interval over replications", fontsize=10)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", metric)
    return Figure(_save(fig, out, f"sweep_{i:02d}_{safe}.png"), metric)


def _sweep_table(rows: Rows, fields: Sequence[str], metrics: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in ["point", *fields, "metric"])
    lines = [f"<table><tr>{head}<th>mean</th><th>95% interval</th><th>n</th></tr>"]
    for r in rows:
        if r["metric"] not in metrics:
            continue
        cells = "".join(f"<td>{_fmt(r.get(f))}</td>" for f in ["point", *fields, "metric"])
        lines.append(
            f"<tr>{cells}<td>{_fmt(r.get('mean'))}</td>"
            f"<td>{_fmt(r.get('ci_low'))} – {_fmt(r.get('ci_high'))}</td>"
            f"<td>{_fmt(r.get('n'))}</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _sweep_report(folder: Path, out: Path, max_metrics: int) -> tuple[str, str, list[Figure]]:
    info = _read_json(folder / "sweep.json")
    agg = _read_json(folder / "aggregate.json")
    rows: Rows = list(agg.get("rows", []))
    fields = list(agg.get("fields", info.get("fields", [])))
    metrics = _ordered_metrics(sorted({str(r["metric"]) for r in rows}))

    def varies(m: str) -> bool:  # a metric equal at every point (grid count...) says nothing
        means = {
            round(float(r["mean"]), 12)
            for r in rows
            if r["metric"] == m and isinstance(r.get("mean"), int | float)
        }
        return len(means) > 1 or (len(means) == 1 and len(info.get("points", [])) == 1)

    metrics = [m for m in metrics if varies(m)][:max_metrics]
    figs = [_fig_sweep_metric(rows, m, fields, out, i) for i, m in enumerate(metrics)]
    failures = _read_json(folder / "failures.json") if (folder / "failures.json").exists() else []
    n_runs = len(info.get("runs", []))
    fail_txt = (
        f"<p><b>{len(failures)} run(s) failed</b> (see failures.json).</p>" if failures else ""
    )
    body = (
        f"<p>{len(info.get('points', []))} points x {info.get('replications')} replications "
        f"= {n_runs} runs; swept: {html.escape(', '.join(fields) or '(list of points)')}.</p>"
        f"{fail_txt}\n{_sweep_table(rows, fields, metrics)}"
    )
    return f"Sweep {info.get('name', folder.name)}", body, figs


# ---------------------------------------------------------------------------------------------
# The page


_CSS = """
body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1.5em 0; }
figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; }
"""


def _figures_html(figs: Sequence[Figure]) -> str:
    return "\n".join(
        f'<figure><img src="{html.escape(f.file)}" alt="{html.escape(f.title)}">'
        f"<figcaption><b>{html.escape(f.title)}</b>. {html.escape(f.caption)}</figcaption></figure>"
        for f in figs
    )


def write_report(folder: str | Path, out: str | Path | None = None, max_metrics: int = 12) -> Path:
    """Write ``report.html`` and its PNG figures for a run, comparison or sweep folder.

    `out` defaults to the folder itself; the figures go next to the page. Returns the
    path of ``report.html``. `max_metrics` caps the per-metric figures of a sweep.
    Raises `ConfigError` without matplotlib and `FileFormatError` for a folder that is
    not a results folder, or whose manifest is missing or does not match its files (a
    torn, mixed or edited folder), or for an `out` that cannot be written.
    """
    from gridcore.io.folder import check_writable_file, verify

    src = Path(folder)
    dest = Path(out) if out is not None else src
    fitted = _calibration(src) if src.is_dir() else None
    if fitted is None:  # a calibration is a scenario and its fits, not a results folder
        verify(src, ("run", "comparison", "sweep"))
    if dest.exists() and not dest.is_dir():
        raise FileFormatError(str(dest), "", "", "a folder for the report", "an existing file")
    check_writable_file(dest / "report.html", overwrite=True)
    _mpl()
    dest.mkdir(parents=True, exist_ok=True)
    sections: list[tuple[str, str, list[Figure]]] = []
    if (src / "sweep.json").exists() and (src / "aggregate.json").exists():
        sections.append(_sweep_report(src, dest, max_metrics))
        title = sections[0][0]
    elif (src / "comparison.csv").exists():
        rows = read_csv_rows(src / "comparison.csv")
        fig = _fig_differences(rows, dest)
        table = _comparison_table(rows)
        sections.append(("What-if against base", table, [fig] if fig else []))
        for part in ("base", "whatif"):
            if (src / part / "summary.json").exists():
                body, figs = _run_section(src / part, dest, f"{part}_")
                sections.append((part, body, figs))
        title = f"Comparison {src.name}"
    elif (src / "summary.json").exists():
        body, figs = _run_section(src, dest, "")
        title = f"Run {_read_json(src / 'summary.json').get('scenario', src.name)}"
        sections.append(("Summary", body, figs))
    elif fitted is not None:
        title, body, cal_figs = _calibration_section(fitted, dest)
        sections.append(("Fits against the data", body, [Figure(*f) for f in cal_figs]))
    else:
        raise FileFormatError(
            str(src),
            "",
            "",
            "a results folder (summary.json, comparison.csv or sweep.json) or a calibration",
        )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Source: <code>{html.escape(str(src))}</code></p>",
    ]
    for name, body, figs in sections:
        parts += [f"<h2>{html.escape(name)}</h2>", body, _figures_html(figs)]
    parts.append("</body></html>")
    page = dest / "report.html"
    write_text_atomic(page, "\n".join(parts) + "\n")
    return page


def _calibration(folder: Path) -> Path | None:
    """The fitted.json of a calibration folder (`gridcore calibrate`'s output), or None."""
    from gridcore.calibrate.figures import calibration_file

    return calibration_file(folder)


def _calibration_section(fitted: Path, dest: Path) -> tuple[str, str, list[tuple[str, str, str]]]:
    """A calibration's fits against its data (gridcore.calibrate.figures)."""
    from gridcore.calibrate.figures import calibration_report

    return calibration_report(fitted, dest)


def _comparison_table(rows: Rows) -> str:
    cols = ("metric", "base", "whatif", "difference", "ci_low", "ci_high")
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cmd_report(args: argparse.Namespace) -> int:
    page = write_report(args.dir, args.out)
    pngs = sorted(p.name for p in page.parent.glob("*.png"))
    print(f"wrote {page} with {len(pngs)} figures")
    return 0


def register(subparsers: Any) -> None:
    """Add ``gridcore report DIR [--out DIR]``."""
    p = subparsers.add_parser("report", help="write report.html with figures for a results folder")
    p.add_argument("dir", help="a run, comparison or sweep results folder")
    p.add_argument("--out", default=None, help="where to write (default: the folder itself)")
    p.set_defaults(func=_cmd_report)
