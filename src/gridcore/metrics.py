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

import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from types import MappingProxyType
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
# Actions whose payload never carries "to", "level" or "due" (report's grid is read apart);
# any other action, known or not, has its payload read.
_NO_ROUTING_ACTIONS = (
    _REPORT,
    "verify",
    "cancel",
    "register",
    _SIGN_FOR,
    "handle",
    _CLOSE,
    "evaluate",
    "merge",
    "void",
    "park",
)
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


def _parse_instants(values: list[Any], where: Callable[[int], str]) -> IntArray:
    """ISO 8601 instants (or aware datetimes) as int64 µs UTC; bulk-parsed when regular.

    Strings shaped like `datetime.isoformat()` output ("YYYY-MM-DDTHH:MM:SS[.ffffff]" then
    "+HH:MM", "-HH:MM" or "Z") are decoded with array arithmetic; anything else goes
    through `datetime.fromisoformat`, which also reports a malformed value.
    """
    n = len(values)
    out = np.zeros(n, np.int64)
    if not n:
        return out
    if set(map(type, values)) != {str}:
        for i, value in enumerate(values):
            out[i] = _instant_us(value, where(i))
        return out
    # Deadlines repeat (cases dispatched together share one): parse each distinct text
    # once, then spread. The first bad text is found at its first row, so an error names
    # the same row as a row-by-row parse would.
    index = {text: k for k, text in enumerate(dict.fromkeys(values))}
    texts = list(index)
    parsed = _parse_texts(texts, lambda k: where(values.index(texts[k])))
    spread: IntArray = parsed[np.fromiter(map(index.__getitem__, values), np.int64, n)]
    return spread


def _parse_texts(texts: list[str], where: Callable[[int], str]) -> IntArray:
    """`_parse_instants` for strings."""
    n = len(texts)
    out = np.zeros(n, np.int64)
    done = np.zeros(n, np.bool_)
    lengths = np.fromiter(map(len, texts), np.int64, n)
    for length, layout in _ISO_LAYOUTS.items():
        rows = np.flatnonzero(lengths == length)
        if rows.size:
            arr = np.array([texts[i] for i in rows.tolist()], dtype=f"<U{length}")
            us, ok = _parse_iso_block(arr.view(np.uint32).reshape(-1, length), layout)
            out[rows[ok]] = us[ok]
            done[rows[ok]] = True
    for i in np.flatnonzero(~done).tolist():
        out[i] = _instant_us(texts[i], where(i))
    return out


@attrs.frozen(eq=False)
class _IsoLayout:
    """Where the parts of an `isoformat()` text of one length are.

    `weights` turns the digit columns into the fields year, month, day, hour, minute,
    second, microsecond, offset hours, offset minutes with one matrix product.
    """

    tail: int  # index of "Z", "+" or "-"
    zulu: bool
    digits: IntArray
    sep_at: IntArray
    sep_char: npt.NDArray[np.uint32]
    weights: FloatArray


def _iso_layout(length: int) -> _IsoLayout:
    frac = length in (27, 32)
    tail = 26 if frac else 19
    zulu = length in (20, 27)
    fields = [(0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)]
    fields.append((20, 26) if frac else (0, 0))
    fields += [(0, 0), (0, 0)] if zulu else [(tail + 1, tail + 3), (tail + 4, tail + 6)]
    digits = sorted({k for a, b in fields for k in range(a, b)})
    weights = np.zeros((len(digits), len(fields)), np.float64)
    for f, (a, b) in enumerate(fields):
        for k in range(a, b):
            weights[digits.index(k), f] = 10 ** (b - 1 - k)
    seps = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}
    if frac:
        seps[19] = "."
    if not zulu:
        seps[tail + 3] = ":"
    return _IsoLayout(
        tail=tail,
        zulu=zulu,
        digits=np.array(digits, np.int64),
        sep_at=np.array(list(seps), np.int64),
        sep_char=np.array([ord(ch) for ch in seps.values()], np.uint32),
        weights=weights,
    )


_ISO_LAYOUTS = {length: _iso_layout(length) for length in (20, 25, 27, 32)}


