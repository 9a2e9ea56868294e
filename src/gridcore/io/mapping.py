"""Mapping files (TOML) between outside case data and gridcore's codes.

One file can hold two mappings; each reader takes its own sections and checks
that the others are ones it knows of.

Open311 (`read_open311_mapping`)::

    [open311]
    default_category = "E0101"        # for service codes not listed (else refused)
    [services."006"]                  # service_code -> gridcore category
    category = "C0201"
    name = "Sidewalk and Curb Issues" # service_name, description, group, keywords
    [statuses]                        # gridcore state -> Open311 status and notes
    parked = { status = "open", notes = "Waiting for a contractor." }

States not listed get ``closed`` when resolved or final, ``open`` otherwise, no notes.

311 CSV logs (`read_csv_mapping`)::

    [source]
    name = "nyc311"                               # who reported (the events' actor)
    timezone = "America/New_York"                 # zone of naive times (required)
    datetime_format = "%m/%d/%Y %I:%M:%S %p"      # strptime; ISO 8601 when omitted
    closed_statuses = ["Closed"]                  # status values meaning closed
    [columns]                                     # id and created required
    id = "Unique Key"
    created = "Created Date"
    [categories]                                  # source value -> gridcore category
    "Noise - Residential" = "E0303"
    default = "G1001"                             # unmapped values (still flagged)

Every problem is a `MappingError` naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from gridcore.cases import FINAL_STATES, RESOLVED_STATES, State
from gridcore.errors import ConfigError
from gridcore.ids import CategoryCode

__all__ = [
    "CSV_COLUMNS",
    "CsvMapping",
    "MappingError",
    "Open311Mapping",
    "ServiceEntry",
    "StatusEntry",
    "read_csv_mapping",
    "read_open311_mapping",
]

_SECTIONS: Final = frozenset({"source", "columns", "categories", "open311", "services", "statuses"})

CSV_COLUMNS: Final = (
    "id",
    "created",
    "closed",
    "due",
    "category",
    "owner",
    "lat",
    "lon",
    "status",
    "grid",
    "address",
    "description",
)
"""What a `[columns]` entry can name (id and created are required)."""


class MappingError(ConfigError):
    """A mapping file, or a key in it, that is not what is expected."""

    def __init__(self, source: str, key: str, expected: str, got: object = None) -> None:
        self.source = source
        self.key = key
        seen = f", got {got!r}" if got is not None else ""
        at = f" key {key!r}:" if key else ""
        super().__init__(f"{source}:{at} expected {expected}{seen}")


@attrs.frozen
class ServiceEntry:
    """An Open311 service and the gridcore category it stands for."""

    service_code: str
    category: CategoryCode
    name: str | None = None
    description: str | None = None
    group: str | None = None
    keywords: str | None = None


@attrs.frozen
class StatusEntry:
    """The Open311 status (``open`` or ``closed``) and notes shown for a gridcore state."""

    status: str
    notes: str | None = None


def _default_status(state: State) -> StatusEntry:
    closed = state in RESOLVED_STATES or state in FINAL_STATES
    return StatusEntry("closed" if closed else "open")


@attrs.frozen
class Open311Mapping:
    """Open311 service codes <-> gridcore categories; gridcore states -> Open311 statuses."""

    services: tuple[ServiceEntry, ...] = ()
    default_category: CategoryCode | None = None
    statuses: Mapping[State, StatusEntry] = attrs.field(
        factory=lambda: MappingProxyType({s: _default_status(s) for s in State})
    )

    def category_for(self, service_code: str | None) -> CategoryCode | None:
        """The category of a service code (the default when unlisted; None: neither)."""
        for s in self.services:
            if s.service_code == service_code:
                return s.category
        return self.default_category

    def service_for(self, category: str) -> ServiceEntry | None:
        """The first service listed for a category (None: no service names it)."""
        for s in self.services:
            if s.category == category:
                return s
        return None

    def service(self, service_code: str) -> ServiceEntry | None:
        """The entry of a service code (None: not listed)."""
        for s in self.services:
            if s.service_code == service_code:
                return s
        return None

    def status_for(self, state: State) -> StatusEntry:
        """The Open311 status and notes for a gridcore state."""
        return self.statuses[state]


@attrs.frozen
class CsvMapping:
    """How to read a hotline's CSV export: its zone, time format, columns and categories."""

    columns: Mapping[str, str]
    """gridcore field (`CSV_COLUMNS`) -> the CSV header naming it."""
    categories: Mapping[str, CategoryCode]
    timezone: ZoneInfo
    datetime_format: str | None = None
    default_category: CategoryCode | None = None
    name: str = "import"
    closed_statuses: frozenset[str] = frozenset({"closed"})
    """Status values (compared in lower case) that say a row is closed."""


# -- reading ------------------------------------------------------------------------


