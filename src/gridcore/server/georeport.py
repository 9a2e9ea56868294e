"""The GeoReport v2 methods over a case journal, free of any web framework.

`GeoReport` answers the spec's methods with records (`Service`, `ServiceRequest`) or
raises `ApiError` carrying the HTTP status and the spec's error code and description;
`gridcore.server.app` turns both into HTTP responses in JSON or XML.

- service list: the mapping's services (every one ``realtime``, without metadata);
- service definition: the service code with no attributes (404 for an unknown code);
- requests: the journal's cases as requests, filtered by ``service_request_id`` (which
  overrides the rest), ``service_code``, ``start_date``/``end_date`` (on the request
  time; 90 days at most; the last 90 days when neither is given) and ``status``; at
  most 1,000, by request time;
- a new request: ``api_key`` (403 when missing or not one of the keys), a known
  ``service_code`` (400 missing, 404 unknown), ``lat`` and ``long`` (an address alone
  cannot be routed: 400); the request is routed by position to its grid (400 outside
  the territory) and reported through the core's `report`, appended to the journal.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from gridcore.cases import Actor, DeskRole, JSONValue, report
from gridcore.categories import Taxonomy, default_taxonomy
from gridcore.errors import GridcoreError
from gridcore.ids import AreaCode, CaseId, PersonId
from gridcore.io.intake import grid_at
from gridcore.io.mapping import Open311Mapping
from gridcore.io.open311 import Service, ServiceRequest, parse_instant
from gridcore.io.open311_journal import Journal, Open311ExportError, request_of
from gridcore.routing import RoutingIndex

__all__ = ["CHANNEL", "MAX_DAYS", "MAX_REQUESTS", "ApiError", "GeoReport"]

MAX_DAYS: Final = 90
"""The longest span of start_date..end_date, and the default window (days)."""

MAX_REQUESTS: Final = 1000
"""The most requests one GET returns."""

CHANNEL: Final = "open311"
"""The report channel of requests posted to the endpoint."""


class ApiError(GridcoreError):
    """A request the endpoint refuses: the HTTP status, the error code, the description."""

    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        self.status = status
        self.code = status if code is None else code
        self.description = description
        super().__init__(f"{status}: {description}")


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _list(params: Mapping[str, str], name: str) -> list[str] | None:
    raw = params.get(name, "").strip()
    if not raw:  # the spec: an empty parameter is the same as none
        return None
    return [v.strip() for v in raw.split(",") if v.strip()]


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_instant(raw)
    except ValueError:
        raise ApiError(
            400, f"{name} {raw!r}: expected a w3 time such as 2010-01-01T00:00:00Z"
        ) from None


def _position(form: Mapping[str, str]) -> tuple[float, float]:
    lat_s, long_s = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat_s or not long_s:
        raise ApiError(400, "lat and long are required: this endpoint routes by position")
    try:
        lat, long = float(lat_s), float(long_s)
    except ValueError:
        lat = long = math.nan
    if not (math.isfinite(lat) and math.isfinite(long)):
        raise ApiError(400, f"lat {lat_s!r}, long {long_s!r}: expected numbers")
    return long, lat


@attrs.define
class GeoReport:
    """The GeoReport v2 methods over `journal`, routing by `index`, named by `mapping`."""

    journal: Journal
    index: RoutingIndex
    mapping: Open311Mapping
    api_keys: frozenset[str] = frozenset()
    """Keys allowed to post; none: every post is refused (403)."""
    clock: Callable[[], datetime] = attrs.field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = _new_id
    taxonomy: Taxonomy = attrs.field(factory=default_taxonomy)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def services(self) -> list[Service]:
        """The service list."""
        return [
            Service(
                service_code=s.service_code,
                service_name=s.name,
                description=s.description,
                metadata=False,
                type="realtime",
                keywords=s.keywords,
                group=s.group,
            )
            for s in self.mapping.services
        ]

    def service_definition(self, code: str) -> str:
        """The service code of a definition (no attributes); 404 for an unknown one."""
        if self.mapping.service(code) is None:
            raise ApiError(404, f"service_code {code!r} not found")
        return code

    def _request(self, cid: CaseId) -> ServiceRequest:
        case = self.journal.case(cid)
        first = self.journal.events(cid)[0]
        return request_of(case, first, self.mapping, index=self.index, taxonomy=self.taxonomy)

    def _listable(self, rid: str) -> bool:
        if rid not in self.journal:
            return False
        try:
            self._request(CaseId(rid))
        except Open311ExportError:
            return False
        return True

    def request(self, rid: str) -> ServiceRequest:
        """One request by id; 404 when the journal has no such case."""
        with self._lock:
            if rid not in self.journal:
                raise ApiError(404, f"service_request_id {rid!r} not found")
            return self._request(CaseId(rid))

    def requests(self, params: Mapping[str, str]) -> list[ServiceRequest]:
        """The requests matching the spec's filters (see the module docs)."""
        ids = _list(params, "service_request_id")
        with self._lock:
            if ids is not None:
                return [self._request(CaseId(i)) for i in ids if self._listable(i)]
            codes = _list(params, "service_code")
            statuses = _list(params, "status")
            for s in statuses or ():
                if s not in ("open", "closed"):
                    raise ApiError(400, f"status {s!r}: expected open or closed")
            start, end = self._window(params)
            out = []
            for cid in self.journal.case_ids():
                try:
                    r = self._request(cid)
                except Open311ExportError:  # no position: not a request Open311 can show
                    continue
                t = r.requested_datetime.astimezone(UTC)
                if t < start or t > end:
                    continue
                if codes is not None and r.service_code not in codes:
                    continue
                if statuses is not None and r.status not in statuses:
                    continue
                out.append(r)
        out.sort(key=lambda r: (r.requested_datetime.astimezone(UTC), r.service_request_id))
        return out[:MAX_REQUESTS]

    def _window(self, params: Mapping[str, str]) -> tuple[datetime, datetime]:
        start, end = _date(params, "start_date"), _date(params, "end_date")
        span = timedelta(days=MAX_DAYS)
        if start is None and end is None:
            end = self.clock()
        if start is None:
            assert end is not None
            start = end - span
        if end is None:
            end = start + span
        if end < start:
            raise ApiError(400, "end_date is before start_date")
        if end - start > span:
            raise ApiError(400, f"start_date..end_date spans more than {MAX_DAYS} days")
        return start.astimezone(UTC), end.astimezone(UTC)

    def create(self, form: Mapping[str, str]) -> str:
        """Report a new request; its service_request_id (see the module docs)."""
        key = form.get("api_key", "")
        if not key or key not in self.api_keys:
            raise ApiError(403, "Missing or invalid api_key -- can't proceed with create_request.")
        code = form.get("service_code", "").strip()
        if not code:
            raise ApiError(400, "service_code was not provided")
        if self.mapping.service(code) is None:
            raise ApiError(404, f"service_code {code!r} not found")
        category = self.mapping.category_for(code)
        assert category is not None
        long, lat = _position(form)
        grid = grid_at(self.index, long, lat)
        if grid is None:
            raise ApiError(400, f"(long, lat) = ({long}, {lat}) is outside the territory")
        payload: dict[str, JSONValue] = {"long": long, "lat": lat, "service_code": code}
        for name, field in (
            ("description", "description"),
            ("address_string", "address"),
            ("address_id", "address_id"),
            ("media_url", "media_url"),
        ):
            value = form.get(name, "").strip()
            if value:
                payload[field] = value[:4000]
        reporter = Actor(PersonId(form.get("account_id", "").strip() or CHANNEL), DeskRole.REPORTER)
        cid = CaseId(self.new_id())
        _, event, _ = report(
            cid,
            reporter,
            self.clock(),
            grid=AreaCode(grid),
            category=category,
            channel=CHANNEL,
            payload=payload,
        )
        with self._lock:
            self.journal.append([event])
        return cid
