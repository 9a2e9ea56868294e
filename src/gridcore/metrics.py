"""Metrics over case event logs: pure, vectorised functions (结案率, 按期结案率, 返工率, 推诿 ...).

An `EventTable` turns an iterable of case events into numpy columns in one lean pass;
`EventTable.facts()` folds them into one row per case (`CaseFacts`), and `compute_metrics`
groups those rows by area, grid, person, department, category or period and returns a flat
`MetricTable` (a dict of numpy columns, `to_rows()` for a list of dicts). `composite_scores`
weights rates into one score per group. Formulas, names and edge cases: `docs/metrics.md`.

"Due to close" (应结案): a case that is closed at the evaluation instant `as_of`, or whose
current handling deadline (the last "due" payload) is at or before `as_of`, not counting
cases cancelled, merged or voided, nor parked ones (their clock is stopped).
Zero denominators give NaN, never 0 and never an error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol, TypeAlias
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.errors import ConfigError, GridcoreError, UnknownItemError

__all__ = [
    "DEPARTMENT_WEIGHTS",
    "GROUP_KEYS",
    "LEVELS",
    "NO_TIME",
    "SCORE_COMPONENTS",
    "CaseFacts",
    "EventLike",
    "EventTable",
    "MetricTable",
    "MetricsError",
    "ScoreWeights",
    "composite_scores",
    "compute_metrics",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ObjArray: TypeAlias = npt.NDArray[np.object_]
AncestorMap: TypeAlias = Mapping[str, str] | Callable[[str], str]
CumulativeFn: TypeAlias = Callable[[npt.NDArray[np.datetime64]], npt.ArrayLike]

NO_TIME = int(np.iinfo(np.int64).min)
"""The int64 microsecond value that stands for "no such instant" in time columns."""

LEVELS: tuple[str, ...] = ("grid", "community", "street", "district", "city", "department")
"""Owner levels written in the "level" payload, lowest first (the order of the share columns)."""

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

# Action and state values relied on (the contract with gridcore.cases); StrEnum members
# hash and compare equal to these strings, so no import of gridcore.cases is needed.
_REPORT = "report"
_DISPATCH = "dispatch"
_SIGN_FOR = "sign_for"
_CLOSE = "close"
_REWORK = "rework"
_TRANSFER = "transfer"
_APPROVE_RETURN = "approve_return"
_ESCALATE = "escalate"
_REOPEN = "reopen"
_ROUTING = (_DISPATCH, _TRANSFER, _APPROVE_RETURN, _ESCALATE)
_PASSING = (_TRANSFER, _APPROVE_RETURN)
# Final states that end a case without resolving it: never "due to close".
_NOT_DUE_STATES = ("cancelled", "merged", "voided")
# A parked case has its clock stopped: not due while parked.
_PAUSED_STATES = ("parked",)
_CLOSED_STATES = ("closed", "evaluated")

_US_PER_S = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_S
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MetricsError(GridcoreError, ValueError):
    """An event log or a metrics request that cannot be evaluated as asked."""


class EventLike(Protocol):
    """The attributes of `gridcore.cases.CaseEvent` that metrics read."""

    @property
    def case_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def from_state(self) -> str | None: ...
    @property
    def to_state(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


class CumulativeCalendar(Protocol):
    """Anything with `cumulative_seconds` like `gridcore.clock.Calendar`."""

    def cumulative_seconds(self, instants: npt.ArrayLike) -> npt.NDArray[np.float64]: ...


class _Codes(dict[Any, int]):
    """Factorises values to consecutive ints in order of first sight."""

    def __missing__(self, key: Any) -> int:
        code = len(self)
        self[key] = code
        return code

    def names(self) -> tuple[Any, ...]:
        return tuple(self)


def _codes_of(codes: _Codes, values: Iterable[Any], n: int) -> IntArray:
    # map(dict.__getitem__) runs in C; only unseen values reach __missing__.
    return np.fromiter(map(codes.__getitem__, values), np.int64, n)


def _instant_us(value: object, what: str) -> int:
    """An aware datetime or ISO 8601 string as int64 microseconds UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise MetricsError(f"{what}: {value!r} is not an ISO 8601 instant") from None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise MetricsError(f"{what}: {value!r} is not a timezone-aware instant")
    return (value - _EPOCH) // timedelta(microseconds=1)