def _parse_iso_block(c: npt.NDArray[np.uint32], layout: _IsoLayout) -> tuple[IntArray, BoolArray]:
    """Decode rows of code points laid out as `isoformat()` output of one length."""
    d = c[:, layout.digits].astype(np.int64) - 48  # '0' -> 0
    ok = np.all((d >= 0) & (d <= 9), axis=1)
    ok &= np.all(c[:, layout.sep_at] == layout.sep_char, axis=1)
    # A float64 product is exact here (every sum is an integer far below 2**53) and, unlike
    # an int64 one, runs in BLAS: several times faster.
    fields = (d.astype(np.float64) @ layout.weights).astype(np.int64)
    year, month, day, hour, minute, second, micro, off_h, off_m = fields.T
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    mark = c[:, layout.tail]
    if layout.zulu:
        ok &= mark == ord("Z")
        offset = 0
    else:
        ok &= (mark == ord("+")) | (mark == ord("-"))
        offset = np.where(mark == ord("-"), -1, 1) * (off_h * 60 + off_m) * 60
    # days from the civil date (proleptic Gregorian), vectorised
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    ok &= day <= _month_length(year, month)
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
    us: IntArray = seconds * _US_PER_S + micro
    return us, ok


def _month_length(year: IntArray, month: IntArray) -> IntArray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
    out: IntArray = lengths[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    return out


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
    """Where `codes` (indices into `vocab`, -1 for none) name one of `names`."""
    wanted_names = set(names)
    wanted = [i for i, v in enumerate(vocab) if v in wanted_names]
    out: BoolArray
    if codes.size and (int(codes.min()) < -1 or int(codes.max()) >= len(vocab)):
        out = np.isin(codes, np.asarray(wanted, np.int64))
        return out
    # A lookup table indexed by code (its extra last slot, False, is what -1 reads) is
    # several times faster than np.isin on a few codes.
    lut = np.zeros(len(vocab) + 1, np.bool_)
    lut[wanted] = True
    out = lut[codes]
    return out


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

    @classmethod
    def concat(cls, parts: Iterable[CaseFacts]) -> CaseFacts:
        """The facts of all `parts` in one table (rows in order), codes mapped to merged names.

        For folding a long log chunk by chunk: take the facts of the cases that ended,
        drop their events, and concatenate the facts at the end. `as_of_us` is the latest
        of the parts' (it only matters for cases still open). A case id in two parts, or
        a mix of parts with and without areas, is refused (`MetricsError`).

        >>> CaseFacts.concat([]).case_ids
        ()
        """
        ps = list(parts)
        if not ps:
            return _EMPTY_FACTS
        if len(ps) == 1:
            return ps[0]
        case_ids = tuple(i for p in ps for i in p.case_ids)
        if len(set(case_ids)) != len(case_ids):
            seen: set[str] = set()
            for cid in case_ids:
                if cid in seen:
                    raise MetricsError(
                        f"CaseFacts.concat: case {cid!r} is in two parts: expected each once"
                    )
                seen.add(cid)
        with_area = {p.area is not None for p in ps}
        if len(with_area) != 1:
            raise MetricsError(
                "CaseFacts.concat: some parts have areas and some do not: expected all or none"
            )

        def cat(name: str) -> npt.NDArray[Any]:
            return np.concatenate([getattr(p, name) for p in ps])

        def recode(cols: Sequence[str], names_field: str) -> dict[str, Any]:
            merged = _Codes()
            luts = []
            for p in ps:
                names: tuple[str, ...] = getattr(p, names_field)
                luts.append(np.array([merged[x] for x in names] + [-1], np.int64))
            out: dict[str, Any] = {names_field: tuple(merged.names())}
            for col in cols:
                out[col] = np.concatenate(
                    [lut[getattr(p, col)] for p, lut in zip(ps, luts, strict=True)]
                )
            return out

        area: dict[str, Any] = (
            recode(("area",), "area_names") if ps[0].area is not None else {"area_names": ()}
        )
        return cls(
            as_of_us=max(p.as_of_us for p in ps),
            case_ids=case_ids,
            **recode(("grid",), "grid_names"),
            area=area.get("area"),
            area_names=area["area_names"],
            **recode(("category",), "category_names"),
            reported_us=cat("reported_us"),
            first_sign_us=cat("first_sign_us"),
            closed_us=cat("closed_us"),
            due_us=cat("due_us"),
            rework=cat("rework"),
            passes=cat("passes"),
            dispatched=cat("dispatched"),
            resends=cat("resends"),
            **recode(("resolved_level",), "level_names"),
            **recode(("final_state",), "state_names"),
            **recode(("handler",), "person_names"),
            **recode(("owner", "first_owner"), "owner_names"),
        )

    @property
    def closed(self) -> BoolArray:
        """Closed at `as_of` (the last close was not followed by a reopen)."""
        out: BoolArray = self.closed_us != NO_TIME
        return out

    @property
    def excluded(self) -> BoolArray:
        """Ended without resolution (cancelled, merged, voided) or parked: never due."""
        names = _NOT_DUE_STATES + _PAUSED_STATES
        out: BoolArray = _isin_names(self.final_state, self.state_names, names) & ~self.closed
        return out

    @property
    def due(self) -> BoolArray:
        """Due to close (应结案): closed, or deadline at or before `as_of`, and not excluded."""
        has_due = self.due_us != NO_TIME
        out: BoolArray = self.closed | (~self.excluded & has_due & (self.due_us <= self.as_of_us))
        return out

    @property
    def on_time(self) -> BoolArray:
        """Closed at or before its deadline (a closed case that never had one counts)."""
        met = (self.due_us == NO_TIME) | (self.closed_us <= self.due_us)
        out: BoolArray = self.closed & met
        return out

    @property
    def accurate(self) -> BoolArray:
        """Dispatched and never re-sent to another owner (no transfer/return/escalation away)."""
        out: BoolArray = self.dispatched & (self.resends == 0)
        return out


def _no_ints() -> IntArray:
    return np.zeros(0, np.int64)


_EMPTY_FACTS = CaseFacts(
    as_of_us=0,
    case_ids=(),
    grid=_no_ints(),
    grid_names=(),
    area=None,
    area_names=(),
    category=_no_ints(),
    category_names=(),
    reported_us=_no_ints(),
    first_sign_us=_no_ints(),
    closed_us=_no_ints(),
    due_us=_no_ints(),
    rework=_no_ints(),
    passes=_no_ints(),
    dispatched=np.zeros(0, np.bool_),
    resends=_no_ints(),
    resolved_level=_no_ints(),
    level_names=LEVELS,
    final_state=_no_ints(),
    state_names=(),
    handler=_no_ints(),
    owner=_no_ints(),
    first_owner=_no_ints(),
    person_names=(),
    owner_names=(),
)


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
        case_codes, actions, states, persons = _Codes(), _Codes(), _Codes(), _Codes()
        # from_state is not read: in a valid log it is the previous event's to_state.
        if n and _case_event_tuples(evs):
            # Named tuples in `CaseEvent`'s layout: transposed in C (reading a named
            # tuple's field by name is a descriptor call, several times a slot read).
            case_col, seq_col, at_col, actor_col, action_col, to_col, pay_col = _columns(evs)
        else:
            # Any other `EventLike`: one list comprehension per attribute, far cheaper than
            # zip(*rows) on 1M events (and, on slotted events, than map(attrgetter)).
            case_col = [e.case_id for e in evs]
            seq_col = [e.seq for e in evs]
            at_col = [e.at for e in evs]
            actor_col = [e.actor for e in evs]
            action_col = [e.action for e in evs]
            to_col = [e.to_state for e in evs]
            pay_col = [e.payload for e in evs]
        case = _codes_of(case_codes, case_col, n)
        seq = np.array(seq_col, np.int64).reshape(n)
        at_us = _instants_us(at_col)
        action = _codes_of(actions, action_col, n)
        to_state = _codes_of(states, to_col, n)
        actor = _codes_of(persons, actor_col, n)
        action_names = tuple(str(a) for a in actions.names())

        # Payloads are read only on events whose action can carry "to", "level" or "due".
        scan = np.flatnonzero(~_isin_names(action, action_names, _NO_ROUTING_ACTIONS))
        scanned = [pay_col[i] or _EMPTY for i in scan.tolist()]
        to_owner = np.full(n, -1, np.int64)
        level = np.full(n, -1, np.int64)
        owner_codes, owner_names = _factorize([p.get("to") for p in scanned])
        level_codes, level_names = _factorize([p.get("level") for p in scanned], LEVELS)
        to_owner[scan] = owner_codes
        level[scan] = level_codes
        due_raw = np.full(n, None, object)
        due_raw[scan] = [p.get("due") for p in scanned]

        n_cases = len(case_codes)
        grid = np.full(n_cases, -1, np.int64)
        category = np.full(n_cases, -1, np.int64)
        reports = np.flatnonzero(action == _code(action_names, _REPORT))
        report_pay = [pay_col[i] or _EMPTY for i in reports.tolist()]
        report_cases = case[reports]
        grid_codes, grid_names = _factorize([p.get("grid") for p in report_pay])
        cat_codes, category_names = _factorize([p.get("category") for p in report_pay])
        grid[report_cases] = grid_codes
        category[report_cases] = cat_codes

        # One int64 sort key (case, seq) sorts faster than a two-key lexsort.
        top = int(seq.max()) + 1 if n else 1
        if n and (int(seq.min()) < 0 or n_cases * top >= 2**62):
            order = np.lexsort((seq, case))
        else:
            order = np.argsort(case * top + seq, kind="stable")
        if n and not np.all(order[1:] > order[:-1]):
            case, seq, at_us, action = case[order], seq[order], at_us[order], action[order]
            to_state, actor = to_state[order], actor[order]
            to_owner, level, due_raw = to_owner[order], level[order], due_raw[order]
        case_id_names = tuple(map(str, case_codes))
        _check_sequences(case, seq, case_id_names)
        from_state = np.full(n, -1, np.int64)
        if n:
            from_state[1:] = to_state[:-1]
            from_state[seq == 1] = -1

        area: IntArray | None = None
        area_names: tuple[str, ...] = ()
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
            owner_names=owner_names,
            level_names=level_names,
            grid_names=grid_names,
            category_names=category_names,
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
            if keep.all():
                keep = slice(None)  # the usual case: no column needs filtering
        case = self.case[keep]
        # Renumber the cases still present so every fact column is dense.
        present = np.zeros(self.n_cases, np.bool_)
        present[case] = True
        new_index = np.cumsum(present) - 1
        case = new_index[case]
        kept_cases = np.flatnonzero(present)
        return _fold(self, keep, case, kept_cases, as_of_us)


_TZ = operator.attrgetter("tzinfo")

# The field order of `gridcore.cases.CaseEvent`, a named tuple (not imported: metrics reads
# events by the `EventLike` contract). Events of one named-tuple class with exactly these
# fields are read by position (`EventTable.from_events`).
_EVENT_FIELDS = (
    "case_id",
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "reason",
    "payload",
)
# The columns `from_events` reads, in the order `_columns` returns them.
_USED_FIELDS = tuple(
    _EVENT_FIELDS.index(name)
    for name in ("case_id", "seq", "at", "actor", "action", "to_state", "payload")
)
_CHUNK = 4096


def _case_event_tuples(evs: Sequence[Any]) -> bool:
    """Whether all events are of one named-tuple class laid out as `CaseEvent`.

    Only a class made by `namedtuple`/`NamedTuple` itself (bases exactly `tuple`), so
    that reading a field by position is reading it by name (no subclass can override).
    """
    kinds = set(map(type, evs))
    if len(kinds) != 1:
        return False
    kind = kinds.pop()
    return kind.__bases__ == (tuple,) and getattr(kind, "_fields", None) == _EVENT_FIELDS


def _columns(evs: Iterable[Any]) -> list[list[Any]]:
    """The `_USED_FIELDS` columns of `CaseEvent`-shaped tuples, each a list.

    `zip(*rows)` transposes in C, a chunk at a time: over a million rows at once it makes a
    million iterators and runs far slower than the list comprehensions it replaces.
    """
    cols: list[list[Any]] = [[] for _ in _USED_FIELDS]
    it = iter(evs)
    while chunk := tuple(itertools.islice(it, _CHUNK)):
        parts = tuple(zip(*chunk, strict=True))
        for col, k in zip(cols, _USED_FIELDS, strict=True):
            col.extend(parts[k])
    return cols


_EMPTY: Mapping[str, Any] = {}


def _factorize(values: list[Any], known: Sequence[str] = ()) -> tuple[IntArray, tuple[str, ...]]:
    """Codes of values (as str) in order of first sight after `known`; None gives -1."""
    raw_codes = _Codes()
    raw = _codes_of(raw_codes, values, len(values))
    out = _Codes()
    for name in known:
        out[name]  # fixes the order of the known names
    lut = np.array([-1 if v is None else out[str(v)] for v in raw_codes.names()] + [-1], np.int64)
    return lut[raw], tuple(out.names())


def _code_or_none(codes: _Codes, value: object) -> int:
    return -1 if value is None else codes[str(value)]


def _instants_us(ats: list[datetime]) -> IntArray:
    """Aware datetimes as int64 microseconds UTC, exactly.

    `datetime.timestamp` asks the zone for every instant (slow for `zoneinfo`); when all
    share one zone, the wall-clock fields are read in bulk and the UTC offset is looked up
    once per distinct local hour (per instant only in hours where the offset changes).
    """
    n = len(ats)
    if not all(isinstance(a, datetime) for a in ats[:1]):
        raise MetricsError(f"event field 'at' = {ats[0]!r}: expected a datetime.datetime")
    zones = set(map(_TZ, ats))
    if None in zones:
        raise MetricsError("event field 'at': expected timezone-aware instants, got a naive one")
    if len(zones) == 1:
        return _one_zone_us(ats, next(iter(zones)))
    # Not through float `timestamp()`: past 2^32 s (2106) a float no longer resolves a
    # microsecond, so rounding it was off by one there. Exact integers per zone instead.
    if len(zones) > _MAX_ZONE_GROUPS:
        try:
            return np.fromiter(((a - _EPOCH) // _ONE_US for a in ats), np.int64, n)
        except TypeError:
            raise MetricsError("event field 'at': expected datetime.datetime values") from None
    zone_codes = _Codes()
    zone_of = _codes_of(zone_codes, map(_TZ, ats), n)
    out = np.empty(n, np.int64)
    for k, tz in enumerate(zone_codes.names()):
        rows = np.flatnonzero(zone_of == k)
        out[rows] = _one_zone_us([ats[i] for i in rows.tolist()], tz)
    return out


_MAX_ZONE_GROUPS = 64
_ONE_US = timedelta(microseconds=1)


def _one_zone_us(ats: list[datetime], tz: tzinfo) -> IntArray:
    """`_instants_us` for instants that all carry the zone `tz`."""
    n = len(ats)
    try:
        day = np.fromiter(map(datetime.toordinal, ats), np.int64, n) - _ORDINAL_1970
    except TypeError:
        raise MetricsError("event field 'at': expected datetime.datetime values") from None
    sec = np.fromiter(map(_HOUR, ats), np.int64, n) * 3600
    sec += np.fromiter(map(_MINUTE, ats), np.int64, n) * 60
    sec += np.fromiter(map(_SECOND, ats), np.int64, n)
    local = (day * 86_400 + sec) * _US_PER_S + np.fromiter(map(_MICRO, ats), np.int64, n)
    hour = local // (3600 * _US_PER_S)
    lo = int(hour.min())
    span = int(hour.max()) - lo + 1
    if span <= 4 * n + 1024:
        # Hours are dense in a real log: a bincount finds the distinct ones without a sort.
        hours = np.flatnonzero(np.bincount(hour - lo, minlength=span)) + lo
        slot = np.full(span, -1, np.int64)
        slot[hours - lo] = np.arange(hours.size)
        inv = slot[hour - lo]
    else:
        hours, inv = np.unique(hour, return_inverse=True)
        inv = inv.reshape(-1)
    per_hour = _hour_offsets(tz, hours.tolist())
    regular = np.fromiter((v is not None for v in per_hour), np.bool_, len(per_hour))
    offsets = np.fromiter((v or 0 for v in per_hour), np.int64, len(per_hour))
    out: IntArray = local - offsets[inv]
    # An hour with a transition or an ambiguous fold: ask the zone for each instant there.
    for i in np.flatnonzero(~regular[inv]).tolist():
        out[i] = (ats[i] - _EPOCH) // timedelta(microseconds=1)
    return out


# Zones whose offsets never change for a given wall-clock hour (the standard library's):
# their per-hour offsets are remembered across calls, since every chunk of a streamed log
# asks for mostly the same hours again.
_CACHED_ZONES = (ZoneInfo, timezone)
_zone_hours: dict[tzinfo, dict[int, int | None]] = {}
_MAX_ZONES = 64
_MAX_HOURS = 1_000_000  # about 114 years of hours per zone
_UNSET = object()


def _hour_offsets(tz: tzinfo, hours: list[int]) -> list[int | None]:
    """The UTC offset (µs) of each local wall-clock hour (hours since 1970-01-01 00:00
    local), or None for an hour with a transition or an ambiguous fold in it."""
    cache: dict[int, int | None] | None = None
    if type(tz) in _CACHED_ZONES:
        cache = _zone_hours.get(tz)
        if cache is None or len(cache) > _MAX_HOURS:
            if len(_zone_hours) >= _MAX_ZONES:
                _zone_hours.clear()
            cache = _zone_hours[tz] = {}
    out: list[int | None] = []
    for h in hours:
        v = _UNSET if cache is None else cache.get(h, _UNSET)
        if v is _UNSET:
            v = _hour_offset(tz, h)
            if cache is not None:
                cache[h] = v
        out.append(v)  # type: ignore[arg-type]
    return out


def _hour_offset(tz: tzinfo, h: int) -> int | None:
    """`_hour_offsets` for one hour, asking the zone at both ends of it, both folds."""
    start = datetime(1970, 1, 1, tzinfo=tz) + timedelta(hours=h)
    end = start + timedelta(microseconds=3600 * _US_PER_S - 1)
    offs = {
        (t.utcoffset() or timedelta(0)) // _ONE_US
        for t in (start, start.replace(fold=1), end, end.replace(fold=1))
    }
    return offs.pop() if len(offs) == 1 else None


_HOUR = operator.attrgetter("hour")
_MINUTE = operator.attrgetter("minute")
_SECOND = operator.attrgetter("second")
_MICRO = operator.attrgetter("microsecond")
_ORDINAL_1970 = date(1970, 1, 1).toordinal()


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
    actor, to_owner, level, due_raw = (
        t.actor[keep],
        t.to_owner[keep],
        t.level[keep],
        t.due_raw[keep],
    )
    names = t.action_names
    n = int(case.size)

    def is_action(name: str) -> BoolArray:
        out: BoolArray = action == _code(names, name)
        return out

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
    has_due: BoolArray = np.not_equal(due_raw, np.array(None, dtype=object))
    last_due = _last_per_case(case, has_due & before_limit, n_cases)
    due_us = np.full(n_cases, NO_TIME, np.int64)
    with_due = np.flatnonzero(last_due >= 0)

    def where(k: int) -> str:
        return f"case {t.case_ids[int(kept_cases[with_due[k]])]!r} payload 'due'"

    due_us[with_due] = _parse_instants(list(due_raw[last_due[with_due]]), where)

    routing = _isin_names(action, names, _ROUTING)
    routed_to = routing & (to_owner >= 0)
    # The first routing event with a target is the dispatch (an escalation straight from
    # registration dispatches too); any later one to another owner is a re-send.
    first_target = _first_per_case(case, routed_to, n_cases)
    first_owner = _take(to_owner, first_target, -1)
    resend = routed_to & (first_owner[case] >= 0) & (to_owner != first_owner[case])
    last_owner = _take(to_owner, _last_per_case(case, routed_to & before_limit, n_cases), -1)
    resolved_from = _last_per_case(case, routing & (level >= 0) & before_limit, n_cases)
    resolved_level = np.where(closed, _take(level, resolved_from, -1), -1)

    passing = _isin_names(action, names, _PASSING)
    return CaseFacts(
        as_of_us=as_of_us,
        case_ids=(
            t.case_ids
            if n_cases == t.n_cases
            else tuple(map(t.case_ids.__getitem__, kept_cases.tolist()))
        ),
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
        dispatched=first_target >= 0,
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


def _local_days(us: IntArray, tz: tzinfo) -> IntArray:
    """Local calendar day numbers (days since 1970-01-01) of UTC microsecond instants."""
    hours, inv = np.unique(us // (3600 * _US_PER_S), return_inverse=True)
    # UTC offsets change on whole hours in practice, so one lookup per distinct hour is exact.
    offsets = np.array(
        [
            (tz.utcoffset(datetime.fromtimestamp(h * 3600, UTC)) or timedelta(0))
            // timedelta(microseconds=1)
            for h in hours.tolist()
        ],
        np.int64,
    )
    return (us + offsets[inv.reshape(-1)]) // _US_PER_DAY


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


def _ratio(num: npt.NDArray[Any], den: npt.NDArray[Any]) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return out


def _group_stats(
    g: IntArray, n_groups: int, values: FloatArray, valid: BoolArray, qs: Sequence[float]
) -> dict[str, FloatArray]:
    """Mean and linear-interpolated percentiles of `values[valid]` per group (NaN if none)."""
    gv, v = g[valid], values[valid]
    count = np.bincount(gv, minlength=n_groups)
    out = {"mean": _ratio(np.bincount(gv, weights=v, minlength=n_groups), count)}
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
    n = len(facts)

    # Combine per-key codes into one dense group code, ordered key by key.
    g = np.zeros(n, np.int64)
    key_labels: list[list[str]] = []
    key_codes: list[IntArray] = []
    for key in keys:
        codes, labels = _group_of(facts, key, area_of, category_of, tz)
        key_codes.append(codes)
        key_labels.append(labels)
    if keys:
        dims = tuple(max(len(lb), 1) for lb in key_labels)
        flat = np.ravel_multi_index(tuple(key_codes), dims) if n else np.zeros(0, np.int64)
        used, inv = np.unique(flat, return_inverse=True)
        g = inv.reshape(-1).astype(np.int64)
        parts = np.unravel_index(used, dims)
        n_groups = int(used.size)
    else:
        parts = ()
        n_groups = 1
    cols: dict[str, npt.NDArray[Any]] = {}
    for key, labels, part in zip(keys, key_labels, parts, strict=True):
        cols[key] = np.array([labels[i] for i in part.tolist()], dtype=object)

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(g[mask], minlength=n_groups).astype(np.int64)

    def total(values: IntArray) -> IntArray:
        return np.rint(np.bincount(g, weights=values, minlength=n_groups)).astype(np.int64)

    closed, due, on_time = facts.closed, facts.due, facts.on_time
    ended = _isin_names(facts.final_state, facts.state_names, _NOT_DUE_STATES) & ~closed
    cols["n_cases"] = count(np.ones(n, np.bool_))
    for code, state in enumerate(facts.state_names):
        if state:
            cols[f"n_state_{state}"] = count(facts.final_state == code)
    cols["n_open"] = count(~closed & ~ended)
    cols["n_ended"] = count(ended)
    cols["n_due"] = count(due)
    cols["n_closed"] = count(closed)
    cols["n_on_time"] = count(on_time)
    cols["closure_rate"] = _ratio(cols["n_closed"], cols["n_due"])
    cols["on_time_rate"] = _ratio(cols["n_on_time"], cols["n_due"])
    cols["n_reworked"] = count(closed & (facts.rework > 0))
    cols["n_rework_events"] = total(facts.rework)
    cols["rework_rate"] = _ratio(cols["n_reworked"], cols["n_closed"])
    cols["n_dispatched"] = count(facts.dispatched)
    cols["n_accurate_dispatch"] = count(facts.accurate)
    cols["accurate_dispatch_rate"] = _ratio(cols["n_accurate_dispatch"], cols["n_dispatched"])
    cols["n_passes"] = total(facts.passes)
    cols["n_passed_cases"] = count(facts.passes > 0)
    cols["passing_rate"] = _ratio(cols["n_passed_cases"], cols["n_dispatched"])

    signed = facts.first_sign_us != NO_TIME
    spans = {
        "response": (signed, facts.first_sign_us),
        "resolution": (closed, facts.closed_us),
    }
    for name, (valid, end_us) in spans.items():
        seconds = np.where(valid, end_us - facts.reported_us, 0).astype(np.float64) / 1e6
        for stat, values in _group_stats(g, n_groups, seconds, valid, percentiles).items():
            cols[f"{name}_s_{stat}"] = values
    if calendar is not None:
        start_work = _cumulative(calendar, facts.reported_us)
        for name, (valid, end_us) in spans.items():
            work = np.zeros(n, np.float64)
            work[valid] = _cumulative(calendar, end_us[valid]) - start_work[valid]
            for stat, values in _group_stats(g, n_groups, work, valid, percentiles).items():
                cols[f"{name}_work_s_{stat}"] = values

    n_closed = cols["n_closed"]
    level_counts = {}
    for code, level in enumerate(facts.level_names):
        level_counts[level] = count(closed & (facts.resolved_level == code))
        cols[f"n_resolved_{level}"] = level_counts[level]
    cols["n_resolved_unknown"] = count(closed & (facts.resolved_level < 0))
    for level in facts.level_names:
        cols[f"share_{level}"] = _ratio(level_counts[level], n_closed)
    cols["share_unknown"] = _ratio(cols["n_resolved_unknown"], n_closed)
    cols["share_within_community"] = _ratio(
        level_counts["grid"] + level_counts["community"], n_closed
    )
    cols["share_within_street"] = _ratio(
        level_counts["grid"] + level_counts["community"] + level_counts["street"], n_closed
    )
    return MetricTable(keys=keys, columns=MappingProxyType(cols))


def _pct(table: MetricTable, name: str) -> FloatArray:
    return np.asarray(table[name], np.float64) * 100.0


def _volume(table: MetricTable) -> FloatArray:
    n = np.asarray(table["n_cases"], np.float64)
    top = float(n.max()) if n.size else 0.0
    return n * (100.0 / top) if top > 0 else np.full(n.shape, np.nan)


SCORE_COMPONENTS: Mapping[str, Callable[[MetricTable], FloatArray]] = {
    "closure": lambda t: _pct(t, "closure_rate"),
    "on_time": lambda t: _pct(t, "on_time_rate"),
    "no_rework": lambda t: 100.0 - _pct(t, "rework_rate"),
    "accurate_dispatch": lambda t: _pct(t, "accurate_dispatch_rate"),
    "no_passing": lambda t: 100.0 - _pct(t, "passing_rate"),
    "within_community": lambda t: _pct(t, "share_within_community"),
    "within_street": lambda t: _pct(t, "share_within_street"),
    "volume": _volume,
}
"""Score components on a 0-100 scale; "volume" is cases relative to the busiest group."""


def _weights(value: Mapping[str, float]) -> Mapping[str, float]:
    return dict(value)


@attrs.frozen
class ScoreWeights:
    """Weights of `SCORE_COMPONENTS` that sum to 1 (within 1e-9), each in [0, 1]."""

    weights: Mapping[str, float] = attrs.field(converter=_weights)

    def __attrs_post_init__(self) -> None:
        for name, w in self.weights.items():
            if name not in SCORE_COMPONENTS:
                raise ConfigError(
                    f"score weight {name!r}: expected one of {', '.join(SCORE_COMPONENTS)}"
                )
            if not (isinstance(w, int | float) and 0.0 <= w <= 1.0):
                raise ConfigError(f"score weight {name!r} = {w!r}: expected a number in [0, 1]")
        s = float(sum(self.weights.values()))
        if not self.weights or abs(s - 1.0) > 1e-9:
            raise ConfigError(f"score weights {dict(self.weights)!r} sum to {s!r}: expected 1")


DEPARTMENT_WEIGHTS = ScoreWeights({"closure": 0.3, "on_time": 0.3, "no_rework": 0.3, "volume": 0.1})
"""A department's score: closure 30%, on time 30%, 100 - rework 30%, volume 10%."""


def composite_scores(
    table: MetricTable, weights: ScoreWeights | Mapping[str, float] = DEPARTMENT_WEIGHTS
) -> FloatArray:
    """Weighted score (0-100) per row of `table`; NaN where a weighted component is NaN."""
    sw = weights if isinstance(weights, ScoreWeights) else ScoreWeights(weights)
    score = np.zeros(len(table), np.float64)
    for name, w in sw.weights.items():
        if w:
            score = score + w * SCORE_COMPONENTS[name](table)
    return score
