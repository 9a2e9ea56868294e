"""A case log read for calibration: columnar, sorted, its dirt counted instead of fatal.

`read_event_log(path)` reads event JSON lines (the format `gridcore.cases.event_to_json`
writes and the journal imports); `event_log_from_events(events)` takes `CaseEvent`s (the
simulation's, a store's). Both give an `EventLog`: a `gridcore.metrics.EventTable` (events
sorted by case and by the log's own order, renumbered 1, 2, 3... per case) plus the
report channel of each case, and `dirt`: counts of what was wrong and left out (lines
that are not JSON, events missing a field, instants that do not parse, repeated
sequence numbers...). Only input that cannot be read at all is an error
(`FileFormatError`).
"""

from __future__ import annotations

import json
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.errors import FileFormatError
from gridcore.metrics import LEVELS, EventTable

__all__ = ["EventLog", "event_log_from_events", "parse_instants_us", "read_event_log"]

IntArray = npt.NDArray[np.int64]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# actions whose payload may carry "to", "level" or "due" (read); the report's is read apart
_ROUTING_LIKE = frozenset({"dispatch", "transfer", "approve_return", "escalate", "reopen"})


@attrs.frozen(eq=False)
class EventLog:
    """A case log as columns: `table` (sorted by case, then the log's order), the channel of
    each case's report (`channel`, codes into `channel_names`, -1 unknown), its severity
    (`severity`, -1 unknown), and `dirt` (what was left out or repaired, by kind)."""

    table: EventTable
    channel: IntArray
    channel_names: tuple[str, ...]
    severity: IntArray
    dirt: Mapping[str, int]
    source: str

    @property
    def n_events(self) -> int:
        """Events kept."""
        return len(self.table)


class _Codes(dict[Any, int]):
    """Value -> dense code, in order of first sight."""

    def __missing__(self, key: Any) -> int:
        v = self[key] = len(self)
        return v

    def names(self) -> tuple[Any, ...]:
        return tuple(self)


def _codes(values: list[Any]) -> tuple[IntArray, tuple[Any, ...]]:
    codes = _Codes()
    arr = np.fromiter(map(codes.__getitem__, values), np.int64, len(values))
    return arr, codes.names()


def parse_instants_us(texts: list[str]) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """ISO 8601 instants with an offset (or Z) as int64 µs UTC, and which ones parsed.

    Vectorised: numpy parses the local part, the offsets (few distinct) are looked up
    once each; a block numpy refuses falls back to `datetime.fromisoformat` per text.

    >>> us, ok = parse_instants_us(["1970-01-01T08:00:01+08:00", "bad", "1970-01-01T00:00:00Z"])
    >>> us[ok].tolist(), ok.tolist()
    ([1000000, 0], [True, False, True])
    """
    n = len(texts)
    out = np.zeros(n, np.int64)
    ok = np.zeros(n, np.bool_)
    if not n:
        return out, ok
    tails = list(map(_TAIL, texts))
    offset_of = {tl: _offset_us(tl) for tl in set(tails)}
    if all(v is not None for v in offset_of.values()):
        heads = list(map(_HEAD, texts))
        offs = np.fromiter(map(offset_of.__getitem__, tails), np.int64, n)
        has_off = np.ones(n, np.bool_)
    else:  # some end in Z or carry no offset: per text
        tails = [t[-6:] if len(t) > 6 and t[-6] in "+-" and t[-3] == ":" else t[-1:] for t in texts]
        heads = [t[: len(t) - len(tl)] for t, tl in zip(texts, tails, strict=True)]
        for tl in set(tails):
            offset_of.setdefault(tl, _offset_us(tl))
        offs = np.array([offset_of[tl] or 0 for tl in tails], np.int64)
        has_off = np.array([offset_of[tl] is not None for tl in tails], np.bool_)
    try:
        local = np.array(heads, dtype="datetime64[us]").astype(np.int64)
        good = has_off & (local != np.iinfo(np.int64).min)
        out[:] = local - offs
        ok[:] = good
    except ValueError:
        for i, t in enumerate(texts):
            if not has_off[i]:
                continue
            try:
                d = datetime.fromisoformat(t)
            except ValueError:
                continue
            if d.tzinfo is not None:
                out[i] = (d - _EPOCH) // _ONE_US
                ok[i] = True
    return out, ok


