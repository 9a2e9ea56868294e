"""`EventTable`: case events as numpy columns, read in one lean pass, and their fold.

`EventTable.from_events` reads any `EventLike` (such as `gridcore.cases.CaseEvent`) by
field; `EventTable.facts` folds the columns into one row per case (`CaseFacts`), all
vectorised. Per-case sequence numbers must run 1, 2, 3...
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs
import numpy as np

from gridcore.cases import Action
from gridcore.metrics._columns import (
    LEVELS,
    NO_TIME,
    AncestorMap,
    BoolArray,
    IntArray,
    MetricsError,
    ObjArray,
    _code,
    _Codes,
    _codes_of,
    _factorize,
    _first_per_case,
    _isin_names,
    _last_per_case,
    _map_codes,
    _take,
)
from gridcore.metrics._instants import _instant_us, _instants_us, _parse_instants
from gridcore.metrics.facts import CaseFacts

# Routing actions: their payload's "to" names the new owner, "level" its level.
_ROUTING = (Action.DISPATCH, Action.TRANSFER, Action.APPROVE_RETURN, Action.ESCALATE)
# Passing the case on (推诿 when it happens often): a transfer or an approved return.
_PASSING = (Action.TRANSFER, Action.APPROVE_RETURN)
# Actions whose payload never carries "to", "level" or "due" (report's grid is read apart);
# any other action, known or not, has its payload read.
_NO_ROUTING_ACTIONS = (
    Action.REPORT,
    Action.VERIFY,
    Action.CANCEL,
    Action.REGISTER,
    Action.SIGN_FOR,
    Action.HANDLE,
    Action.CLOSE,
    Action.EVALUATE,
    Action.MERGE,
    Action.VOID,
    Action.PARK,
)


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
        case_col, seq_col, at_col, actor_col, action_col, to_col, pay_col = _read_fields(evs)
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
        reports = np.flatnonzero(action == _code(action_names, Action.REPORT))
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


# The fields `from_events` reads, in the order `_read_fields` returns them.
_READ = ("case_id", "seq", "at", "actor", "action", "to_state", "payload")
_CHUNK = 4096
_EMPTY: Mapping[str, Any] = {}


def _read_fields(evs: Sequence[Any]) -> list[list[Any]]:
    """The `_READ` fields of every event, one list per field, read by name.

    Events of one named-tuple class (`gridcore.cases.CaseEvent`) are transposed in C a
    chunk at a time, each field taken at the position the class's own `_fields` gives its
    name (about 1.7x faster than reading attributes on 1M events; a million rows zipped
    at once would make a million iterators). Only a class made by `namedtuple` itself
    (bases exactly `tuple`) qualifies, so no subclass can give a field another meaning.
    Any other `EventLike` is read attribute by attribute.
    """
    kinds = set(map(type, evs))
    kind = kinds.pop() if len(kinds) == 1 else None
    fields = getattr(kind, "_fields", ())
    if kind is None or kind.__bases__ != (tuple,) or not set(_READ) <= set(fields):
        # One list comprehension per field: cheaper than zip(*rows) on plain objects and,
        # on slotted ones, than map(attrgetter).
        return [
            [e.case_id for e in evs],
            [e.seq for e in evs],
            [e.at for e in evs],
            [e.actor for e in evs],
            [e.action for e in evs],
            [e.to_state for e in evs],
            [e.payload for e in evs],
        ]
    where = [fields.index(name) for name in _READ]
    cols: list[list[Any]] = [[] for _ in _READ]
    it = iter(evs)
    while chunk := tuple(itertools.islice(it, _CHUNK)):
        parts = tuple(zip(*chunk, strict=True))
        for col, k in zip(cols, where, strict=True):
            col.extend(parts[k])
    return cols


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
    report = _first_per_case(case, is_action(Action.REPORT), n_cases)
    report = np.where(report >= 0, report, first_event)
    first_sign = _first_per_case(case, is_action(Action.SIGN_FOR), n_cases)
    last_close = _last_per_case(case, is_action(Action.CLOSE), n_cases)
    last_reopen = _last_per_case(case, is_action(Action.REOPEN), n_cases)
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
        rework=np.bincount(case[is_action(Action.REWORK)], minlength=n_cases).astype(np.int64),
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
