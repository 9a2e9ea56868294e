"""Open311 service requests in and out of a case journal (`gridcore.store`).

`import_requests` routes each request by its position to a grid and appends its
case's events (`gridcore.io.intake`: a report, and the path to a close when the
request is closed) to the journal, one atomic batch a request under the command id
``open311:<id>``, so importing the same file again changes nothing; a request imported
open and closed since is taken to its close on the next import. Problems are
flagged as in the CSV ingest (`gridcore.io.csv311.Problem`), never dropped silently.

`request_of` and `export_requests` go the other way: a case as a `ServiceRequest`
(status and notes from the mapping's state table, ``expected_datetime`` from the
deadline, ``agency_responsible`` from the owner, the position from the report).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC
from typing import Protocol

import attrs

from gridcore.cases import Case, CaseEvent, State
from gridcore.categories import Taxonomy, default_taxonomy
from gridcore.errors import GridcoreError, UnknownItemError
from gridcore.ids import AreaCode, CaseId
from gridcore.io.csv311 import Problem
from gridcore.io.intake import (
    UNROUTED,
    Intake,
    follow_up_events,
    grid_at,
    intake_events,
    lonlat_of,
)
from gridcore.io.mapping import Open311Mapping
from gridcore.io.open311 import ServiceRequest
from gridcore.routing import RoutingIndex

__all__ = [
    "ImportResult",
    "Journal",
    "Open311ExportError",
    "export_requests",
    "import_requests",
    "intake_of",
    "request_of",
]

SOURCE = "open311"
"""The source name of imported requests (their events' reporter)."""


class Journal(Protocol):
    """What Open311 import, export and the endpoint need of a journal (`SqlCaseStore`)."""

    def append(
        self, events: Iterable[CaseEvent], *, command_id: str | None = None
    ) -> tuple[int, ...]: ...

    def events(self, case_id: CaseId) -> tuple[CaseEvent, ...]: ...

    def case(self, case_id: CaseId) -> Case: ...

    def case_ids(self) -> Iterator[CaseId]: ...

    def command(self, command_id: str) -> object | None: ...

    def __contains__(self, case_id: object) -> bool: ...


class Open311ExportError(GridcoreError):
    """A case that cannot be written as a service request (no position to give)."""


@attrs.frozen
class ImportResult:
    """What an import did: requests read, cases written, already there, problems."""

    requests: int
    imported: int
    closed: int
    already: int
    updated: int
    """Cases imported open before and closed now."""
    problems: tuple[Problem, ...]
    grids: dict[str, int]

    def summary(self) -> str:
        """A few lines for people."""
        kinds = Counter(p.problem for p in self.problems)
        lines = [
            f"{self.requests} requests -> {self.imported} cases written "
            f"({self.closed} closed), {self.updated} closed since their import, "
            f"{self.already} already in the journal",
            f"grids: {len([g for g in self.grids if g != UNROUTED])} routed to, "
            f"{self.grids.get(UNROUTED, 0)} cases unrouted",
            f"problems: {len(self.problems)}"
            + "".join(f"\n  {k}: {n}" for k, n in sorted(kinds.items())),
        ]
        return "\n".join(lines)


def intake_of(
    r: ServiceRequest, mapping: Open311Mapping, index: RoutingIndex, problems: list[Problem]
) -> Intake | None:
    """The checked intake of a request (None: not importable), its problems appended."""
    rid = r.service_request_id

    def flag(problem: str, detail: str) -> None:
        problems.append(Problem(rid, problem, detail))

    category = mapping.category_for(r.service_code)
    if mapping.service(r.service_code or "") is None:
        if category is None:
            flag("unmapped_category", f"service_code {r.service_code!r}: no default; not imported")
            return None
        flag("unmapped_category", f"service_code {r.service_code!r} -> default {category!r}")
    assert category is not None
    grid = grid_at(index, r.long, r.lat)
    if grid is None:
        flag("outside_territory", f"(long, lat) = ({r.long}, {r.lat}) is in no grid")
        grid = UNROUTED
    created = r.requested_datetime
    closed = r.updated_datetime if r.is_closed else None
    if r.is_closed and closed is None:
        flag("closed_without_time", f"status {r.status!r}, no updated_datetime")
    if closed is not None and closed.astimezone(UTC) < created.astimezone(UTC):
        flag("closed_before_created", f"closed {closed.isoformat()} < requested; imported open")
        closed = None
    due = r.expected_datetime
    if due is not None and due.astimezone(UTC) < created.astimezone(UTC):
        flag("due_before_created", f"expected {due.isoformat()} < requested; dropped")
        due = None
    details: dict[str, str | float] = {"source_id": rid, "long": r.long, "lat": r.lat}
    for f in ("service_code", "description", "address", "address_id", "zipcode", "media_url"):
        v = getattr(r, f)
        if v is not None:
            details[f] = v
    if r.status not in ("open", "closed"):
        details["status"] = r.status
    return Intake(
        case_id=CaseId(rid),
        created=created,
        grid=AreaCode(grid),
        category=category,
        owner=r.agency_responsible,
        due=due,
        closed=closed,
        details=details,
    )


def _update(
    r: ServiceRequest,
    mapping: Open311Mapping,
    index: RoutingIndex,
    journal: Journal,
    problems: list[Problem],
) -> bool:
    """Bring a case imported before up to date with `r` (closed since); True if changed."""
    cid = CaseId(r.service_request_id)
    if cid not in journal:
        return False
    case = journal.case(cid)
    if case.state not in (State.REPORTED, State.DISPATCHED):
        return False  # closed already, or the desk has taken it on: the desk's now
    notes: list[Problem] = []
    rec = intake_of(r, mapping, index, notes)
    if rec is None or rec.closed is None:
        return False
    events = follow_up_events(case, rec, source=SOURCE)
    if not events:
        return False
    problems.extend(notes)
    journal.append(events, command_id=f"{SOURCE}:{cid}:{case.seq}")
    return True


def import_requests(
    requests: Sequence[ServiceRequest],
    mapping: Open311Mapping,
    index: RoutingIndex,
    journal: Journal,
) -> ImportResult:
    """Write each request's case into `journal` (see the module docs).

    A request imported before is not imported again; when it was open and is closed
    now, its case is taken to the close (counted in `updated`).
    """
    problems: list[Problem] = []
    grids: Counter[str] = Counter()
    imported = closed = already = updated = 0
    seen: set[str] = set()
    for r in requests:
        rid = r.service_request_id
        if rid in seen:
            problems.append(Problem(rid, "duplicate_id", "the id came earlier in the file"))
            continue
        seen.add(rid)
        command = f"{SOURCE}:{rid}"
        if journal.command(command) is not None:
            if _update(r, mapping, index, journal, problems):
                updated += 1
            else:
                already += 1
            continue
        rec = intake_of(r, mapping, index, problems)
        if rec is None:
            continue
        if rec.case_id in journal:
            problems.append(
                Problem(rid, "duplicate_id", "a case with this id is in the journal already")
            )
            continue
        journal.append(intake_events(rec, source=SOURCE), command_id=command)
        imported += 1
        closed += rec.closed is not None
        grids[rec.grid] += 1
    return ImportResult(
        len(requests), imported, closed, already, updated, tuple(problems), dict(grids)
    )


def _service(
    category: str, given: object, mapping: Open311Mapping, taxonomy: Taxonomy
) -> tuple[str, str | None]:
    if isinstance(given, str) and given:  # the code the request came with
        listed = mapping.service(given)
        return given, None if listed is None else listed.name
    entry = mapping.service_for(category)
    if entry is not None:
        return entry.service_code, entry.name
    try:
        return category, taxonomy.get(category).name
    except GridcoreError:
        return category, None


def _text(v: object) -> str | None:
    return None if v is None else str(v)


def request_of(
    case: Case,
    report_event: CaseEvent,
    mapping: Open311Mapping,
    *,
    index: RoutingIndex | None = None,
    taxonomy: Taxonomy | None = None,
) -> ServiceRequest:
    """The case as a service request; `Open311ExportError` when it has no position.

    The position is the report's ("long"/"lat"), else the centre of its grid (with
    `index`). The service code is the one the request came with, else the mapping's
    for the category, else the category code.
    """
    p = report_event.payload
    long, lat = p.get("long"), p.get("lat")
    if not isinstance(long, int | float) or not isinstance(lat, int | float):
        if index is None:
            raise Open311ExportError(
                f"case {case.id!r}: its report has no position: expected 'long'/'lat' in the "
                "report, or a city to place it at its grid's centre"
            )
        try:
            c = index.hierarchy.grid_polygons()[index.position(case.grid)].centroid
        except UnknownItemError:
            raise Open311ExportError(
                f"case {case.id!r}: no position, and grid {case.grid!r} is not in the city"
            ) from None
        long, lat = lonlat_of(index, float(c.x), float(c.y))
    status = mapping.status_for(case.state)
    given = p.get("service_code")
    code, name = _service(case.category, given, mapping, taxonomy or default_taxonomy())
    return ServiceRequest(
        service_request_id=str(case.id),
        status=status.status,
        status_notes=status.notes,
        service_name=name,
        service_code=code,
        description=_text(p.get("description")),
        agency_responsible=case.owner,
        requested_datetime=case.info.reported_at,
        updated_datetime=case.updated_at,
        expected_datetime=case.due,
        address=_text(p.get("address")),
        address_id=_text(p.get("address_id")),
        zipcode=_text(p.get("zipcode")),
        lat=float(lat),
        long=float(long),
        media_url=_text(p.get("media_url")),
    )


def export_requests(
    journal: Journal, mapping: Open311Mapping, *, index: RoutingIndex | None = None
) -> tuple[list[ServiceRequest], list[CaseId]]:
    """Every case of the journal as a service request, by case id, and the ids of the
    cases left out because they have no position to give (see `request_of`)."""
    taxonomy = default_taxonomy()
    out: list[ServiceRequest] = []
    left_out: list[CaseId] = []
    for cid in journal.case_ids():
        case = journal.case(cid)
        first = journal.events(cid)[0]
        try:
            out.append(request_of(case, first, mapping, index=index, taxonomy=taxonomy))
        except Open311ExportError:
            left_out.append(cid)
    return out, left_out
