"""Open311 GeoReport v2 files: the spec's own examples, real servers' deviations, writing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gridcore.errors import ConfigError, GridcoreError
from gridcore.io._output import OutputExistsError
from gridcore.io.open311 import (
    REQUEST_FIELDS,
    Open311Error,
    Service,
    ServiceRequest,
    read_requests,
    read_services,
    requests_from_bytes,
    services_from_bytes,
    write_requests,
    write_services,
)

DATA = Path(__file__).parent.parent / "data" / "open311"
PST = timezone(timedelta(hours=-8))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


class TestSpecExamples:
    @pytest.mark.parametrize("name", ["spec_requests.xml", "spec_requests.json"])
    def test_spec_request_examples_read_to_the_same_records(self, name: str) -> None:
        """Both of the spec's GET requests examples read as the same two requests."""
        reqs = read_requests(DATA / name)
        assert [r.service_request_id for r in reqs] == ["638344", "638349"]
        first = reqs[0]
        assert first.status == "closed" and first.is_closed
        assert first.status_notes == "Duplicate request."
        assert first.service_code == "006"  # 006 in the JSON (invalid JSON), kept as text
        assert first.description is None and first.agency_responsible is None
        assert first.requested_datetime == datetime(2010, 4, 14, 6, 37, 38, tzinfo=PST)
        assert first.requested_datetime.utcoffset() == timedelta(hours=-8)
        assert first.expected_datetime == datetime(2010, 4, 15, 6, 37, 38, tzinfo=PST)
        assert (first.lat, first.long) == (37.762221815, -122.4651145)
        assert first.address_id == "545483" and first.zipcode == "94122"
        assert first.media_url == "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"
        assert reqs[1].status_notes is None and not reqs[1].is_closed

    def test_xml_and_json_examples_agree_field_by_field(self) -> None:
        """The spec's XML and JSON examples hold the same requests."""
        assert read_requests(DATA / "spec_requests.xml") == read_requests(
            DATA / "spec_requests.json"
        )

    @pytest.mark.parametrize("name", ["spec_services.xml", "spec_services.json"])
    def test_spec_service_list_examples_read(self, name: str) -> None:
        """The spec's service list reads as three realtime services with metadata."""
        services = read_services(DATA / name)
        assert [s.service_code for s in services] == ["001", "002", "003"]
        assert services[0] == Service(
            "001",
            "Cans left out 24x7",
            "Garbage or recycling cans that have been left out for more than 24 hours after "
            "collection. Violators will be cited.",
            True,
            "realtime",
            "lorem, ipsum, dolor",
            "sanitation",
        )
        assert services[1].group == "street"

    def test_format_is_told_by_content_not_name(self, tmp_path: Path) -> None:
        """An XML document in a .json file is read as XML."""
        p = _write(tmp_path, "x.json", (DATA / "spec_requests.xml").read_text())
        assert len(read_requests(p)) == 2


DEVIANT_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests xmlns="http://wiki.open311.org/GeoReport_v2" is_array="true">
  <request>
    <service_request_id>  17 </service_request_id>
    <status>investigating</status>
    <status_notes/>
    <service_code>pothole</service_code>
    <description>Deep hole &amp; water &lt;here&gt;</description>
    <requested_datetime>2024-03-01T09:30:00+08:00</requested_datetime>
    <updated_datetime></updated_datetime>
    <lat>30.5</lat>
    <long>114.25</long>
    <attributes is_array="true"><attribute>ignored</attribute></attributes>
    <extra_field>ignored</extra_field>
  </request>
