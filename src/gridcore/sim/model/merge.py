"""Merging streets: a replication's metrics, tables and self-checks from its streets' results.

Each street returns a `PartitionResult` (its cases' columnar facts, counters, per-grid
rows, backlog and queue accounting). `ReplicationFold` takes them one by one, in street
order, and lets each street's facts go once folded: the case metrics through
`gridcore.metrics.fold.MetricsFold` (bit for bit those of the concatenated facts), the
per-case rows to a `CaseRowSink` (the results folder) as they come, so that a long run's
memory does not grow with its cases. It computes the metrics and checks conservation of
incidents and Little's law on every kind of queue. `merge_partitions` folds a list.

Not a hot path except `_rounded` (the per-case table's bulk rounding, up to
`MAX_CASE_ROWS` rows a replication): it is held equal to Python's `round` by a property
test (`tests/sim/test_grid_model.py::test_bulk_rounding_gives_pythons_round`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import attrs
import numpy as np

from gridcore._rates import ratio
from gridcore.metrics import NO_TIME, CaseFacts, compute_metrics
from gridcore.metrics.fold import MetricsFold
from gridcore.sim.model.state import LEVELS
from gridcore.sim.results import Check, ReplicationResult, Table, metrics_record
from gridcore.sim.scenario import Scenario
from gridcore.sim.stats import little_check

__all__ = [
    "CASE_COLUMNS",
    "MAX_CASE_ROWS",
    "CaseRowSink",
    "PartitionResult",
    "ReplicationFold",
    "concat_facts",
    "merge_partitions",
]


@attrs.frozen
class PartitionResult:
    """What one street's simulation returns, merged into a replication's result."""

    street: str
    facts: CaseFacts | None
    counters: tuple[tuple[str, float], ...]
    grid_rows: tuple[tuple[Any, ...], ...]
    backlog: tuple[tuple[int, int], ...]
    queues: tuple[tuple[str, float, int, float], ...]
    """(queue kind, area, arrivals, total wait) per queue kind."""
    events: int
    event_lines: str = ""
    """The measured cases' events as JSON lines, when the street was asked for them."""


# -- facts: concatenate chunks -------------------------------------------------------


def concat_facts(chunks: Sequence[CaseFacts], as_of: datetime) -> CaseFacts:
    """One `CaseFacts` from several (`CaseFacts.concat`), as of `as_of`."""
    merged = CaseFacts.concat(chunks)
    as_of_us = round(as_of.timestamp() * 1e6)
    if merged.as_of_us != as_of_us:
        merged = attrs.evolve(merged, as_of_us=as_of_us)
    return merged


_GRID_COLUMNS = (
    "grid", "workers", "households", "patrol_min", "visit_min", "inspection_min", "case_min",
    "idle_min", "patrols", "latent_found", "latent_open",
)  # fmt: skip

_METRIC_COLUMNS = (
    ("n_cases", "cases"),
    ("closure_rate", "closure_rate"),
    ("on_time_rate", "on_time_rate"),
    ("accurate_dispatch_rate", "accurate_dispatch_rate"),
    ("rework_rate", "rework_rate"),
    ("share_grid", "share_resolved_grid"),
    ("share_community", "share_resolved_community"),
    ("share_street", "share_resolved_street"),
    ("share_department", "share_resolved_department"),
)


