"""Events as JSON: `event_to_dict`/`event_to_json` and back, lossless.

Instants are ISO 8601 with their offset, plus the IANA zone name ("zone") when the
instant has one, so an event read back is the event written (same instant, same zone).
A bad field is a `FileFormatError` naming the field, the value and what was expected.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
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


def _known(d: Mapping[str, Any], key: str, kind: type[StrEnum], where: str) -> Any:
    raw = _field(d, key, str, where)
    try:
        return kind(raw)
    except ValueError:
        expected = f"one of {[m.value for m in kind]}"
        raise FileFormatError(_EVENT_SOURCE, where, key, expected, raw) from None


def _instant(d: Mapping[str, Any], where: str) -> datetime:
    """ "at" as an aware instant, shown in "zone" when one is named."""
    raw = _field(d, "at", str, where)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise FileFormatError(_EVENT_SOURCE, where, "at", "an ISO 8601 instant", raw) from None
    if at.tzinfo is None:
        raise FileFormatError(_EVENT_SOURCE, where, "at", "an instant with an offset", raw)
    zone = d.get("zone")
    if zone is None:
        return at
    if not isinstance(zone, str):
        raise FileFormatError(_EVENT_SOURCE, where, "zone", "an IANA zone name or null", zone)
    try:
        return at.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError, OSError, UnicodeError):  # ZoneInfoNotFoundError is a KeyError
        raise FileFormatError(_EVENT_SOURCE, where, "zone", "an IANA zone name", zone) from None
    except OverflowError:
        raise FileFormatError(
            _EVENT_SOURCE, where, "at", f"an instant that zone {zone!r} can show", raw
        ) from None


def _json_value(v: object, depth: int = 0) -> bool:
    """Whether `v` is a value JSON carries as is (finite numbers, text keys)."""
    if v is None or isinstance(v, str | bool | int):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if depth > 64:
        return False
    if isinstance(v, list):
        return all(_json_value(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _json_value(x, depth + 1) for k, x in v.items())
    return False


def event_from_dict(d: Mapping[str, Any]) -> CaseEvent:
    """The event from `event_to_dict`'s shape.

    Whatever the input, a bad one is a `FileFormatError` naming the field, the value and
    what was expected (never another exception).
    """
    if not isinstance(d, Mapping):
        raise FileFormatError(_EVENT_SOURCE, "", "", "a JSON object", type(d).__name__)
    where = f"event {_short(d.get('case_id'))}#{_short(d.get('seq'))}"
    case_id = _field(d, "case_id", str, where)
    if not case_id:
        raise FileFormatError(_EVENT_SOURCE, where, "case_id", "a non-empty case id", case_id)
    seq = _field(d, "seq", int, where)
    if seq < 1:
        raise FileFormatError(_EVENT_SOURCE, where, "seq", "a sequence number from 1", seq)
    at = _instant(d, where)
    action = _known(d, "action", Action, where)
    to_state = _known(d, "to_state", State, where)
    from_state = None if d.get("from_state") is None else _known(d, "from_state", State, where)
    payload = _field(d, "payload", dict, where)
    if not _json_value(payload):
        raise FileFormatError(
            _EVENT_SOURCE, where, "payload", "JSON values by text keys", _short(payload)
        )
    return event_record(
        (
            CaseId(case_id),
            seq,
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


def _short(v: object) -> str:
    """`repr(v)`, cut to 60 characters (for messages)."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _role(raw: str) -> str:
    try:
        return DeskRole(raw)
    except ValueError:
        return raw


def event_from_json(text: str) -> CaseEvent:
    """The event from `event_to_json` text; any bad input is a `FileFormatError`."""
    if not isinstance(text, str | bytes | bytearray):
        raise FileFormatError(_EVENT_SOURCE, "", "", "JSON text", type(text).__name__)
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(_EVENT_SOURCE, f"char {exc.pos}", "", "JSON text", exc.msg) from None
    except (UnicodeError, RecursionError, ValueError) as exc:
        raise FileFormatError(_EVENT_SOURCE, "", "", "JSON text", str(exc)) from None
    if not isinstance(d, dict):
        raise FileFormatError(_EVENT_SOURCE, "", "", "a JSON object", type(d).__name__)
    return event_from_dict(d)


# `CaseEvent.to_json` and `CaseEvent.from_json` (the records cannot import this module).
ABOVE.event_to_json = event_to_json
ABOVE.event_from_json = event_from_json
