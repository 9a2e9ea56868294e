"""Open311 GeoReport v2 files: service requests and service lists, in JSON or XML.

`read_requests(path)` reads either format (told apart by the content, not the
name) into `ServiceRequest` records named by the spec's fields; `write_requests`
writes the spec's element names and nesting (JSON for ``.json``, XML for ``.xml``).
`read_services` and `write_services` do the same for the service list.

Real servers deviate from the spec, and so do its own examples; harmless
deviations are read, keeping the raw value:

- statuses other than ``open``/``closed`` (``investigating``, ``Open``) are kept
  as written (`ServiceRequest.is_closed` tells closed ones);
- numbers where strings are expected (``"service_request_id": 638344``) become
  their text; JSON numbers with leading zeros (the spec's ``"service_code":006``,
  not valid JSON) are read as the text ``"006"``;
- empty elements, empty strings and nulls are `None`; whitespace around a value
  is not part of it;
- XML attributes (``is_array="true"``), namespace prefixes and a default namespace
  are ignored; unknown fields are ignored;
- times with any UTC offset are kept with that offset.

What is not harmless is refused with a `FileFormatError` naming the file and the
request: no ``service_request_id``, no position (``lat`` and ``long``), a time
that is not ISO 8601 with an offset, a value of the wrong kind (a list where text
is due). XML is parsed without DTDs or entities (see `gridcore.io._xml`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import attrs

from gridcore.errors import ConfigError, FileFormatError, GridcoreError
from gridcore.io._output import new_output
from gridcore.io._xml import Element, escape_text, parse_xml, xml_safe
from gridcore.io.atomic import write_text_atomic

__all__ = [
    "REQUEST_FIELDS",
    "SERVICE_FIELDS",
    "Open311Error",
    "Service",
    "ServiceRequest",
    "parse_instant",
    "read_requests",
    "read_services",
    "requests_from_bytes",
    "requests_to_json",
    "requests_to_xml",
    "services_from_bytes",
    "services_to_json",
    "services_to_xml",
    "write_requests",
    "write_services",
]


class Open311Error(FileFormatError):
    """An Open311 document, request or service that cannot be read or written."""


@attrs.frozen
class ServiceRequest:
    """One service request, by the spec's field names (`None`: not given)."""

    service_request_id: str
    status: str
    """As the server wrote it: ``open``, ``closed`` or another word (kept raw)."""
    requested_datetime: datetime
    lat: float
    long: float
    status_notes: str | None = None
    service_name: str | None = None
    service_code: str | None = None
    description: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    updated_datetime: datetime | None = None
    """For a closed request, the time it was closed."""
    expected_datetime: datetime | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    media_url: str | None = None

    @property
    def is_closed(self) -> bool:
        """Whether the status says closed (any letter case)."""
        return self.status.strip().lower() == "closed"


REQUEST_FIELDS: Final = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
"""A request's fields in the spec's order (the order written)."""

_TIME_FIELDS: Final = frozenset({"requested_datetime", "updated_datetime", "expected_datetime"})
_NUMBER_FIELDS: Final = frozenset({"lat", "long"})


@attrs.frozen
class Service:
    """One service (request type) of a service list."""

    service_code: str
    service_name: str | None = None
    description: str | None = None
    metadata: bool | None = None
    """Whether the service has a definition to fetch (None: not given)."""
    type: str | None = None
    """``realtime``, ``batch`` or ``blackbox`` as written."""
    keywords: str | None = None
    group: str | None = None


SERVICE_FIELDS: Final = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
"""A service's fields in the spec's order."""


# -- values -------------------------------------------------------------------------