_TAIL = operator.itemgetter(slice(-6, None))
_HEAD = operator.itemgetter(slice(None, -6))


def _offset_us(tail: str) -> int | None:
    if tail == "Z":
        return 0
    if len(tail) != 6 or tail[0] not in "+-" or tail[3] != ":":
        return None
    try:
        h, m = int(tail[1:3]), int(tail[4:6])
    except ValueError:
        return None
    sign = 1 if tail[0] == "+" else -1
    return sign * (h * 3600 + m * 60) * 1_000_000


def read_event_log(path: str | Path) -> EventLog:
    """Read an event JSON-lines file; dirty lines are counted in `dirt`, not fatal.

    A file that cannot be opened or decoded, or holds no usable event, is a
    `FileFormatError` naming it.
    """
    p = str(path)
    dirt: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    loads = json.loads
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    d = loads(line)
                except ValueError:
                    dirt["lines_not_json"] += 1
                    continue
                if type(d) is dict:
                    rows.append(d)
                else:
                    dirt["lines_not_an_object"] += 1
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(
            p, "", "", "a readable UTF-8 event JSON-lines file", str(exc)
        ) from None
    return _build(rows, dirt, p)


def event_log_from_events(events: Iterable[Any], source: str = "<events>") -> EventLog:
    """An `EventLog` from `CaseEvent`s (or a store's `StoredEvent`s, read for their event)."""
    rows: list[dict[str, Any]] = []
    for e in events:
        ev = getattr(e, "event", e)
        rows.append(
            {
                "case_id": ev.case_id,
                "seq": ev.seq,
                "at": ev.at,
                "actor": ev.actor,
                "action": str(ev.action),
                "to_state": str(ev.to_state),
                "payload": dict(ev.payload),
            }
        )
    return _build(rows, Counter(), source)


def _instants(values: list[Any]) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Instants given as ISO texts or aware datetimes, as µs UTC and which are valid."""
    if all(type(v) is str for v in values):
        return parse_instants_us(values)
    out = np.zeros(len(values), np.int64)
    ok = np.zeros(len(values), np.bool_)
    texts = [(i, v) for i, v in enumerate(values) if type(v) is str]
    if texts:
        us, good = parse_instants_us([v for _, v in texts])
        idx = np.array([i for i, _ in texts], np.int64)
        out[idx], ok[idx] = us, good
    for i, v in enumerate(values):
        if isinstance(v, datetime) and v.tzinfo is not None:
            out[i] = (v - _EPOCH) // _ONE_US
            ok[i] = True
    return out, ok


def _column(rows: list[dict[str, Any]], key: str) -> list[Any]:
    """One field of every row (None where missing), read in C."""
    return list(map(dict.get, rows, repeat(key)))


class _Ordered(NamedTuple):
    """The usable events of a log in the table's order (by case, then the log's order)."""

    rows: list[dict[str, Any]]
    case: IntArray
    case_names: tuple[Any, ...]
    at_us: IntArray
    seq: IntArray  # renumbered 1, 2, 3... per case
    start: npt.NDArray[np.bool_]  # the first event of its case


def _ordered(rows: list[dict[str, Any]], dirt: Counter[str], source: str) -> _Ordered:
    """Drop the events without a case id, an action or an instant (counted), sort them by
    case and the log's own order, count repeated sequence numbers and renumber."""
    cid = _column(rows, "case_id")
    act = _column(rows, "action")
    at_us, at_ok = _instants(_column(rows, "at"))
    usable = np.fromiter(map(_is_name, cid), np.bool_, len(rows)) & np.fromiter(
        map(_is_name, act), np.bool_, len(rows)
    )
    dirt["events_missing_case_or_action"] += int((~usable).sum())
    dirt["events_with_a_bad_instant"] += int((usable & ~at_ok).sum())
    keep = np.flatnonzero(usable & at_ok)
    if keep.size == 0:
        raise FileFormatError(
            source, "", "", "at least one event with case_id, action and an ISO 'at'", None
        )
    case, case_names = _codes([cid[i] for i in keep.tolist()])
    seq_raw = _column(rows, "seq")
    seq_ok = np.fromiter(map(_is_int, seq_raw), np.bool_, len(rows))[keep]
    dirt["events_without_seq"] += int((~seq_ok).sum())
    seq = np.fromiter((s if type(s) is int else 0 for s in seq_raw), np.int64, len(rows))[keep]
    at_us = at_us[keep]
    # the log's own order (seq), then time, then the line: a dirty log keeps its order, so
    # a close written before its report gives a negative duration (counted where measured)
    order = np.lexsort((np.arange(keep.size), at_us, seq, case))
    case, at_us, seq, seq_ok = case[order], at_us[order], seq[order], seq_ok[order]
    n = keep.size
    start = np.ones(n, np.bool_)
    start[1:] = case[1:] != case[:-1]
    repeated = ~start & (seq == np.roll(seq, 1)) & seq_ok
    dirt["events_with_a_repeated_seq"] += int(repeated.sum())
    first_of_case = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    new_seq = np.arange(n) - first_of_case + 1
    kept = [rows[i] for i in keep[order].tolist()]
    return _Ordered(kept, case, case_names, at_us, new_seq, start)