def _first_per_case(case: IntArray, mask: BoolArray, n_cases: int) -> IntArray:
    """Index of the first event per case where `mask` holds (events sorted by case), or -1."""
    out = np.full(n_cases, -1, np.int64)
    idx = np.flatnonzero(mask)
    if idx.size:
        c = case[idx]
        keep = np.empty(idx.size, np.bool_)
        keep[0] = True
        np.not_equal(c[1:], c[:-1], out=keep[1:])
        out[c[keep]] = idx[keep]
    return out


def _last_per_case(case: IntArray, mask: BoolArray, n_cases: int) -> IntArray:
    """Index of the last event per case where `mask` holds (events sorted by case), or -1."""
    out = np.full(n_cases, -1, np.int64)
    idx = np.flatnonzero(mask)
    if idx.size:
        c = case[idx]
        keep = np.empty(idx.size, np.bool_)
        keep[-1] = True
        np.not_equal(c[:-1], c[1:], out=keep[:-1])
        out[c[keep]] = idx[keep]
    return out


def _take(values: IntArray, idx: IntArray, missing: int) -> IntArray:
    """`values[idx]` with `missing` where `idx` is -1."""
    out = np.full(idx.shape, missing, np.int64)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _isin_names(codes: IntArray, vocab: Sequence[Any], names: Iterable[str]) -> BoolArray:
    wanted = [i for i, v in enumerate(vocab) if v in set(names)]
    return np.isin(codes, np.asarray(wanted, np.int64))


def _code(vocab: Sequence[Any], name: str) -> int:
    """The code of `name` in `vocab`, or -2 (matches nothing) when absent."""
    for i, v in enumerate(vocab):
        if v == name:
            return i
    return -2


@attrs.frozen(eq=False)
class CaseFacts:
    """One row per case, columnar, as of the instant `as_of_us` (see `EventTable.facts`).

    Code columns index the matching name tuple (-1: none); time columns are int64
    microseconds UTC with `NO_TIME` for "never".
    """

    as_of_us: int
    case_ids: tuple[str, ...]
    grid: IntArray
    grid_names: tuple[str, ...]
    area: IntArray | None
    area_names: tuple[str, ...]
    category: IntArray
    category_names: tuple[str, ...]
    reported_us: IntArray
    first_sign_us: IntArray
    closed_us: IntArray
    due_us: IntArray
    rework: IntArray
    passes: IntArray
    dispatched: BoolArray
    resends: IntArray
    resolved_level: IntArray
    level_names: tuple[str, ...]
    final_state: IntArray
    state_names: tuple[str, ...]
    handler: IntArray
    owner: IntArray
    first_owner: IntArray
    person_names: tuple[str, ...]
    owner_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.case_ids)

    @property
    def closed(self) -> BoolArray:
        """Closed at `as_of` (the last close was not followed by a reopen)."""
        return self.closed_us != NO_TIME

    @property
    def excluded(self) -> BoolArray:
        """Ended without resolution (cancelled, merged, voided) or parked: never due."""
        return _isin_names(
            self.final_state, self.state_names, _NOT_DUE_STATES + _PAUSED_STATES
        ) & ~self.closed

    @property
    def due(self) -> BoolArray:
        """Due to close (应结案): closed, or deadline at or before `as_of`, and not excluded."""
        has_due = self.due_us != NO_TIME
        return self.closed | (~self.excluded & has_due & (self.due_us <= self.as_of_us))

    @property
    def on_time(self) -> BoolArray:
        """Closed at or before its deadline (a closed case that never had one counts)."""
        return self.closed & ((self.due_us == NO_TIME) | (self.closed_us <= self.due_us))

    @property
    def accurate(self) -> BoolArray:
        """Dispatched and never re-sent to another owner (no transfer/return/escalation away)."""
        return self.dispatched & (self.resends == 0)


