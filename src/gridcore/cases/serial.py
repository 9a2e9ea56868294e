"""Events as JSON: `event_to_dict`/`event_to_json` and back, lossless.

Instants are ISO 8601 with their offset, plus the IANA zone name ("zone") when the
instant has one, so an event read back is the event written (same instant, same zone).
A bad field is a `FileFormatError` naming the field, the value and what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from gridcore.cases.records import ABOVE, CaseEvent, event_record
from gridcore.cases.vocabulary import Action, DeskRole, EventLogError, JSONValue, State
from gridcore.errors import FileFormatError
from gridcore.ids import CaseId, PersonId

__all__ = ["event_from_dict", "event_from_json", "event_to_dict", "event_to_json"]

_EVENT_SOURCE: Final = "<case event>"


def event_to_dict(e: CaseEvent) -> dict[str, JSONValue]:
    """The event as a JSON-safe dict ("at" ISO 8601 with offset, "zone" when it has a key)."""
    tz = e.at.tzinfo
    return {
        "case_id": e.case_id,
        "seq": e.seq,
        "at": e.at.isoformat(),
        "zone": tz.key if isinstance(tz, ZoneInfo) else None,
        "actor": e.actor,
        "role": str(e.role),
        "action": e.action.value,
        "from_state": None if e.from_state is None else e.from_state.value,
        "to_state": e.to_state.value,
        "reason": e.reason,
        "payload": dict(e.payload),
    }


def event_to_json(e: CaseEvent) -> str:
    """The event as compact JSON text (lossless; see `event_from_json`)."""
    try:
        return json.dumps(
            event_to_dict(e), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except (TypeError, ValueError) as exc:
        raise EventLogError(
            f"case {e.case_id!r} event #{e.seq}: payload is not JSON-safe: {exc}"
        ) from None


def _field(d: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    v = d.get(key)
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise FileFormatError(_EVENT_SOURCE, where, key, f"a {kind.__name__}", v)
    return v


def event_from_dict(d: Mapping[str, Any]) -> CaseEvent:
    """The event from `event_to_dict`'s shape; `FileFormatError` names a bad field."""
    where = f"event {d.get('case_id')!r}#{d.get('seq')!r}"
    try:
        at = datetime.fromisoformat(_field(d, "at", str, where))
    except ValueError:
        raise FileFormatError(
            _EVENT_SOURCE, where, "at", "an ISO 8601 instant", d.get("at")
        ) from None
    if at.tzinfo is None:
        raise FileFormatError(_EVENT_SOURCE, where, "at", "an instant with an offset", d.get("at"))
    zone = d.get("zone")
    if zone is not None:
        at = at.astimezone(ZoneInfo(_field(d, "zone", str, where)))
    try:
        action = Action(_field(d, "action", str, where))
        to_state = State(_field(d, "to_state", str, where))
        raw_from = d.get("from_state")
        from_state = None if raw_from is None else State(_field(d, "from_state", str, where))
    except ValueError as exc:
        raise FileFormatError(
            _EVENT_SOURCE, where, "action/state", "a known value", str(exc)
        ) from None
    payload = _field(d, "payload", dict, where)
    return event_record(
        (
            CaseId(_field(d, "case_id", str, where)),
            _field(d, "seq", int, where),
            at,
            PersonId(_field(d, "actor", str, where)),
            _role(_field(d, "role", str, where)),
            action,
            from_state,
            to_state,
            _field(d, "reason", str, where),
            MappingProxyType(dict(payload)),
        )
    )


def _role(raw: str) -> str:
    try:
        return DeskRole(raw)
    except ValueError:
        return raw


def event_from_json(text: str) -> CaseEvent:
    """The event from `event_to_json` text."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(_EVENT_SOURCE, f"char {exc.pos}", "", "JSON text", exc.msg) from None
    if not isinstance(d, dict):
        raise FileFormatError(_EVENT_SOURCE, "", "", "a JSON object", type(d).__name__)
    return event_from_dict(d)


# `CaseEvent.to_json` and `CaseEvent.from_json` (the records cannot import this module).
ABOVE.event_to_json = event_to_json
ABOVE.event_from_json = event_from_json