class _Routing(NamedTuple):
    """Per event, the routing payload fields: owner and level codes (-1: none), due texts."""

    to_owner: IntArray
    owner_names: tuple[str, ...]
    level: IntArray
    level_names: tuple[str, ...]
    due_raw: npt.NDArray[np.object_]


def _routing(payloads: list[dict[str, Any]], routed: IntArray, dirt: Counter[str]) -> _Routing:
    """The "to", "level" and "due" of the routing events' payloads (rows `routed`); a due
    that is not an ISO instant is counted."""
    n = len(payloads)
    to_owner = np.full(n, -1, np.int64)
    level = np.full(n, -1, np.int64)
    due_raw = np.full(n, None, object)
    pays = [payloads[i] for i in routed.tolist()]
    to_owner[routed], owner_names = _codes_of(list(map(dict.get, pays, repeat("to"))))
    # the known levels first, in their order
    level[routed], level_names = _codes_of(list(map(dict.get, pays, repeat("level"))), LEVELS)
    dues = np.fromiter(map(dict.get, pays, repeat("due")), object, len(pays))
    is_text = np.fromiter(map(_is_text, dues), np.bool_, dues.size)
    dirt["events_with_a_bad_due"] += int((~is_text & (dues != None)).sum())  # noqa: E711
    if is_text.any():
        _, due_ok = parse_instants_us(dues[is_text].tolist())
        dirt["events_with_a_bad_due"] += int((~due_ok).sum())
        good = np.flatnonzero(is_text)[due_ok]
        due_raw[routed[good]] = dues[good]
    return _Routing(to_owner, owner_names, level, level_names, due_raw)


class _Reports(NamedTuple):
    """Per case, the fields of its first report (codes, -1: none or no report)."""

    grid: IntArray
    grid_names: tuple[str, ...]
    category: IntArray
    category_names: tuple[str, ...]
    channel: IntArray
    channel_names: tuple[str, ...]
    severity: IntArray