@attrs.frozen(eq=False)
class EventTable:
    """Columnar events sorted by (case, seq), built once by `from_events`.

    Per event: case index, seq, instant (int64 µs UTC), action, from/to state, actor,
    routing target ("to") and level, raw "due" payload. Per case: grid, category, area.
    """

    case_ids: tuple[str, ...]
    case: IntArray
    seq: IntArray
    at_us: IntArray
    action: IntArray
    from_state: IntArray
    to_state: IntArray
    actor: IntArray
    to_owner: IntArray
    level: IntArray
    due_raw: ObjArray
    grid: IntArray
    category: IntArray
    area: IntArray | None
    action_names: tuple[str, ...]
    state_names: tuple[str, ...]
    person_names: tuple[str, ...]
    owner_names: tuple[str, ...]
    level_names: tuple[str, ...]
    grid_names: tuple[str, ...]
    category_names: tuple[str, ...]
    area_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.case.size)

    @property
    def n_cases(self) -> int:
        """Number of distinct cases."""
        return len(self.case_ids)

    @classmethod
    def from_events(
        cls, events: Iterable[EventLike], area_of: AncestorMap | None = None
    ) -> EventTable:
        """Build the table from events in any order; `area_of` maps a grid to its area.

        Refuses (MetricsError) a log whose per-case sequence numbers are not 1, 2, 3...
        """
        evs = events if isinstance(events, Sequence) else list(events)
        n = len(evs)
        cols = (
            tuple(zip(*map(_ROW, evs), strict=True))
            if n
            else ((),) * 8  # one empty column per attribute
        )
        case_ids_col, seq_col, at_col, actor_col, action_col, from_col, to_col, pay_col = cols
        case_codes, actions, states, persons = _Codes(), _Codes(), _Codes(), _Codes()
        case = _codes_of(case_codes, case_ids_col, n)
        seq = np.fromiter(seq_col, np.int64, n)
        try:
            ts = np.fromiter(map(datetime.timestamp, at_col), np.float64, n)
        except TypeError:
            raise MetricsError("event field 'at': expected datetime.datetime values") from None
        # float seconds are exact to well under 1 µs for years 1970-2200, so rounding is exact.
        at_us = np.rint(ts * 1e6).astype(np.int64)
        action = _codes_of(actions, action_col, n)
        from_state = _codes_of(states, from_col, n)
        to_state = _codes_of(states, to_col, n)
        actor = _codes_of(persons, actor_col, n)
        due_raw = np.fromiter(map(_GET_DUE, pay_col), object, n)

        action_names = tuple(str(a) for a in actions.names())
        to_owner = np.full(n, -1, np.int64)
        level = np.full(n, -1, np.int64)
        owners, levels = _Codes(), _Codes()
        for name in LEVELS:
            levels[name]  # noqa: B018 -- fixes the order of the known levels
        routing = np.flatnonzero(_isin_names(action, action_names, _ROUTING))
        for i in routing.tolist():
            p = pay_col[i]
            to = p.get("to")
            if to is not None:
                to_owner[i] = owners[str(to)]
            lv = p.get("level")
            if lv is not None:
                level[i] = levels[str(lv)]

        n_cases = len(case_codes)
        grids, categories = _Codes(), _Codes()
        grid = np.full(n_cases, -1, np.int64)
        category = np.full(n_cases, -1, np.int64)
        reports = np.flatnonzero(action == _code(action_names, _REPORT))
        for i in reports.tolist():
            p = pay_col[i]
            c = case[i]
            g = p.get("grid")
            if g is not None:
                grid[c] = grids[str(g)]
            k = p.get("category")
            if k is not None:
                category[c] = categories[str(k)]

        order = np.lexsort((seq, case))
        if n and not np.all(order[1:] > order[:-1]):
            case, seq, at_us, action = case[order], seq[order], at_us[order], action[order]
            from_state, to_state, actor = from_state[order], to_state[order], actor[order]
            to_owner, level, due_raw = to_owner[order], level[order], due_raw[order]
        case_id_names = tuple(str(c) for c in case_codes.names())
        _check_sequences(case, seq, case_id_names)

        grid_names = tuple(grids.names())
        area, area_names = None, ()
        if area_of is not None:
            area, area_names = _map_codes(grid, grid_names, area_of, "grid", "area_of")
        return cls(
            case_ids=case_id_names,
            case=case,
            seq=seq,
            at_us=at_us,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            to_owner=to_owner,
            level=level,
            due_raw=due_raw,
            grid=grid,
            category=category,
            area=area,
            action_names=action_names,
            state_names=tuple("" if s is None else str(s) for s in states.names()),
            person_names=tuple(str(p) for p in persons.names()),
            owner_names=tuple(owners.names()),
            level_names=tuple(levels.names()),
            grid_names=grid_names,
            category_names=tuple(categories.names()),
            area_names=area_names,
        )

    def facts(self, as_of: datetime | None = None) -> CaseFacts:
        """One row per case from the events at or before `as_of` (default: the last event).

        Cases reported after `as_of` are left out.
        """
        if as_of is None:
            as_of_us = int(self.at_us.max()) if self.at_us.size else 0
            keep: slice | BoolArray = slice(None)
        else:
            as_of_us = _instant_us(as_of, "as_of")
            keep = self.at_us <= as_of_us
        case = self.case[keep]
        # Renumber the cases still present so every fact column is dense.
        present = np.zeros(self.n_cases, np.bool_)
        present[case] = True
        new_index = np.cumsum(present) - 1
        case = new_index[case]
        kept_cases = np.flatnonzero(present)
        return _fold(self, keep, case, kept_cases, as_of_us)