def _load(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(source, "", f"a readable file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(source, "", "valid TOML", str(exc)) from None
    for key in data:
        if key not in _SECTIONS:
            raise MappingError(source, key, f"one of the sections {sorted(_SECTIONS)}")
    return source, data


def _table(source: str, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    v = data.get(key, {})
    if not isinstance(v, dict):
        raise MappingError(source, key, "a table", v)
    return v


def _str(source: str, key: str, v: object, *, optional: bool = False) -> str | None:
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v.strip():
        raise MappingError(source, key, "a non-empty string", v)
    return v.strip()


def _need_str(source: str, key: str, v: object) -> str:
    s = _str(source, key, v)
    assert s is not None
    return s


def _service_entry(source: str, code: str, raw: object) -> ServiceEntry:
    key = f"services.{code}"
    if not isinstance(raw, dict):
        raise MappingError(source, key, "a table with 'category'", raw)
    known = {"category", "name", "description", "group", "keywords"}
    for k in raw:
        if k not in known:
            raise MappingError(source, f"{key}.{k}", f"one of {sorted(known)}")
    opt = {k: _str(source, f"{key}.{k}", raw.get(k), optional=True) for k in sorted(known)}
    return ServiceEntry(
        service_code=code,
        category=CategoryCode(_need_str(source, f"{key}.category", raw.get("category"))),
        name=opt["name"],
        description=opt["description"],
        group=opt["group"],
        keywords=opt["keywords"],
    )


def _status_entry(source: str, state: str, raw: object) -> StatusEntry:
    key = f"statuses.{state}"
    if isinstance(raw, str):
        raw = {"status": raw}
    if not isinstance(raw, dict) or set(raw) - {"status", "notes"}:
        raise MappingError(source, key, "a table with 'status' and optional 'notes'", raw)
    status = raw.get("status")
    if status not in ("open", "closed"):
        raise MappingError(source, f"{key}.status", "'open' or 'closed'", status)
    return StatusEntry(str(status), _str(source, f"{key}.notes", raw.get("notes"), optional=True))


def read_open311_mapping(path: str | os.PathLike[str]) -> Open311Mapping:
    """The Open311 mapping of a TOML file (see the module docs); `MappingError` if invalid."""
    source, data = _load(path)
    head = _table(source, data, "open311")
    for k in head:
        if k not in ("default_category",):
            raise MappingError(source, f"open311.{k}", "only 'default_category'")
    default = _str(source, "open311.default_category", head.get("default_category"), optional=True)
    services = tuple(
        _service_entry(source, code, raw) for code, raw in _table(source, data, "services").items()
    )
    statuses = {s: _default_status(s) for s in State}
    for name, raw in _table(source, data, "statuses").items():
        try:
            state = State(name)
        except ValueError:
            raise MappingError(
                source, f"statuses.{name}", f"a gridcore state {[s.value for s in State]}"
            ) from None
        statuses[state] = _status_entry(source, name, raw)
    return Open311Mapping(
        services=services,
        default_category=None if default is None else CategoryCode(default),
        statuses=MappingProxyType(statuses),
    )


def _zone(source: str, raw: object) -> ZoneInfo:
    name = _need_str(source, "source.timezone", raw)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(source, "source.timezone", "an IANA time zone name", name) from None


def read_csv_mapping(path: str | os.PathLike[str]) -> CsvMapping:
    """The 311 CSV mapping of a TOML file (see the module docs); `MappingError` if invalid."""
    source, data = _load(path)
    src = _table(source, data, "source")
    known_src = {"name", "timezone", "datetime_format", "closed_statuses"}
    for k in src:
        if k not in known_src:
            raise MappingError(source, f"source.{k}", f"one of {sorted(known_src)}")
    fmt = _str(source, "source.datetime_format", src.get("datetime_format"), optional=True)
    if fmt is not None and "%" not in fmt:
        raise MappingError(source, "source.datetime_format", "a strptime format (with %)", fmt)
    closed = src.get("closed_statuses", ["closed"])
    if not isinstance(closed, list) or not all(isinstance(c, str) and c for c in closed):
        raise MappingError(source, "source.closed_statuses", "a list of strings", closed)
    cols = _table(source, data, "columns")
    columns: dict[str, str] = {}
    for k, v in cols.items():
        if k not in CSV_COLUMNS:
            raise MappingError(source, f"columns.{k}", f"one of {list(CSV_COLUMNS)}")
        columns[k] = _need_str(source, f"columns.{k}", v)
    for k in ("id", "created"):
        if k not in columns:
            raise MappingError(source, f"columns.{k}", "the column holding it (required)")
    if ("lat" in columns) != ("lon" in columns):
        raise MappingError(source, "columns.lat/lon", "both or neither")
    cats = _table(source, data, "categories")
    default = cats.pop("default", None)
    categories = {
        str(k): CategoryCode(_need_str(source, f"categories.{k}", v)) for k, v in cats.items()
    }
    dflt = _str(source, "categories.default", default, optional=True)
    return CsvMapping(
        columns=MappingProxyType(columns),
        categories=MappingProxyType(categories),
        timezone=_zone(source, src.get("timezone")),
        datetime_format=fmt,
        default_category=None if dflt is None else CategoryCode(dflt),
        name=_need_str(source, "source.name", src.get("name", "import")),
        closed_statuses=frozenset(c.strip().lower() for c in closed),
    )