</service_requests>
"""


class TestDeviations:
    def test_xml_with_namespace_is_array_empty_elements_and_odd_status(
        self, tmp_path: Path
    ) -> None:
        """Harmless deviations read; raw status kept; empties are None; offset kept."""
        (r,) = read_requests(_write(tmp_path, "d.xml", DEVIANT_XML))
        assert r.service_request_id == "17"
        assert r.status == "investigating" and not r.is_closed
        assert r.status_notes is None and r.updated_datetime is None
        assert r.description == "Deep hole & water <here>"
        assert r.requested_datetime.utcoffset() == timedelta(hours=8)

    def test_json_numbers_for_strings_wrapped_list_and_capital_status(self, tmp_path: Path) -> None:
        """Numbers become their text; {"service_requests": [...]} is unwrapped."""
        doc = {
            "service_requests": [
                {
                    "service_request_id": 42,
                    "status": "Closed",
                    "service_code": 12,
                    "zipcode": 10001,
                    "address_id": "",
                    "lat": "40.75",
                    "long": -73.99,
                    "requested_datetime": "2024-01-02T03:04:05Z",
                    "updated_datetime": "2024-01-03T03:04:05.250-05:00",
                }
            ]
        }
        (r,) = read_requests(_write(tmp_path, "d.json", json.dumps(doc)))
        assert (r.service_request_id, r.service_code, r.zipcode) == ("42", "12", "10001")
        assert r.address_id is None and r.lat == 40.75 and r.is_closed
        assert r.requested_datetime == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert r.updated_datetime is not None
        assert r.updated_datetime.microsecond == 250000

    def test_spark_style_single_request_object(self) -> None:
        """{"service_requests": {"request": {...}}} is one request."""
        doc = {
            "service_requests": {
                "request": {
                    "service_request_id": "a",
                    "status": "open",
                    "lat": 1,
                    "long": 2,
                    "requested_datetime": "2024-01-02T03:04:05Z",
                }
            }
        }
        (r,) = requests_from_bytes(json.dumps(doc).encode())
        assert r.service_request_id == "a"


def _one(**fields: object) -> bytes:
    base: dict[str, object] = {
        "service_request_id": "r1",
        "status": "open",
        "lat": 1.5,
        "long": 2.5,
        "requested_datetime": "2024-01-02T03:04:05Z",
    }
    base.update(fields)
    return json.dumps([{k: v for k, v in base.items() if v is not ...}]).encode()


class TestRefusals:
    def test_request_without_id_is_refused_naming_its_position(self) -> None:
        """No id: the error names the request by its place in the file."""
        with pytest.raises(Open311Error, match=r"request #1.*service_request_id"):
            requests_from_bytes(_one(service_request_id=None))

    @pytest.mark.parametrize("missing", ["lat", "long"])
    def test_request_without_position_is_refused_naming_it(self, missing: str) -> None:
        """No lat or no long: refused, naming the request id."""
        with pytest.raises(Open311Error, match=r"request 'r1'.*lat/long"):
            requests_from_bytes(_one(**{missing: ...}))

    @pytest.mark.parametrize(
        "value", ["yesterday", "2024-01-02T03:04:05", "2024-13-02T00:00:00Z", 1700000000]
    )
    def test_unparseable_or_naive_time_is_refused(self, value: object) -> None:
        """A time that is not ISO 8601 with an offset is refused, naming request and field."""
        with pytest.raises(Open311Error, match=r"request 'r1'.*'requested_datetime'"):
            requests_from_bytes(_one(requested_datetime=value))

    @pytest.mark.parametrize(
        ("field", "value"),
        [("lat", "north"), ("long", True), ("lat", "nan"), ("description", ["a"])],
    )
    def test_values_of_the_wrong_kind_are_refused(self, field: str, value: object) -> None:
        """Not a number for lat/long, a list for text: refused with the field named."""
        with pytest.raises(Open311Error, match=field):
            requests_from_bytes(_one(**{field: value}))

    def test_doctype_and_entities_are_refused(self) -> None:
        """A DTD (entity expansion, external entities) is refused before any expansion."""
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;">]><service_requests>&lol2;</service_requests>'
        )
        with pytest.raises(Open311Error, match="DOCTYPE"):
            requests_from_bytes(bomb)
        external = (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<service_requests>&x;</service_requests>"
        )
        with pytest.raises(Open311Error, match="DOCTYPE"):
            requests_from_bytes(external)

    def test_undeclared_entity_is_bad_xml(self) -> None:
        """An entity reference without a DTD is not well-formed."""
        with pytest.raises(Open311Error, match="well-formed"):
            requests_from_bytes(b"<service_requests>&x;</service_requests>")

    @pytest.mark.parametrize(
        "doc",
        [
            b"",
            b"hello",
            b'{"x": 1}',
            b"[1, 2]",
            b"<requests/>",
            b"<service_requests><service/></service_requests>",
            b"[NaN]",
            b"\xff\xfe",
        ],
    )
    def test_documents_of_other_shapes_are_refused(self, doc: bytes) -> None:
        """Not a request list: a typed error, not a traceback."""
        with pytest.raises(Open311Error):
            requests_from_bytes(doc)

    def test_missing_file_is_a_typed_error(self, tmp_path: Path) -> None:
        """A file that cannot be read names itself."""
        with pytest.raises(Open311Error, match=r"nope\.json"):
            read_requests(tmp_path / "nope.json")

    def test_service_without_code_is_refused(self) -> None:
        """A service needs its code; metadata must be true or false."""
        with pytest.raises(Open311Error, match=r"service #1.*service_code"):
            services_from_bytes(b'[{"service_name": "x"}]')
        with pytest.raises(Open311Error, match=r"service 'a'.*metadata"):
            services_from_bytes(b'[{"service_code": "a", "metadata": "maybe"}]')


def _request(rid: str = "1", **kw: object) -> ServiceRequest:
    base: dict[str, object] = {
        "service_request_id": rid,
        "status": "open",
        "requested_datetime": datetime(2024, 5, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
        "lat": 30.123456789,
        "long": 114.5,
    }
    base.update(kw)
    return ServiceRequest(**base)  # type: ignore[arg-type]


class TestWriting:
    @pytest.mark.parametrize("suffix", [".json", ".xml"])
    def test_written_requests_read_back_equal(self, tmp_path: Path, suffix: str) -> None:
        """Every field, markup characters, newlines and offsets survive both formats."""
        reqs = [
            _request(
                "a&1",
                status="closed",
                status_notes='done <ok> & "quoted"',
                description="line one\nline two\r\nthree",
                updated_datetime=datetime(2024, 5, 2, 9, 30, 0, 5, tzinfo=UTC),
                expected_datetime=datetime(2024, 5, 3, tzinfo=UTC),
                service_code="006",
                zipcode="02134",
                agency_responsible="DSNY",
            ),
            _request("2", status="investigating"),
        ]
        p = write_requests(reqs, tmp_path / f"out{suffix}")
        assert read_requests(p) == reqs

    def test_xml_has_the_spec_element_names_and_nesting(self, tmp_path: Path) -> None:
        """<service_requests><request> with all 17 fields in the spec's order."""
        p = write_requests([_request()], tmp_path / "r.xml")
        text = p.read_text()
        assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<service_requests>')
        tags = [line.strip().split(">")[0][1:] for line in text.splitlines()[3:-2]]
        assert tags == list(REQUEST_FIELDS)

    def test_json_has_every_field_with_null_for_unset(self, tmp_path: Path) -> None:
        """A list of objects, keys in the spec's order, null where unset."""
        p = write_requests([_request()], tmp_path / "r.json")
        (obj,) = json.loads(p.read_text())
        assert list(obj) == list(REQUEST_FIELDS)
        assert obj["status_notes"] is None and obj["requested_datetime"].endswith("+08:00")

    @pytest.mark.parametrize("suffix", [".json", ".xml"])
    def test_services_round_trip(self, tmp_path: Path, suffix: str) -> None:
        """A service list writes and reads back equal."""
        services = [
            Service("001", "Cans", "desc & more", True, "realtime", "a, b", "sanitation"),
            Service("x"),
        ]
        p = write_services(services, tmp_path / f"s{suffix}")
        assert read_services(p) == services

    def test_existing_file_is_not_overwritten_unless_asked(self, tmp_path: Path) -> None:
        """A user's file survives; overwrite=True replaces it."""
        p = _write(tmp_path, "mine.json", "precious")
        with pytest.raises(OutputExistsError, match=r"mine\.json"):
            write_requests([_request()], p)
        assert p.read_text() == "precious"
        write_requests([_request()], p, overwrite=True)
        assert read_requests(p) == [_request()]

    def test_unknown_suffix_and_unwritable_values_are_refused(self, tmp_path: Path) -> None:
        """A .txt target, a control character for XML, a naive time: typed errors, no file."""
        with pytest.raises(ConfigError, match=r"\.txt"):
            write_requests([_request()], tmp_path / "r.txt")
        with pytest.raises(Open311Error, match="description"):
            write_requests([_request(description="bell\x07")], tmp_path / "r.xml")
        with pytest.raises(Open311Error, match="updated_datetime"):
            write_requests([_request(updated_datetime=datetime(2024, 1, 1))], tmp_path / "n.json")
        assert sorted(x.name for x in tmp_path.iterdir()) == []

    def test_every_error_is_a_gridcore_error(self) -> None:
        """The reader's errors are rooted at GridcoreError."""
        assert issubclass(Open311Error, GridcoreError)


def test_docstring_examples_run() -> None:
    """The doctests of the interchange modules pass."""
    import doctest

    import gridcore.io.intake
    import gridcore.io.open311

    for mod in (gridcore.io.open311, gridcore.io.intake):
        assert doctest.testmod(mod).failed == 0