_ROW = operator.attrgetter(
    "case_id", "seq", "at", "actor", "action", "from_state", "to_state", "payload"
)
_GET_DUE = operator.methodcaller("get", "due")


def _check_sequences(case: IntArray, seq: IntArray, case_ids: tuple[str, ...]) -> None:
    """Per case, seq must run 1, 2, 3... (events sorted by case then seq)."""
    if not case.size:
        return
    start = np.empty(case.size, np.bool_)
    start[0] = True
    np.not_equal(case[1:], case[:-1], out=start[1:])
    expected = np.empty(case.size, np.int64)
    expected[start] = 1
    expected[~start] = seq[np.flatnonzero(~start) - 1] + 1
    bad = np.flatnonzero(seq != expected)
    if bad.size:
        i = int(bad[0])
        raise MetricsError(
            f"case {case_ids[int(case[i])]!r}: event seq {int(seq[i])} where "
            f"{int(expected[i])} was expected (a complete log numbers events 1, 2, 3...)"
        )


def _map_codes(
    codes: IntArray,
    names: tuple[str, ...],
    mapping: AncestorMap,
    kind: str,
    where: str,
) -> tuple[IntArray, tuple[str, ...]]:
    """Map coded names through `mapping` (a dict or function), applied to distinct names only."""
    fn: Callable[[str], str]
    if callable(mapping):
        fn = mapping
    else:
        table = mapping

        def fn(name: str) -> str:
            try:
                return table[name]
            except KeyError:
                raise UnknownItemError(kind, name, where) from None

    out_codes = _Codes()
    lut = np.array([out_codes[str(fn(name))] for name in names] + [-1], np.int64)
    # codes of -1 (no value) index the trailing -1 of the lookup table.
    return lut[codes], tuple(out_codes.names())


