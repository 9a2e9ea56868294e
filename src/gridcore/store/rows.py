"""Events as journal rows and back: one column per field, the payload as JSON text.

A row keeps the instant as ISO 8601 text with its offset (lossless, readable), its zone
key when it has one, and the same instant as epoch microseconds (for ordering and time
queries); `event_from_row(event_to_row(e)) == e`, as `gridcore.cases.event_from_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from gridcore.cases import Action, CaseEvent, DeskRole, JSONValue, State
from gridcore.errors import StoreError
from gridcore.ids import CaseId, PersonId

__all__ = [
    "EVENT_COLUMNS",
    "EventRow",
    "StoredEvent",
    "event_from_row",
    "event_to_row",
    "events_to_rows",
    "instant_columns",
    "instant_from_columns",
]

EVENT_COLUMNS: Final = (
    "position",
    "case_id",
    "seq",
    "at",
    "at_us",
    "zone",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "reason",
    "payload",
)
"""The columns of the `events` table that make an event, in row order."""

EventRow = tuple[Any, ...]


class StoredEvent(NamedTuple):
    """An event with its position in the journal (1, 2, 3... in commit order)."""

    position: int
    event: CaseEvent


_EMPTY: Final[Mapping[str, JSONValue]] = MappingProxyType({})
_ACTIONS: Final = {a.value: a for a in Action}
_STATES: Final = {s.value: s for s in State}
_ROLES: Final[dict[str, str]] = {r.value: r for r in DeskRole}
_zones: dict[str, ZoneInfo] = {}
# The texts of the vocabulary's members (plain str keys: a StrEnum member hashes and
# compares as its text, so a role given as a plain str finds its text too).
_TEXTS: Final[dict[str, str]] = {
    m.value: m.value for kind in (Action, State, DeskRole) for m in kind
}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)
# One encoder (json.dumps with options builds a new one per call); as event_to_json's.
_encode: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def event_to_row(position: int, e: CaseEvent) -> EventRow:
    """The row of `e` at `position` (`EVENT_COLUMNS` order)."""
    return events_to_rows(position, (e,))[0]


def events_to_rows(first_position: int, events: Iterable[CaseEvent]) -> list[EventRow]:
    """The rows of `events` at positions `first_position`, +1, ... (`EVENT_COLUMNS` order).

    One pass over the batch: the vocabulary's texts are looked up in a dict (an enum's
    `.value` property costs more than the rest of a row), a payload-free event's payload
    is the constant "{}".
    """
    rows: list[EventRow] = []
    append = rows.append
    texts = _TEXTS
    position = first_position
    for e in events:
        case_id, seq, at, actor, role, action, frm, to, reason, payload = e
        if payload:
            try:
                p = _encode(dict(payload))
            except (TypeError, ValueError) as exc:
                raise StoreError(
                    f"case {case_id!r} event #{seq}: payload is not JSON-safe: {exc}"
                ) from None
        else:
            p = "{}"
        tz = at.tzinfo
        zone = tz.key if isinstance(tz, ZoneInfo) else None
        append(
            (
                position,
                case_id,
                seq,
                at.isoformat(),
                (at - _EPOCH) // _US,  # `to_us`
                zone,
                actor,
                texts.get(role) or str(role),
                texts.get(action) or action.value,
                None if frm is None else texts.get(frm) or frm.value,
                texts.get(to) or to.value,
                reason,
                p,
            )
        )
        position += 1
    return rows


def _zone(key: str) -> ZoneInfo:
    z = _zones.get(key)
    if z is None:
        z = _zones[key] = ZoneInfo(key)
    return z


def instant_columns(t: datetime) -> tuple[str, str | None]:
    """An instant as (ISO 8601 text with offset, zone key or None): lossless."""
    tz = t.tzinfo
    return t.isoformat(), tz.key if isinstance(tz, ZoneInfo) else None


def instant_from_columns(text: str, zone: str | None) -> datetime:
    """The instant `instant_columns` wrote."""
    at = datetime.fromisoformat(text)
    return at if zone is None else at.astimezone(_zone(zone))


def event_from_row(row: EventRow) -> StoredEvent:
    """The stored event of a row in `EVENT_COLUMNS` order (`StoreError` if it is not one)."""
    try:
        position, case_id, seq, at_text, _, zone, actor, role, action, frm, to, reason, p = row
        at = datetime.fromisoformat(at_text)
        if zone is not None:
            at = at.astimezone(_zone(zone))
        payload = _EMPTY if p == "{}" else MappingProxyType(json.loads(p))
        event = CaseEvent(
            CaseId(case_id),
            int(seq),
            at,
            PersonId(actor),
            _ROLES.get(role, str(role)),
            _ACTIONS[action],
            None if frm is None else _STATES[frm],
            _STATES[to],
            reason,
            payload,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise StoreError(
            f"journal row at position {row[0]!r} (case {row[1]!r}) is not an event: {exc!r}"
        ) from None
    return StoredEvent(int(position), event)
