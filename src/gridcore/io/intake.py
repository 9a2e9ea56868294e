"""Cases from outside records (a 311 row, an Open311 request): the desk steps they imply.

An outside record says when a case was reported, where, what about, who owns it,
when it is due and when (if) it was closed. gridcore's transition table closes a
case only after it was verified, registered, dispatched, signed for, started and
handled, so a record becomes the shortest path the table accepts:

- ``report`` at the creation time, by the source (role ``system``), on channel
  ``311``, with the record's position and source id in the payload;
- when the record names an owner, a due time, or is closed: ``verify``,
  ``register`` and ``dispatch`` at the creation time by the source's desk (the
  hotline routes a call to its agency when it takes it), to the owner at level
  ``department`` (the case's grid at level ``grid`` when no owner is named), with
  the record's due time as the explicit deadline;
- when closed: ``sign_for``, ``start`` and ``handle`` by the owner's handler and
  ``close`` by the source's checker, all at the closing time.

The events are made by the core's own `report` and `apply` (every guard runs), in
memory first, so a record that the table would refuse writes nothing. Imported
cases get deadlines only from the record (no deadline policy is applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from gridcore.cases import (
    Action,
    Actor,
    CaseEvent,
    DeadlinePolicy,
    DeskRole,
    JSONValue,
    apply,
    report,
)
from gridcore.crs import LOCAL, WGS84, converter
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId
from gridcore.routing import RoutingIndex

__all__ = [
    "CHANNEL",
    "UNROUTED",
    "Intake",
    "grid_at",
    "intake_events",
    "lonlat_of",
    "xy_of",
]

UNROUTED = AreaCode("unrouted")
"""The grid of a case that no grid could be found for (no position, outside, no grid column)."""

CHANNEL = "311"
"""The report channel of imported cases."""


@attrs.frozen
class Intake:
    """An outside record, checked: what gridcore needs to make its case's events."""

    case_id: CaseId
    created: datetime
    grid: AreaCode
    category: CategoryCode
    owner: str | None = None
    due: datetime | None = None
    closed: datetime | None = None
    details: Mapping[str, JSONValue] = attrs.field(factory=dict)
    """Extra report payload: "long"/"lat" as given, "source_id", "address", "description"."""


def xy_of(index: RoutingIndex, long: float, lat: float) -> tuple[float, float]:
    """A WGS84 (long, lat) position in the hierarchy's own coordinates.

    A hierarchy in WGS84, GCJ-02, BD-09 or a projected CRS gets the position
    converted (`gridcore.crs`); a `LOCAL` plane (the synthetic cities) has no anchor
    on the Earth, so there (long, lat) are read as its own (x, y).
    """
    if index.crs == LOCAL:
        return long, lat
    return converter(WGS84, index.crs).point(long, lat)


def lonlat_of(index: RoutingIndex, x: float, y: float) -> tuple[float, float]:
    """The inverse of `xy_of`: a point in the hierarchy's coordinates as WGS84 (long, lat)."""
    if index.crs == LOCAL:
        return x, y
    return converter(index.crs, WGS84).point(x, y)


def grid_at(index: RoutingIndex, long: float, lat: float) -> AreaCode | None:
    """The grid of a WGS84 (long, lat) position (None: outside, beyond the snap distance)."""
    return index.locate(*xy_of(index, long, lat))


def intake_events(
    rec: Intake, *, source: str, policy: DeadlinePolicy | None = None
) -> list[CaseEvent]:
    """The events of `rec`'s case (see the module docs); `TransitionRefused` if refused.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)
    >>> rec = Intake(CaseId("7"), t, AreaCode("g1"), CategoryCode("E0101"), closed=t)
    >>> [e.action.value for e in intake_events(rec, source="nyc311")]
    ['report', 'verify', 'register', 'dispatch', 'sign_for', 'start', 'handle', 'close']
    """
    reporter = Actor(PersonId(source), DeskRole.SYSTEM)
    case, event, _ = report(
        rec.case_id,
        reporter,
        rec.created,
        grid=rec.grid,
        category=rec.category,
        channel=CHANNEL,
        payload=dict(rec.details),
        policy=policy,
    )
    events = [event]
    if rec.owner is None and rec.due is None and rec.closed is None:
        return events
    desk = Actor(PersonId(f"{source}:desk"), DeskRole.DISPATCHER)
    to, level = (rec.owner, "department") if rec.owner else (str(rec.grid), "grid")
    dispatch: dict[str, JSONValue] = {"to": to, "level": level}
    if rec.due is not None:
        dispatch["due"] = rec.due.isoformat()
    steps: list[tuple[Action, Actor, datetime, dict[str, JSONValue] | None]] = [
        (Action.VERIFY, desk, rec.created, None),
        (Action.REGISTER, desk, rec.created, None),
        (Action.DISPATCH, desk, rec.created, dispatch),
    ]
    if rec.closed is not None:
        handler = Actor(PersonId(f"{source}:handler"), DeskRole.HANDLER, unit=to)
        checker = Actor(PersonId(f"{source}:checker"), DeskRole.CHECKER)
        steps += [
            (Action.SIGN_FOR, handler, rec.closed, None),
            (Action.START, handler, rec.closed, None),
            (Action.HANDLE, handler, rec.closed, None),
            (Action.CLOSE, checker, rec.closed, None),
        ]
    for action, actor, at, payload in steps:
        case, event, _ = apply(case, action, actor, at, payload=payload, policy=policy)
        events.append(event)
    return events
