"""Open311 reading never fails but with a GridcoreError; writing then reading is lossless."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore.errors import GridcoreError
from gridcore.io._xml import xml_safe
from gridcore.io.open311 import (
    REQUEST_FIELDS,
    ServiceRequest,
    read_requests,
    requests_from_bytes,
    services_from_bytes,
    write_requests,
)

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_field_values = (
    _json_scalars
    | st.sampled_from(["2024-01-02T03:04:05Z", "2024-01-02 03:04:05+08:00", "006", "1e3"])
    | st.lists(_json_scalars, max_size=2)
)
_request_like = st.dictionaries(
    st.sampled_from([*REQUEST_FIELDS, "service_requests", "request"]), _field_values
)


def _only_gridcore_errors(data: bytes) -> None:
    for read in (requests_from_bytes, services_from_bytes):
        with contextlib.suppress(GridcoreError):
            read(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_records_or_a_gridcore_error(data: bytes) -> None:
    """Any bytes: a list of records or a GridcoreError, never another exception."""
    _only_gridcore_errors(data)
    _only_gridcore_errors(b"<service_requests>" + data)
    _only_gridcore_errors(b"[" + data)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_arbitrary_json_gives_records_or_a_gridcore_error(value: Any) -> None:
    """Any JSON document: records or a GridcoreError."""
    _only_gridcore_errors(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(st.lists(_request_like, max_size=3))
def test_request_shaped_json_gives_records_or_a_gridcore_error(items: list[Any]) -> None:
    """Objects with the spec's keys and values of any kind: records or a GridcoreError."""
    _only_gridcore_errors(json.dumps(items).encode())
    _only_gridcore_errors(json.dumps({"service_requests": items}).encode())


@settings(max_examples=200, deadline=None)
@given(st.lists(_request_like, max_size=3))
def test_request_shaped_xml_gives_records_or_a_gridcore_error(items: list[Any]) -> None:
    """The same as XML elements (values as text, markup escaped)."""
    parts = ["<service_requests>"]
    for it in items:
        parts.append("<request>")
        for k, v in it.items():
            text = "" if v is None else str(v)
            text = text.replace("&", "&amp;").replace("<", "&lt;")
            parts.append(f"<{k}>{text}</{k}>")
        parts.append("</request>")
    parts.append("</service_requests>")
    _only_gridcore_errors("".join(parts).encode("utf-8", "surrogatepass"))


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda s: xml_safe(s) and s.strip() == s and s != ""
)
_opt_text = st.none() | _text
_instants = st.builds(
    lambda t, m: t.replace(tzinfo=timezone(timedelta(minutes=m))),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30)),
    st.integers(-14 * 60, 14 * 60),
)
_floats = st.floats(allow_nan=False, allow_infinity=False)
_requests = st.builds(
    ServiceRequest,
    service_request_id=_text,
    status=_text,
    requested_datetime=_instants,
    lat=_floats,
    long=_floats,
    status_notes=_opt_text,
    service_name=_opt_text,
    service_code=_opt_text,
    description=_opt_text,
    agency_responsible=_opt_text,
    service_notice=_opt_text,
    updated_datetime=st.none() | _instants,
    expected_datetime=st.none() | _instants,
    address=_opt_text,
    address_id=_opt_text,
    zipcode=_opt_text,
    media_url=_opt_text,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(_requests, max_size=3), st.sampled_from([".json", ".xml"]))
def test_written_requests_read_back_equal(reqs: list[ServiceRequest], suffix: str) -> None:
    """write_requests then read_requests gives the same records, in both formats."""
    with tempfile.TemporaryDirectory() as d:
        p = write_requests(reqs, Path(d) / f"r{suffix}")
        back = read_requests(p)
    assert back == reqs
    for a, b in zip(back, reqs, strict=True):
        assert a.requested_datetime.utcoffset() == b.requested_datetime.utcoffset()
