"""`compute_metrics`: case facts grouped by area, grid, person, department, category or
period into a flat `MetricTable`. Formulas, names and edge cases: `docs/metrics.md`.

Zero denominators give NaN, never 0 and never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from gridcore._rates import ratios
from gridcore.errors import ConfigError, UnknownItemError
from gridcore.metrics._columns import (
    NO_TIME,
    AncestorMap,
    BoolArray,
    FloatArray,
    IntArray,
    _isin_names,
    _map_codes,
)
from gridcore.metrics._instants import _local_days
from gridcore.metrics.events import EventLike, EventTable
from gridcore.metrics.facts import NOT_DUE_STATES, CaseFacts

CumulativeFn: TypeAlias = Callable[[npt.NDArray[np.datetime64]], npt.ArrayLike]

GROUP_KEYS: tuple[str, ...] = (
    "area",
    "grid",
    "person",
    "department",
    "first_department",
    "category",
    "day",
    "week",
    "month",
)
"""Names `compute_metrics` accepts in `by`."""

SHANGHAI = ZoneInfo("Asia/Shanghai")


class CumulativeCalendar(Protocol):
    """Anything with `cumulative_seconds` like `gridcore.clock.Calendar`."""

    def cumulative_seconds(self, instants: npt.ArrayLike) -> npt.NDArray[np.float64]: ...


@attrs.frozen(eq=False)
class MetricTable:
    """A flat result: one row per group, named numpy columns; key columns come first."""

    keys: tuple[str, ...]
    columns: Mapping[str, npt.NDArray[Any]]

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else int(first.shape[0])

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        try:
            return self.columns[name]
        except KeyError:
            raise UnknownItemError("metric column", name, "MetricTable") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(self.columns)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict of plain Python values per group (NaN stays a float NaN)."""
        names = list(self.columns)
        values = [self.columns[k].tolist() for k in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]

    def with_column(self, name: str, values: npt.ArrayLike) -> MetricTable:
        """A copy with one more (or a replaced) column of the same length."""
        arr = np.asarray(values)
        if arr.shape != (len(self),):
            raise ConfigError(
                f"column {name!r} of shape {arr.shape}: expected ({len(self)},) values"
            )
        cols = dict(self.columns)
        cols[name] = arr
        return MetricTable(keys=self.keys, columns=MappingProxyType(cols))


def _period_labels(values: IntArray, key: str) -> list[str]:
    if key == "day":
        return [str(np.datetime64(v, "D")) for v in values.tolist()]
    if key == "week":
        labels = []
        for v in values.tolist():
            iso = (date(1970, 1, 1) + timedelta(days=v)).isocalendar()
            labels.append(f"{iso.year}-W{iso.week:02d}")
        return labels
    return [str(np.datetime64(v, "M")) for v in values.tolist()]


def _group_of(
    facts: CaseFacts,
    key: str,
    area_of: AncestorMap | None,
    category_of: AncestorMap | None,
    tz: tzinfo,
) -> tuple[IntArray, list[str]]:
    """Dense group codes per case, ordered by label (periods: by time), and their labels."""
    if key in ("day", "week", "month"):
        days = _local_days(facts.reported_us, tz)
        if key == "week":
            raw = days - (days + 3) % 7  # 1970-01-01 was a Thursday: back to Monday
        elif key == "month":
            raw = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        else:
            raw = days
        values, inv = np.unique(raw, return_inverse=True)
        return inv.reshape(-1).astype(np.int64), _period_labels(values, key)
    codes: IntArray
    names: tuple[str, ...]
    if key == "grid":
        codes, names = facts.grid, facts.grid_names
    elif key == "area":
        if area_of is not None:
            codes, names = _map_codes(facts.grid, facts.grid_names, area_of, "grid", "area_of")
        elif facts.area is not None:
            codes, names = facts.area, facts.area_names
        else:
            raise ConfigError(
                "group key 'area': expected an area_of mapping (grid -> area code) here "
                "or in EventTable.from_events"
            )
    elif key == "category":
        codes, names = facts.category, facts.category_names
        if category_of is not None:
            codes, names = _map_codes(codes, names, category_of, "category", "category_of")
    elif key == "person":
        codes, names = facts.handler, facts.person_names
    elif key == "department":
        codes, names = facts.owner, facts.owner_names
    elif key == "first_department":
        codes, names = facts.first_owner, facts.owner_names
    else:
        raise ConfigError(f"group key {key!r}: expected one of {', '.join(GROUP_KEYS)}")
    # -1 (no value) becomes the label "" so every case lands in exactly one group.
    full = np.where(codes >= 0, codes, len(names))
    used, inv = np.unique(full, return_inverse=True)
    all_labels = [*names, ""]
    labels = [all_labels[u] for u in used.tolist()]
    rank = np.argsort(np.array(labels, dtype=object), kind="stable")
    position = np.empty_like(rank)
    position[rank] = np.arange(rank.size)
    return position[inv.reshape(-1)].astype(np.int64), [labels[r] for r in rank.tolist()]