def _fold(
    t: EventTable, keep: slice | BoolArray, case: IntArray, kept_cases: IntArray, as_of_us: int
) -> CaseFacts:
    """Per-case facts from the (sorted, filtered) event columns: all vectorised."""
    n_cases = int(kept_cases.size)
    at_us, action, to_state = t.at_us[keep], t.action[keep], t.to_state[keep]
    actor, to_owner, level, due_raw = t.actor[keep], t.to_owner[keep], t.level[keep], t.due_raw[keep]
    names = t.action_names
    n = int(case.size)

    def is_action(name: str) -> BoolArray:
        return action == _code(names, name)

    first_event = _first_per_case(case, np.ones(n, np.bool_), n_cases)
    last_event = _last_per_case(case, np.ones(n, np.bool_), n_cases)
    report = _first_per_case(case, is_action(_REPORT), n_cases)
    report = np.where(report >= 0, report, first_event)
    first_sign = _first_per_case(case, is_action(_SIGN_FOR), n_cases)
    last_close = _last_per_case(case, is_action(_CLOSE), n_cases)
    last_reopen = _last_per_case(case, is_action(_REOPEN), n_cases)
    closed = (last_close >= 0) & (last_close > last_reopen)
    close_idx = np.where(closed, last_close, -1)

    # Facts "at close" look only at events before the close; open cases at all events.
    limit = np.where(closed, close_idx, n)
    before_limit = np.arange(n) < limit[case]
    has_due = np.not_equal(due_raw, None)
    last_due = _last_per_case(case, has_due & before_limit, n_cases)
    due_us = np.full(n_cases, NO_TIME, np.int64)
    with_due = np.flatnonzero(last_due >= 0)
    memo: dict[object, int] = {}
    for c, i in zip(with_due.tolist(), last_due[with_due].tolist(), strict=True):
        raw = due_raw[i]
        us = memo.get(raw)
        if us is None:
            us = memo[raw] = _instant_us(raw, f"case {t.case_ids[int(kept_cases[c])]!r} 'due'")
        due_us[c] = us

    routing = _isin_names(action, names, _ROUTING)
    routed_to = routing & (to_owner >= 0)
    first_dispatch = _first_per_case(case, is_action(_DISPATCH), n_cases)
    first_target = _first_per_case(case, is_action(_DISPATCH) & (to_owner >= 0), n_cases)
    first_owner = _take(to_owner, first_target, -1)
    resend = routed_to & (first_owner[case] >= 0) & (to_owner != first_owner[case])
    last_owner = _take(to_owner, _last_per_case(case, routed_to & before_limit, n_cases), -1)
    resolved_from = _last_per_case(case, routing & (level >= 0) & before_limit, n_cases)
    resolved_level = np.where(closed, _take(level, resolved_from, -1), -1)

    passing = _isin_names(action, names, _PASSING)
    return CaseFacts(
        as_of_us=as_of_us,
        case_ids=tuple(t.case_ids[i] for i in kept_cases.tolist()),
        grid=t.grid[kept_cases],
        grid_names=t.grid_names,
        area=None if t.area is None else t.area[kept_cases],
        area_names=t.area_names,
        category=t.category[kept_cases],
        category_names=t.category_names,
        reported_us=at_us[report],
        first_sign_us=_take(at_us, first_sign, NO_TIME),
        closed_us=_take(at_us, close_idx, NO_TIME),
        due_us=due_us,
        rework=np.bincount(case[is_action(_REWORK)], minlength=n_cases).astype(np.int64),
        passes=np.bincount(case[passing], minlength=n_cases).astype(np.int64),
        dispatched=first_dispatch >= 0,
        resends=np.bincount(case[resend], minlength=n_cases).astype(np.int64),
        resolved_level=resolved_level,
        level_names=t.level_names,
        final_state=to_state[last_event],
        state_names=t.state_names,
        handler=_take(actor, first_sign, -1),
        owner=last_owner,
        first_owner=first_owner,
        person_names=t.person_names,
        owner_names=t.owner_names,
    )