def _reports(
    payloads: list[dict[str, Any]],
    case: IntArray,
    reports: IntArray,
    n_cases: int,
    dirt: Counter[str],
) -> _Reports:
    """Grid, category, channel and severity of each case's first report (rows `reports`,
    in the case's log order); repeated reports, reports without a category and cases
    without a report are counted."""
    grid = np.full(n_cases, -1, np.int64)
    category = np.full(n_cases, -1, np.int64)
    channel = np.full(n_cases, -1, np.int64)
    severity = np.full(n_cases, -1, np.int64)
    rep_case, first = np.unique(case[reports], return_index=True)
    dirt["repeated_reports"] += int(reports.size - rep_case.size)
    dirt["cases_without_report"] += n_cases - int(rep_case.size)
    pays = [payloads[i] for i in reports[first].tolist()]
    grid[rep_case], grid_names = _codes_of(list(map(dict.get, pays, repeat("grid"))))
    category[rep_case], category_names = _codes_of(list(map(dict.get, pays, repeat("category"))))
    dirt["reports_without_category"] += int((category[rep_case] < 0).sum())
    channel[rep_case], channel_names = _codes_of(list(map(dict.get, pays, repeat("channel"))))
    severity[rep_case] = [
        v if type(v) is int else -1 for v in map(dict.get, pays, repeat("severity"))
    ]
    return _Reports(grid, grid_names, category, category_names, channel, channel_names, severity)


def _build(rows: list[dict[str, Any]], dirt: Counter[str], source: str) -> EventLog:
    """Columns from event dicts: drop unusable events (counted), sort, renumber, tabulate."""
    o = _ordered(rows, dirt, source)
    n = len(o.rows)
    action, action_names = _codes(_column(o.rows, "action"))
    to_state, state_names = _codes(list(map(_text, _column(o.rows, "to_state"))))
    actor, person_names = _codes(list(map(_text, _column(o.rows, "actor"))))
    payloads = _column(o.rows, "payload")
    no_payload = [i for i, p in enumerate(payloads) if type(p) is not dict]
    dirt["events_without_payload"] += len(no_payload)
    for i in no_payload:
        payloads[i] = {}

    def rows_of(*names: str) -> IntArray:
        codes = [k for k, a in enumerate(action_names) if a in names]
        out: IntArray = np.flatnonzero(np.isin(action, codes))
        return out

    r = _routing(payloads, rows_of(*_ROUTING_LIKE), dirt)
    c = _reports(payloads, o.case, rows_of("report"), len(o.case_names), dirt)
    from_state = np.full(n, -1, np.int64)
    from_state[1:] = to_state[:-1]
    from_state[o.start] = -1
    table = EventTable(
        case_ids=tuple(map(str, o.case_names)),
        case=o.case,
        seq=o.seq,
        at_us=o.at_us,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        to_owner=r.to_owner,
        level=r.level,
        due_raw=r.due_raw,
        grid=c.grid,
        category=c.category,
        area=None,
        action_names=tuple(map(str, action_names)),
        state_names=tuple(map(str, state_names)),
        person_names=tuple(map(str, person_names)),
        owner_names=r.owner_names,
        level_names=r.level_names,
        grid_names=c.grid_names,
        category_names=c.category_names,
        area_names=(),
    )
    clean = {k: v for k, v in sorted(dirt.items()) if v}
    return EventLog(table, c.channel, c.channel_names, c.severity, clean, source)


class _NoneCodes(dict[Any, int]):
    """Value -> dense code, in order of first sight; None -> -1."""

    def __init__(self) -> None:
        super().__init__({None: -1})

    def __missing__(self, key: Any) -> int:
        v = self[key] = len(self) - 1
        return v


def _codes_of(values: list[Any], first: Iterable[str] = ()) -> tuple[IntArray, tuple[str, ...]]:
    """Dense codes of the values as text, in order of first sight (after `first`); None is
    -1."""
    if not set(map(type, values)) <= {str, type(None)}:  # a dirty log: codes of the text
        values = [v if v is None else str(v) for v in values]
    codes = _NoneCodes()
    for name in first:
        codes[name]
    arr = np.fromiter(map(codes.__getitem__, values), np.int64, len(values))
    return arr, tuple(k for k in codes if k is not None)


def _text(v: object) -> str:
    return "" if v is None else str(v)


def _is_text(v: object) -> bool:
    return type(v) is str


def _is_name(v: object) -> bool:
    return type(v) is str and v != ""


def _is_int(v: object) -> bool:
    return type(v) is int