def _group_stats(
    g: IntArray, n_groups: int, values: FloatArray, valid: BoolArray, qs: Sequence[float]
) -> dict[str, FloatArray]:
    """Mean and linear-interpolated percentiles of `values[valid]` per group (NaN if none)."""
    gv, v = g[valid], values[valid]
    count = np.bincount(gv, minlength=n_groups)
    out = {"mean": ratios(np.bincount(gv, weights=v, minlength=n_groups), count)}
    order = np.lexsort((v, gv))
    vs = v[order]
    starts = np.cumsum(count) - count
    has = count > 0
    for q in qs:
        pos = (q / 100.0) * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        res = np.full(n_groups, np.nan)
        a = vs[(starts + lo)[has]]
        b = vs[(starts + hi)[has]]
        res[has] = a + (b - a) * (pos - lo)[has]
        out[f"p{q:g}"] = res
    return out


def _cumulative(calendar: CumulativeCalendar | CumulativeFn, us: IntArray) -> FloatArray:
    instants = us.astype("datetime64[us]")
    if hasattr(calendar, "cumulative_seconds"):
        res = calendar.cumulative_seconds(instants)
    else:
        res = calendar(instants)
    arr = np.asarray(res, np.float64)
    if arr.shape != us.shape:
        raise ConfigError(
            f"calendar returned shape {arr.shape}: expected {us.shape} cumulative seconds"
        )
    return arr


def compute_metrics(
    source: EventTable | CaseFacts | Iterable[EventLike],
    by: str | Sequence[str] = (),
    *,
    area_of: AncestorMap | None = None,
    category_of: AncestorMap | None = None,
    calendar: CumulativeCalendar | CumulativeFn | None = None,
    as_of: datetime | None = None,
    tz: tzinfo = SHANGHAI,
    percentiles: Sequence[float] = (50.0, 90.0, 95.0),
) -> MetricTable:
    """Metrics per group of cases; `by` names keys from `GROUP_KEYS` (empty: one total row).

    `area_of` maps a grid code to its area at the wanted level, `category_of` a leaf
    category to an ancestor; periods (day, week, month) are of the report time in `tz`.
    `calendar` adds working-time columns (`*_work_s_*`). `as_of` (only with an
    `EventTable` or events) evaluates the log as it stood then. `source` may also be the
    events themselves (e.g. `CaseLog.all_events()`), read with `EventTable.from_events`.
    See docs/metrics.md for each column.
    """
    if isinstance(source, CaseFacts):
        if as_of is not None:
            raise ConfigError("as_of: give it to EventTable.facts(); CaseFacts are already cut")
        facts = source
    elif isinstance(source, EventTable):
        facts = source.facts(as_of)
    else:
        facts = EventTable.from_events(source).facts(as_of)
    keys = (by,) if isinstance(by, str) else tuple(by)
    for q in percentiles:
        if not 0.0 <= q <= 100.0:
            raise ConfigError(f"percentile {q!r}: expected a number in [0, 100]")
    groups, cols = _grouping(facts, keys, area_of, category_of, tz)
    _add_counts(facts, groups, cols)
    _add_spans(facts, groups, cols, calendar, percentiles)
    _add_levels(facts, groups, cols)
    return MetricTable(keys=keys, columns=MappingProxyType(cols))


