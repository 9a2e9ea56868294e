"""The projection: one row per case in `cases`, and the counts by state in `case_counts`.

`projection_row` is a case's row by definition (what `verify` compares with);
`projection_writes` gives the writes of a batch's rows and counts for the append's
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, Final, NamedTuple

from gridcore.cases import OPEN_STATES, Case, DeadlinePolicy, State
from gridcore.ids import CaseId

from .backends import Write
from .lights import LightMemo, from_us, light_instants, to_us

__all__ = [
    "CASE_COLUMNS",
    "CASE_SELECT",
    "CaseRow",
    "case_row",
    "projection_row",
    "projection_writes",
]

CASE_COLUMNS: Final = (  # the projection's columns, in its rows' order
    "case_id",
    "seq",
    "state",
    "is_open",
    "grid",
    "category",
    "owner",
    "level",
    "handler",
    "first_handler",
    "reported_at_us",
    "updated_at_us",
    "due_us",
    "last_position",
    "yellow_at_us",
    "red_at_us",
)
_INSERT_CASE: Final = (
    f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' for _ in CASE_COLUMNS)})"
)
# A stored case's row is updated in every column but its id (`_UPDATE_WIDE`), or, when
# the columns the open-case indexes read are unchanged, in the others (`_UPDATE_STEP`).
_INDEXED_OPEN: Final = ("is_open", "grid", "category", "owner", "level")
_WIDE_COLUMNS: Final = CASE_COLUMNS[1:]
_STEP_COLUMNS: Final = tuple(c for c in _WIDE_COLUMNS if c not in _INDEXED_OPEN)
_UPDATE_WIDE: Final = (
    f"UPDATE cases SET {', '.join(f'{c} = ?' for c in _WIDE_COLUMNS)} WHERE case_id = ?"
)
_UPDATE_STEP: Final = (
    f"UPDATE cases SET {', '.join(f'{c} = ?' for c in _STEP_COLUMNS)} WHERE case_id = ?"
)
_indexed_open: Final = itemgetter(*(CASE_COLUMNS.index(c) for c in _INDEXED_OPEN))
_step_values: Final = itemgetter(*(CASE_COLUMNS.index(c) for c in _STEP_COLUMNS))
_ADD_COUNT: Final = (
    "INSERT INTO case_counts (state, n) VALUES (?, ?) "
    "ON CONFLICT (state) DO UPDATE SET n = case_counts.n + excluded.n"
)
_STATE_TEXT: Final[dict[State, str]] = {m: m.value for m in State}
CASE_SELECT: Final = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases"


class CaseRow(NamedTuple):
    """A case's row in the projection (what the indexed queries return)."""

    case_id: CaseId
    seq: int
    state: State
    is_open: bool
    grid: str
    category: str
    owner: str | None
    level: str | None
    handler: str | None
    first_handler: str | None
    reported_at: datetime
    updated_at: datetime
    due: datetime | None
    last_position: int
    yellow_at: datetime | None
    red_at: datetime | None


def projection_row(
    case: Case,
    last_position: int,
    policy: DeadlinePolicy | None,
    memo: LightMemo | None = None,
    *,
    updated_us: int | None = None,
) -> tuple[Any, ...]:
    """The `cases` row of a case (in the table's column order); `memo`: see `LightMemo`;
    `updated_us`: `to_us(case.updated_at)` when the caller has it."""
    a = case.assignment
    info = case.info
    if updated_us is None:
        updated_us = to_us(case.updated_at)
    yellow, red = light_instants(case, policy, memo, updated_us=updated_us)
    state = case.state
    return (
        case.id,
        case.seq,
        _STATE_TEXT[state],
        1 if state in OPEN_STATES else 0,
        info.grid,
        info.category,
        a.owner,
        a.level,
        a.handler,
        a.first_handler,
        to_us(info.reported_at),
        updated_us,
        None if a.due is None else to_us(a.due),
        last_position,
        yellow,
        red,
    )


def case_row(r: Sequence[Any]) -> CaseRow:
    """The `CaseRow` of a raw `cases` row (`CASE_COLUMNS` order)."""
    return CaseRow(
        CaseId(r[0]),
        int(r[1]),
        State(r[2]),
        bool(r[3]),
        r[4],
        r[5],
        r[6],
        r[7],
        r[8],
        r[9],
        from_us(r[10]),
        from_us(r[11]),
        None if r[12] is None else from_us(r[12]),
        int(r[13]),
        None if r[14] is None else from_us(r[14]),
        None if r[15] is None else from_us(r[15]),
    )


def projection_writes(
    changed: Mapping[CaseId, Case],
    stored: Mapping[CaseId, Case | None],
    last_pos: Mapping[CaseId, int],
    event_rows: Sequence[Sequence[Any]],
    first: int,
    memo: LightMemo,
) -> list[Write]:
    """The writes of the projection rows of the changed cases (as of their last
    positions) and of the counts by state, for the append's transaction. `stored`: each
    case as its row holds it now (None: new); `event_rows`: the batch's event rows, the
    first at position `first`; `memo`: the journal's, for its policy.

    A new case's row is inserted; a stored one is updated, leaving out the columns
    the open-case indexes read when they are unchanged (`_UPDATE_STEP`): SQLite
    maintains an index only when a column it reads (or its WHERE clause reads) is
    set, so a plain step leaves those indexes alone (PostgreSQL looks at the values).
    The counts change by the states left and entered.
    """
    policy = memo.policy
    new_rows = []
    step_rows = []
    wide_rows = []
    counts: dict[str, int] = {}
    for cid, case in changed.items():
        pos = last_pos[cid]
        at_us = event_rows[pos - first][4]  # its last event's `at_us`
        row = projection_row(case, pos, policy, memo, updated_us=at_us)
        state = row[2]
        counts[state] = counts.get(state, 0) + 1
        old = stored.get(cid)
        if old is None:
            new_rows.append(row)
            continue
        was = _STATE_TEXT[old.state]
        counts[was] = counts.get(was, 0) - 1
        a = old.assignment
        open_before = 1 if old.state in OPEN_STATES else 0
        if _indexed_open(row) == (open_before, old.info.grid, old.info.category, a.owner, a.level):
            step_rows.append((*_step_values(row), cid))
        else:
            wide_rows.append((*row[1:], cid))
    deltas = [(state, n) for state, n in counts.items() if n]
    return [
        (_INSERT_CASE, new_rows),
        (_UPDATE_STEP, step_rows),
        (_UPDATE_WIDE, wide_rows),
        (_ADD_COUNT, deltas),
    ]