class CaseRowSink(Protocol):
    """Where a replication's per-case rows go as its streets are folded in
    (`gridcore.sim.case_rows` writes them to the results folder)."""

    def write(self, replication: int, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append one street's rows (`CASE_COLUMNS`, without the replication)."""

    def write_events(self, replication: int, lines: str) -> None:
        """Append one street's case events (JSON lines), when the run was asked for them."""


CASE_COLUMNS = (
    "grid",
    "category",
    "level",
    "response_minutes",
    "resolution_minutes",
    "on_time",
)
"""The columns of the per-case table (`cases.csv` or `cases.parquet`), after `replication`."""


class ReplicationFold:
    """A replication's result folded street by street, in street order.

    Each street's case facts are folded and let go: the case metrics through
    `gridcore.metrics.fold.MetricsFold`, the per-grid metrics per street (a grid is in one
    street), the per-case rows to `sink` when one is given (else kept, up to
    `MAX_CASE_ROWS`, then a histogram). What stays is about 26 bytes a case (level,
    response and resolution minutes, closed, on time) for the levels table, and the
    street's small tables. The result is the same as `merge_partitions` on the list.
    """

    def __init__(
        self, scenario: Scenario, replication: int, sink: CaseRowSink | None = None
    ) -> None:
        self.scenario = scenario
        self.replication = replication
        self.sink = sink
        self.totals = MetricsFold()
        self.ctr: dict[str, float] = {}
        self.slim: list[_SlimCases] = []
        self.rows: list[tuple[Any, ...]] | None = []
        self.grid_case_rows: list[tuple[Any, ...]] = []
        self.grid_case_cols: tuple[str, ...] = ()
        self.parts: list[PartitionResult] = []

    def add(self, part: PartitionResult) -> None:
        """Fold one street's result in (streets in order); its case facts are let go."""
        for k, v in part.counters:
            self.ctr[k] = self.ctr.get(k, 0.0) + v
        facts = part.facts
        if facts is not None and len(facts):
            self.totals.add(facts)
            slim = _SlimCases.of(facts)
            self.slim.append(slim)
            rows = _case_rows(facts, slim)
            if self.sink is not None:
                self.sink.write(self.replication, rows)
            elif self.rows is not None:
                self.rows.extend(rows)
                if len(self.rows) > MAX_CASE_ROWS:
                    self.rows = None  # too many: a histogram instead
            cols, grid_rows = _grid_case_rows(facts)
            self.grid_case_cols = cols
            self.grid_case_rows.extend(grid_rows)
        if part.event_lines and self.sink is not None:
            self.sink.write_events(self.replication, part.event_lines)
        self.parts.append(attrs.evolve(part, facts=None, event_lines=""))

    def result(self) -> ReplicationResult:
        """The replication's result from the streets folded so far."""
        scenario, ctr = self.scenario, self.ctr
        tz = ZoneInfo(scenario.run.timezone)
        t0 = datetime.combine(scenario.run.start, time(0), tz)
        end_dt = t0 + timedelta(days=scenario.run.warmup_days + scenario.run.days)
        m: dict[str, float] = {}
        tables: list[Table] = []
        n_open = self._case_metrics(m, tables) if self.slim else 0
        _counter_metrics(ctr, m)
        tables.append(_escalation_table(scenario, ctr, m.get("cases", 0.0)))
        m["workers"] = ctr.get("workers", 0.0)
        span = (end_dt - t0).total_seconds() / 60.0 - scenario.run.warmup_days * 1440.0
        parts = self.parts
        checks = _checks(ctr, n_open, parts, span)
        grid_rows = tuple(r for p in parts for r in p.grid_rows)
        tables.append(Table("grid_workers", _GRID_COLUMNS, grid_rows))
        backlog: dict[int, int] = {}
        for p in parts:
            for day, n_b in p.backlog:
                backlog[day] = backlog.get(day, 0) + n_b
        tables.append(Table("backlog", ("day", "open_cases"), tuple(sorted(backlog.items()))))
        events = sum(p.events for p in parts)
        m["sim_events"] = float(events)
        return ReplicationResult(
            scenario.name, self.replication, metrics_record(m), tuple(tables), tuple(checks), events
        )

    def _case_metrics(self, m: dict[str, float], tables: list[Table]) -> int:
        """The case metrics into `m`, the levels, cases and per-grid tables into `tables`;
        returns the number of cases still open."""
        total = self.totals.table().to_rows()[0]
        for src, dst in _METRIC_COLUMNS:
            if src in total:
                m[dst] = _f(total[src])
        for key in ("response_s", "resolution_s"):
            for stat in ("mean", "p90"):
                col = f"{key}_{stat}"
                if col in total:
                    unit = 60.0 if key == "response_s" else 3600.0
                    name = "response_minutes" if key == "response_s" else "resolution_hours"
                    m[f"{name}_{stat}"] = _f(total[col]) / unit
        slim = _SlimCases.concat(self.slim)
        level_rows, level_metrics = _levels(slim)
        m.update(level_metrics)
        tables.append(Table("levels", _LEVEL_COLUMNS, level_rows))
        if self.sink is None:
            if self.rows is not None:
                tables.append(Table("cases", CASE_COLUMNS, tuple(self.rows)))
            else:
                tables.append(_case_hist(slim))
        tables.append(Table("grid_cases", self.grid_case_cols, tuple(self.grid_case_rows)))
        return int(total.get("n_open", 0))


def merge_partitions(
    scenario: Scenario, replication: int, parts: Sequence[PartitionResult]
) -> ReplicationResult:
    """A replication's result from its streets' results (`ReplicationFold` over them)."""
    fold = ReplicationFold(scenario, replication)
    for p in parts:
        fold.add(p)
    return fold.result()


def _grid_case_rows(facts: CaseFacts) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The `grid_cases` table's columns and rows for the grids of one street."""
    by_grid = compute_metrics(facts, by="grid")
    cols = tuple(c for c in _GRID_CASE_COLUMNS if c in by_grid.names)
    return cols, [tuple(_cell(r[c]) for c in cols) for r in by_grid.to_rows()]


_GRID_CASE_COLUMNS = (
    "grid",
    "n_cases",
    "n_closed",
    "on_time_rate",
    "response_s_mean",
    "resolution_s_mean",
    "share_grid",
)


def _counter_metrics(ctr: Mapping[str, float], m: dict[str, float]) -> None:
    """The metrics from the streets' counters (workers' time, duties, incidents,
    escalations) into `m`."""
    work = ctr.get("t_work", 0.0)
    busy = sum(ctr.get(k, 0.0) for k in ("t_patrol", "t_visit", "t_inspect", "t_case"))
    for k, name in (
        ("t_patrol", "patrol"),
        ("t_visit", "visit"),
        ("t_inspect", "inspection"),
        ("t_case", "case"),
    ):
        m[f"worker_share_{name}"] = ctr.get(k, 0.0) / work if work else math.nan
    m["worker_share_idle"] = max(0.0, work - busy) / work if work else math.nan
    m["worker_utilisation"] = busy / work if work else math.nan
    m["patrol_coverage"] = ratio(ctr.get("patrols_done", 0.0), ctr.get("patrols_due", 0.0))
    m["visit_rate"] = ratio(ctr.get("visit_done_min", 0.0), ctr.get("visit_due_min", 0.0))
    m["inspection_rate"] = ratio(ctr.get("inspect_done_min", 0.0), ctr.get("inspect_due_min", 0.0))
    m["incidents"] = ctr.get("incidents_measured", 0.0)
    found = ctr.get("latent_found", 0.0)
    m["latent_found"] = found
    m["latent_open_end"] = ctr.get("latent_open", 0.0)
    m["severity_at_discovery_mean"] = (
        ctr.get("severity_found_sum", 0.0) / found if found else math.nan
    )
    m["open_cases_end"] = ctr.get("open_cases", 0.0)
    m["emergency_interrupts"] = ctr.get("emergency_interrupts", 0.0)
    m["grids"] = ctr.get("grids", 0.0)
    n_cases = m.get("cases", 0.0)
    for key, name in (
        ("esc_escalations", "escalations"),
        ("esc_warnings", "warnings"),
        ("esc_supervisions", "supervisions"),
        ("returns", "returns"),
    ):
        m[f"{name}_per_100_cases"] = 100.0 * ctr.get(key, 0.0) / n_cases if n_cases else math.nan
    m["misroutes"] = ctr.get("misroutes", 0.0)


def _checks(
    ctr: Mapping[str, float], n_open: int, parts: Sequence[PartitionResult], span: float
) -> list[Check]:
    """The replication's self-checks: conservation of incidents, open cases, Little's law
    on every kind of queue (over the measured `span` minutes)."""
    checks: list[Check] = []
    incidents = ctr.get("incidents", 0.0)
    accounted = (
        ctr.get("closed", 0.0)
        + ctr.get("open_cases", 0.0)
        + ctr.get("latent_open", 0.0)
        + ctr.get("pending_report", 0.0)
    )
    checks.append(
        Check(
            "conservation",
            incidents == accounted,
            incidents - accounted,
            0.0,
            "incidents = closed + open cases + latent + reports pending at the horizon",
        )
    )
    checks.append(
        Check(
            "open_cases_in_metrics",
            n_open <= ctr.get("open_cases", 0.0) + 0.5,
            float(n_open),
            0.0,
            "cases open in the metrics <= open cases at the horizon",
        )
    )
    qs: dict[str, list[float]] = {}
    for p in parts:
        for kind, area, n_in, wait in p.queues:
            acc = qs.setdefault(kind, [0.0, 0.0, 0.0])
            acc[0] += area
            acc[1] += n_in
            acc[2] += wait
    for kind, (area, n, wait) in sorted(qs.items()):
        lc = little_check(f"{kind}_queue", area, int(n), wait / n if n else 0.0, span, 0.05)
        checks.append(
            Check(
                f"little_{kind}_queue",
                lc.ok,
                lc.relative_error,
                lc.tolerance,
                f"L={lc.l_observed:.4g} lambdaW={lc.lambda_w:.4g}",
            )
        )
    return checks


def _escalation_table(scenario: Scenario, ctr: Mapping[str, float], n_cases: float) -> Table:
    """`escalations`: per rule, the actions it made on measured cases (and per 100 cases)."""
    rows = []
    for r in scenario.escalation.rule_set():
        n = ctr.get(f"rule:{r.name}", 0.0)
        per = _round(100.0 * n / n_cases) if n_cases else None
        rows.append((r.name, r.trigger.value, r.response.value, int(n), per))
    cols = ("rule", "trigger", "response", "count", "per_100_cases")
    return Table("escalations", cols, tuple(rows))


MAX_CASE_ROWS = 100_000
"""Per-case rows in `cases.csv` up to this many cases a replication; above, a histogram."""

_LEVEL_COLUMNS = (
    "level", "cases", "closed", "share", "response_minutes_mean", "resolution_hours_mean",
    "on_time_rate",
)  # fmt: skip

_HIST_EDGES_MIN = (0, 15, 30, 60, 120, 240, 480, 1440, 2880, 7 * 1440, 14 * 1440, 30 * 1440)


@attrs.frozen(eq=False)
class _SlimCases:
    """What the levels table needs of each case: the resolving level (index in `LEVELS`,
    -1: none), response and resolution minutes (NaN: not yet), closed, on time."""

    level: np.ndarray[Any, np.dtype[np.int8]]
    response: np.ndarray[Any, np.dtype[np.float64]]
    resolution: np.ndarray[Any, np.dtype[np.float64]]
    closed: np.ndarray[Any, np.dtype[np.bool_]]
    on_time: np.ndarray[Any, np.dtype[np.bool_]]

    @classmethod
    def of(cls, facts: CaseFacts) -> _SlimCases:
        index = {name: k for k, name in enumerate(LEVELS)}
        lut = np.array([index.get(n, -1) for n in facts.level_names] + [-1], np.int8)
        return cls(
            level=lut[facts.resolved_level],
            response=_minutes(facts.first_sign_us, facts.reported_us),
            resolution=_minutes(facts.closed_us, facts.reported_us),
            closed=facts.closed,
            on_time=facts.on_time,
        )

    @classmethod
    def concat(cls, parts: Sequence[_SlimCases]) -> _SlimCases:
        return cls(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in attrs.fields(cls))
        )