@attrs.frozen(eq=False)
class _Groups:
    """The dense group code of every case (rows of the result) and the number of groups."""

    g: IntArray
    n_groups: int

    def count(self, mask: BoolArray) -> IntArray:
        """Cases per group where `mask` holds."""
        return np.bincount(self.g[mask], minlength=self.n_groups).astype(np.int64)

    def total(self, values: IntArray) -> IntArray:
        """Sum of `values` per group."""
        sums = np.bincount(self.g, weights=values, minlength=self.n_groups)
        return np.rint(sums).astype(np.int64)


def _grouping(
    facts: CaseFacts,
    keys: tuple[str, ...],
    area_of: AncestorMap | None,
    category_of: AncestorMap | None,
    tz: tzinfo,
) -> tuple[_Groups, dict[str, npt.NDArray[Any]]]:
    """Per-key codes combined into one dense group code, ordered key by key; key columns."""
    n = len(facts)
    key_labels: list[list[str]] = []
    key_codes: list[IntArray] = []
    for key in keys:
        codes, labels = _group_of(facts, key, area_of, category_of, tz)
        key_codes.append(codes)
        key_labels.append(labels)
    if not keys:
        return _Groups(np.zeros(n, np.int64), 1), {}
    dims = tuple(max(len(lb), 1) for lb in key_labels)
    flat = np.ravel_multi_index(tuple(key_codes), dims) if n else np.zeros(0, np.int64)
    used, inv = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(used, dims)
    cols: dict[str, npt.NDArray[Any]] = {}
    for key, labels, part in zip(keys, key_labels, parts, strict=True):
        cols[key] = np.array([labels[i] for i in part.tolist()], dtype=object)
    return _Groups(inv.reshape(-1).astype(np.int64), int(used.size)), cols


def _add_counts(facts: CaseFacts, gr: _Groups, cols: dict[str, npt.NDArray[Any]]) -> None:
    """Case counts by state and outcome, and the rates over them."""
    cols.update(count_block(case_counts(facts, gr)))


def case_counts(facts: CaseFacts, gr: _Groups) -> dict[str, IntArray]:
    """The raw counts per group (every `n_*` column of the counts block), by name."""
    count, total = gr.count, gr.total
    closed, due, on_time = facts.closed, facts.due, facts.on_time
    ended = _isin_names(facts.final_state, facts.state_names, NOT_DUE_STATES) & ~closed
    out = {"n_cases": count(np.ones(len(facts), np.bool_))}
    for code, state in enumerate(facts.state_names):
        if state:
            out[f"n_state_{state}"] = count(facts.final_state == code)
    out["n_open"] = count(~closed & ~ended)
    out["n_ended"] = count(ended)
    out["n_due"] = count(due)
    out["n_closed"] = count(closed)
    out["n_on_time"] = count(on_time)
    out["n_reworked"] = count(closed & (facts.rework > 0))
    out["n_rework_events"] = total(facts.rework)
    out["n_dispatched"] = count(facts.dispatched)
    out["n_accurate_dispatch"] = count(facts.accurate)
    out["n_passes"] = total(facts.passes)
    out["n_passed_cases"] = count(facts.passes > 0)
    return out