def _text(value: object, ctx: _Ctx, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise ctx.error(field, "text, a number or null", value)


def _number(value: object, ctx: _Ctx, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ctx.error(field, "a number", value)
    try:
        x = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise ctx.error(field, "a finite number", value)
    return x


def parse_instant(text: str) -> datetime:
    """An ISO 8601 / W3C instant with its UTC offset (``Z`` or ``±hh:mm``); ValueError else."""
    t = datetime.fromisoformat(text.strip())
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return t


def _instant(value: object, ctx: _Ctx, field: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ctx.error(field, "an ISO 8601 time with its UTC offset", value)
    try:
        return parse_instant(value)
    except ValueError:
        raise ctx.error(field, "an ISO 8601 time with its UTC offset", value) from None


def _flag(value: object, ctx: _Ctx, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        if not low:
            return None
    raise ctx.error(field, "true or false", value)


@attrs.frozen
class _Ctx:
    """Where a value comes from, for error messages."""

    source: str
    where: str

    def error(self, field: str, expected: str, got: object = None) -> Open311Error:
        shown = got if not isinstance(got, str) or len(got) <= 80 else got[:77] + "..."
        return Open311Error(self.source, self.where, field, expected, shown)


def _request(raw: Mapping[str, object], source: str, index: int) -> ServiceRequest:
    rid_ctx = _Ctx(source, f"request #{index + 1}")
    rid = _text(raw.get("service_request_id"), rid_ctx, "service_request_id")
    if rid is None:
        raise rid_ctx.error("service_request_id", "a request id")
    ctx = _Ctx(source, f"request {rid!r}")
    values: dict[str, Any] = {}
    for name in REQUEST_FIELDS:
        v = raw.get(name)
        if name in _TIME_FIELDS:
            values[name] = _instant(v, ctx, name)
        elif name in _NUMBER_FIELDS:
            values[name] = _number(v, ctx, name)
        else:
            values[name] = _text(v, ctx, name)
    values["service_request_id"] = rid
    if values["lat"] is None or values["long"] is None:
        raise ctx.error("lat/long", "a position (both lat and long)")
    if values["requested_datetime"] is None:
        raise ctx.error("requested_datetime", "the time the request was made")
    values["status"] = values["status"] or ""
    if not values["status"]:
        raise ctx.error("status", "a status (open, closed or another word)")
    return ServiceRequest(**values)


def _service(raw: Mapping[str, object], source: str, index: int) -> Service:
    ctx = _Ctx(source, f"service #{index + 1}")
    code = _text(raw.get("service_code"), ctx, "service_code")
    if code is None:
        raise ctx.error("service_code", "a service code")
    ctx = _Ctx(source, f"service {code!r}")
    return Service(
        service_code=code,
        service_name=_text(raw.get("service_name"), ctx, "service_name"),
        description=_text(raw.get("description"), ctx, "description"),
        metadata=_flag(raw.get("metadata"), ctx, "metadata"),
        type=_text(raw.get("type"), ctx, "type"),
        keywords=_text(raw.get("keywords"), ctx, "keywords"),
        group=_text(raw.get("group"), ctx, "group"),
    )


# -- reading ------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LEADING_ZERO = re.compile(r"(?<![\w.+-])(-?0\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])")


def _quote_leading_zeros(text: str) -> str:
    """Numbers like 006 outside strings, quoted ("006"): the spec's examples write them."""
    out: list[str] = []
    pos = 0
    for m in _STRING.finditer(text):
        out.append(_LEADING_ZERO.sub(r'"\1"', text[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(_LEADING_ZERO.sub(r'"\1"', text[pos:]))
    return "".join(out)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json(text: str, source: str) -> Any:
    def load(t: str) -> Any:
        return json.loads(t, parse_constant=_refuse_constant)

    try:
        try:
            return load(text)
        except json.JSONDecodeError:
            fixed = _quote_leading_zeros(text)
            if fixed == text:
                raise
            return load(fixed)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise Open311Error(source, where, "", f"valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:
        raise Open311Error(source, "", "", "valid JSON", str(exc)[:80]) from None


def _decode(data: bytes, source: str) -> tuple[str, str]:
    """("json" | "xml", text) by the first character of the content."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Open311Error(source, f"byte {exc.start}", "", "UTF-8 text") from None
    head = text.lstrip()[:1]
    if head == "<":
        return "xml", text
    if head in ("[", "{"):
        return "json", text
    raise Open311Error(source, "", "", "an Open311 JSON ('[' or '{') or XML ('<') document")


def _items_json(data: Any, source: str, plural: str, single: str) -> list[Mapping[str, Any]]:
    items = data
    # Some servers wrap the list: {"service_requests": [...]} or {... {"request": [...]}}.
    if isinstance(items, Mapping) and plural in items:
        items = items[plural]
        if isinstance(items, Mapping) and single in items:
            items = items[single]
            items = [items] if isinstance(items, Mapping) else items
    if not isinstance(items, list):
        raise Open311Error(source, "", "", f"a JSON list of {single}s (or {{'{plural}': [...]}})")
    for i, it in enumerate(items):
        if not isinstance(it, Mapping):
            raise Open311Error(source, f"{single} #{i + 1}", "", "a JSON object", type(it).__name__)
    return items


def _items_xml(root: Element, source: str, plural: str, single: str) -> list[dict[str, str]]:
    if root.tag != plural:
        raise Open311Error(source, "", "", f"an XML root <{plural}>", f"<{root.tag}>")
    items = []
    for el in root.children:
        if el.tag != single:
            raise Open311Error(source, "", "", f"<{single}> elements in <{plural}>", f"<{el.tag}>")
        # Only the element's own text: attributes (is_array="true") say nothing to us.
        items.append({c.tag: c.text for c in el.children})
    return items


_T = TypeVar("_T")


def _read(
    data: bytes,
    source: str,
    plural: str,
    single: str,
    make: Callable[[Mapping[str, Any], str, int], _T],
) -> list[_T]:
    kind, text = _decode(data, source)
    if kind == "xml":
        items: Sequence[Mapping[str, Any]] = _items_xml(
            parse_xml(text.encode("utf-8"), source, Open311Error), source, plural, single
        )
    else:
        items = _items_json(_json(text, source), source, plural, single)
    return [make(it, source, i) for i, it in enumerate(items)]


def _bytes(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Open311Error(str(path), "", "", f"a readable file ({exc.strerror})") from None


def requests_from_bytes(data: bytes, source: str = "<open311>") -> list[ServiceRequest]:
    """Service requests from a JSON or XML document's bytes (see `read_requests`)."""
    return _read(data, source, "service_requests", "request", _request)


def read_requests(path: str | os.PathLike[str]) -> list[ServiceRequest]:
    """The service requests of an Open311 file, JSON or XML (told by the content).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.json"
    >>> _ = p.write_text('[{"service_request_id": 7, "status": "open", "lat": 1, '
    ...                  '"long": 2, "requested_datetime": "2010-04-14T06:37:38-08:00"}]')
    >>> r = read_requests(p)[0]
    >>> (r.service_request_id, r.status, r.lat, r.requested_datetime.isoformat())
    ('7', 'open', 1.0, '2010-04-14T06:37:38-08:00')
    """
    return requests_from_bytes(_bytes(path), str(path))


def services_from_bytes(data: bytes, source: str = "<open311>") -> list[Service]:
    """A service list from a JSON or XML document's bytes (see `read_services`)."""
    return _read(data, source, "services", "service", _service)


def read_services(path: str | os.PathLike[str]) -> list[Service]:
    """The services of an Open311 service list file, JSON or XML (told by the content)."""
    return services_from_bytes(_bytes(path), str(path))


# -- writing ------------------------------------------------------------------------


def _json_value(v: object) -> object:
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def _check_time(v: object, where: str, field: str) -> None:
    if isinstance(v, datetime) and v.utcoffset() is None:
        raise Open311Error("<output>", where, field, "an aware time (with a UTC offset)", str(v))


def _request_dict(r: ServiceRequest) -> dict[str, object]:
    where = f"request {r.service_request_id!r}"
    if not r.service_request_id:
        raise Open311Error("<output>", where, "service_request_id", "a non-empty id")
    for f in ("lat", "long"):
        if not math.isfinite(getattr(r, f)):
            raise Open311Error("<output>", where, f, "a finite number", getattr(r, f))
    out: dict[str, object] = {}
    for f in REQUEST_FIELDS:
        v = getattr(r, f)
        _check_time(v, where, f)
        out[f] = _json_value(v)
    return out


def _service_dict(s: Service) -> dict[str, object]:
    if not s.service_code:
        raise Open311Error("<output>", f"service {s.service_code!r}", "service_code", "a code")
    return {f: getattr(s, f) for f in SERVICE_FIELDS}


def requests_to_json(requests: Iterable[ServiceRequest]) -> str:
    """The requests as the spec's JSON: a list of objects, every field (null when unset)."""
    return _dump([_request_dict(r) for r in requests])


def services_to_json(services: Iterable[Service]) -> str:
    """The services as the spec's JSON list."""
    return _dump([_service_dict(s) for s in services])


def _dump(items: list[dict[str, object]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _xml_scalar(v: object, where: str, field: str) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, datetime):
        return v.isoformat()
    text = str(v)
    if not xml_safe(text):
        raise Open311Error("<output>", where, field, "text XML can carry (no control characters)")
    return escape_text(text)


def _xml(plural: str, single: str, items: list[dict[str, object]], key: str) -> str:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<{plural}>"]
    for it in items:
        where = f"{single} {it[key]!r}"
        lines.append(f"  <{single}>")
        for f, v in it.items():
            lines.append(f"    <{f}>{_xml_scalar(v, where, f)}</{f}>")
        lines.append(f"  </{single}>")
    lines.append(f"</{plural}>")
    return "\n".join(lines) + "\n"


def requests_to_xml(requests: Iterable[ServiceRequest]) -> str:
    """The requests as the spec's XML: <service_requests><request>... every field."""
    items = [_request_dict(r) for r in requests]
    return _xml("service_requests", "request", items, "service_request_id")


def services_to_xml(services: Iterable[Service]) -> str:
    """The services as the spec's XML: <services><service>..."""
    return _xml("services", "service", [_service_dict(s) for s in services], "service_code")


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".xml"):
        raise ConfigError(f"{path}: suffix {path.suffix!r}: expected .json or .xml")
    return suffix[1:]


def write_requests(
    requests: Iterable[ServiceRequest], path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write requests as JSON (``.json``) or XML (``.xml``), atomically.

    An existing file is replaced only with `overwrite=True` (`OutputExistsError` else).
    """
    p = new_output(path, overwrite=overwrite)
    fmt = _format_of(p)
    text = requests_to_json(requests) if fmt == "json" else requests_to_xml(requests)
    return _write(p, text)


def write_services(
    services: Iterable[Service], path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a service list as JSON (``.json``) or XML (``.xml``), atomically."""
    p = new_output(path, overwrite=overwrite)
    fmt = _format_of(p)
    text = services_to_json(services) if fmt == "json" else services_to_xml(services)
    return _write(p, text)


def _write(p: Path, text: str) -> Path:
    try:
        return write_text_atomic(p, text)
    except OSError as exc:
        raise GridcoreError(f"{p}: cannot write ({exc.strerror})") from None