def _minutes(end_us: np.ndarray[Any, Any], start_us: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Minutes from `start_us` to `end_us`, NaN where the end never came."""
    return np.where(end_us != NO_TIME, (end_us - start_us) / 60e6, np.nan)


def _levels(cases: _SlimCases) -> tuple[tuple[tuple[Any, ...], ...], dict[str, float]]:
    """Per resolving level: cases, closed, share of closed, mean response / resolution."""
    resp, resol, closed, on_time = cases.response, cases.resolution, cases.closed, cases.on_time
    n_closed = int(closed.sum())
    rows = []
    out: dict[str, float] = {}
    for k, name in enumerate(LEVELS):
        sel = cases.level == k
        n = int(sel.sum())
        c = int((sel & closed).sum())
        r = resp[sel]
        rr = r[np.isfinite(r)]
        q = resol[sel & closed]
        r_mean = float(rr.mean()) if rr.size else math.nan
        q_mean = float(q.mean()) / 60.0 if q.size else math.nan
        on = float(on_time[sel & closed].mean()) if c else math.nan
        rows.append(
            (
                name,
                n,
                c,
                _round(c / n_closed if n_closed else math.nan),
                _round(r_mean),
                _round(q_mean),
                _round(on),
            )
        )
        out[f"response_minutes_{name}_mean"] = r_mean
        out[f"resolution_hours_{name}_mean"] = q_mean
    return tuple(rows), out


def _round(x: float, nd: int = 6) -> float | None:
    return None if not math.isfinite(x) else round(x, nd)


def _rounded(x: np.ndarray[Any, Any], nd: int) -> list[float | None]:
    """`[_round(v, nd) for v in x]`, the same values, in bulk for all but a few.

    `round(v, nd)` rounds the exact binary value of `v` to `nd` decimals and returns the
    float nearest that decimal: `rint(v * 10**nd) / 10**nd`, unless the product's own
    rounding landed it on a half (rounding is monotonic, so it cannot jump past one).
    Products within two ulps of a half (a margin), NaN, infinities and products past
    2**52 are left to `_round`.
    """
    scale = 10.0**nd
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.asarray(x, np.float64) * scale
        frac = y - np.floor(y)
        doubt = ~(np.abs(frac - 0.5) > 2 * np.spacing(np.abs(y))) | ~(np.abs(y) < 2.0**52)
    out: list[float | None] = (np.rint(y) / scale).tolist()
    for i in np.flatnonzero(doubt).tolist():
        out[i] = _round(float(x[i]), nd)
    return out


def _case_rows(facts: CaseFacts, slim: _SlimCases) -> list[tuple[Any, ...]]:
    """One row per case (`CASE_COLUMNS`): grid, category, resolving level, response and
    resolution minutes (rounded to 3 decimals, None: not yet), on time. `slim` is the
    same facts' `_SlimCases` (its minutes are reused, not computed again)."""
    names = facts.level_names
    levels = [names[k] if k >= 0 else "" for k in facts.resolved_level.tolist()]
    grids = [facts.grid_names[k] if k >= 0 else "" for k in facts.grid.tolist()]
    cats = [facts.category_names[k] if k >= 0 else "" for k in facts.category.tolist()]
    return list(
        zip(
            grids,
            cats,
            levels,
            _rounded(slim.response, 3),
            _rounded(slim.resolution, 3),
            facts.on_time.astype(bool).tolist(),
            strict=True,
        )
    )


def _case_hist(cases: _SlimCases) -> Table:
    """`case_hist`: cases per level and span length, for a replication with too many
    cases to keep their rows in memory."""
    edges = np.array([*_HIST_EDGES_MIN, np.inf])
    hist: list[tuple[Any, ...]] = []
    for k, name in enumerate(LEVELS):
        sel = cases.level == k
        for measure, col in (("response", cases.response), ("resolution", cases.resolution)):
            x = col[sel]
            counts, _ = np.histogram(x[np.isfinite(x)], bins=edges)
            for lo, hi, n in zip(edges[:-1], edges[1:], counts.tolist(), strict=True):
                hist.append((name, measure, float(lo), _round(float(hi)), int(n)))
    cols = ("level", "measure", "minutes_from", "minutes_to", "cases")
    return Table("case_hist", cols, tuple(hist))


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _cell(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
