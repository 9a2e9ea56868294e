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
from datetime import UTC, datetime

import attrs

from gridcore.cases import (
    Action,
    Actor,
    Case,
    CaseEvent,
    DeadlinePolicy,
    DeskRole,
    JSONValue,
    State,
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
    "follow_up_events",
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
    return [event, *follow_up_events(case, rec, source=source, policy=policy)]


def _after(a: datetime, b: datetime) -> datetime:
    """The later of two instants (by absolute time)."""
    return a if a.astimezone(UTC) >= b.astimezone(UTC) else b


def follow_up_events(
    case: Case, rec: Intake, *, source: str, policy: DeadlinePolicy | None = None
) -> list[CaseEvent]:
    """The events that take an imported case as far as `rec` says (see the module docs).

    From ``reported``: the desk steps and the dispatch (when `rec` names an owner, a due
    time or a close); from ``dispatched``: the path to the close (when `rec` is closed,
    not before the case's last event). A case in any other state is the desk's: no
    event. This is also how a request imported open and closed since is brought up to
    date.
    """
    events: list[CaseEvent] = []
    if case.state is State.REPORTED and (rec.owner or rec.due or rec.closed):
        desk = Actor(PersonId(f"{source}:desk"), DeskRole.DISPATCHER)
        to, level = (rec.owner, "department") if rec.owner else (str(case.grid), "grid")
        dispatch: dict[str, JSONValue] = {"to": to, "level": level}
        if rec.due is not None:
            dispatch["due"] = rec.due.isoformat()
        at = _after(rec.created, case.updated_at)
        for action, payload in (
            (Action.VERIFY, None),
            (Action.REGISTER, None),
            (Action.DISPATCH, dispatch),
        ):
            case, event, _ = apply(case, action, desk, at, payload=payload, policy=policy)
            events.append(event)
    closed = rec.closed
    if (
        case.state is State.DISPATCHED
        and closed is not None
        and closed.astimezone(UTC) >= case.updated_at.astimezone(UTC)
    ):
        handler = Actor(PersonId(f"{source}:handler"), DeskRole.HANDLER, unit=case.owner or "")
        checker = Actor(PersonId(f"{source}:checker"), DeskRole.CHECKER)
        for action, actor in (
            (Action.SIGN_FOR, handler),
            (Action.START, handler),
            (Action.HANDLE, handler),
            (Action.CLOSE, checker),
        ):
            case, event, _ = apply(case, action, actor, closed, policy=policy)
            events.append(event)
    return events