def count_block(n: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    """The counts block of a `MetricTable` from its raw counts (`case_counts`): the counts
    and the rates over them, in the table's column order."""
    cols: dict[str, npt.NDArray[Any]] = {"n_cases": n["n_cases"]}
    cols.update((k, v) for k, v in n.items() if k.startswith("n_state_"))
    for k in ("n_open", "n_ended", "n_due", "n_closed", "n_on_time"):
        cols[k] = n[k]
    cols["closure_rate"] = ratios(n["n_closed"], n["n_due"])
    cols["on_time_rate"] = ratios(n["n_on_time"], n["n_due"])
    cols["n_reworked"] = n["n_reworked"]
    cols["n_rework_events"] = n["n_rework_events"]
    cols["rework_rate"] = ratios(n["n_reworked"], n["n_closed"])
    cols["n_dispatched"] = n["n_dispatched"]
    cols["n_accurate_dispatch"] = n["n_accurate_dispatch"]
    cols["accurate_dispatch_rate"] = ratios(n["n_accurate_dispatch"], n["n_dispatched"])
    cols["n_passes"] = n["n_passes"]
    cols["n_passed_cases"] = n["n_passed_cases"]
    cols["passing_rate"] = ratios(n["n_passed_cases"], n["n_dispatched"])
    return cols


def spans_of(facts: CaseFacts) -> dict[str, tuple[BoolArray, IntArray]]:
    """Per span (response: report to first sign-for; resolution: report to close), which
    cases have it and the instant it ends."""
    return {
        "response": (facts.first_sign_us != NO_TIME, facts.first_sign_us),
        "resolution": (facts.closed, facts.closed_us),
    }


def _add_spans(
    facts: CaseFacts,
    gr: _Groups,
    cols: dict[str, npt.NDArray[Any]],
    calendar: CumulativeCalendar | CumulativeFn | None,
    percentiles: Sequence[float],
) -> None:
    """Response and resolution times: wall-clock seconds, and working seconds with a calendar."""
    g, n_groups = gr.g, gr.n_groups
    spans = spans_of(facts)
    for name, (valid, end_us) in spans.items():
        seconds = np.where(valid, end_us - facts.reported_us, 0).astype(np.float64) / 1e6
        for stat, values in _group_stats(g, n_groups, seconds, valid, percentiles).items():
            cols[f"{name}_s_{stat}"] = values
    if calendar is not None:
        start_work = _cumulative(calendar, facts.reported_us)
        for name, (valid, end_us) in spans.items():
            work = np.zeros(len(facts), np.float64)
            work[valid] = _cumulative(calendar, end_us[valid]) - start_work[valid]
            for stat, values in _group_stats(g, n_groups, work, valid, percentiles).items():
                cols[f"{name}_work_s_{stat}"] = values


def _add_levels(facts: CaseFacts, gr: _Groups, cols: dict[str, npt.NDArray[Any]]) -> None:
    """Closed cases by the level that resolved them, and their shares."""
    cols.update(level_block(level_counts(facts, gr), cols["n_closed"]))


def level_counts(facts: CaseFacts, gr: _Groups) -> dict[str, IntArray]:
    """Closed cases per group by resolving level (`n_resolved_<level>`, `..._unknown`)."""
    closed = facts.closed
    out = {}
    for code, level in enumerate(facts.level_names):
        out[f"n_resolved_{level}"] = gr.count(closed & (facts.resolved_level == code))
    out["n_resolved_unknown"] = gr.count(closed & (facts.resolved_level < 0))
    return out


def level_block(
    n: Mapping[str, npt.NDArray[Any]], n_closed: npt.NDArray[Any]
) -> dict[str, npt.NDArray[Any]]:
    """The levels block of a `MetricTable` from its counts (`level_counts`): the counts
    and each level's share of the closed cases, in the table's column order."""
    levels = [k.removeprefix("n_resolved_") for k in n if k != "n_resolved_unknown"]
    cols: dict[str, npt.NDArray[Any]] = dict(n)
    for level in levels:
        cols[f"share_{level}"] = ratios(n[f"n_resolved_{level}"], n_closed)
    cols["share_unknown"] = ratios(n["n_resolved_unknown"], n_closed)
    zero = np.zeros_like(n_closed)
    grid, community, street = (
        n.get(f"n_resolved_{x}", zero) for x in ("grid", "community", "street")
    )
    cols["share_within_community"] = ratios(grid + community, n_closed)
    cols["share_within_street"] = ratios(grid + community + street, n_closed)
    return cols
