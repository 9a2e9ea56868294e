"""The GeoReport v2 endpoint: a real uvicorn server on 127.0.0.1, a real httpx client."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from gridcore.cases import Action, DeskRole, State
from gridcore.ids import CaseId
from gridcore.io.commands import city_index
from gridcore.io.csv311 import ingest_csv
from gridcore.io.mapping import read_csv_mapping, read_open311_mapping
from gridcore.io.open311 import requests_from_bytes, services_from_bytes
from gridcore.server import GeoReport, make_app
from gridcore.store import SqlCaseStore, open_store

EX = Path(__file__).resolve().parents[2] / "examples" / "open311"
MAPPING = EX / "nyc311.toml"
CITY = EX / "lower_manhattan.geojson"
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
WINDOW = {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-03-30T00:00:00Z"}


class Served:
    """A journal of the NYC sample, served by uvicorn in a thread."""

    def __init__(self, store: SqlCaseStore, base: str, georeport: GeoReport) -> None:
        self.store = store
        self.base = base
        self.georeport = georeport
        self.client = httpx.Client(base_url=base, timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    index = city_index(str(CITY))
    result = ingest_csv(EX / "nyc311_sample.csv", read_csv_mapping(MAPPING), index=index)
    store = open_store(f"sqlite:///{folder}/journal.db")
    store.append(result.events)
    ids = (f"new-{i}" for i in itertools.count(1))
    georeport = GeoReport(
        store,
        index,
        read_open311_mapping(MAPPING),
        api_keys=frozenset({"secret-key"}),
        clock=lambda: NOW,
        new_id=lambda: next(ids),
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(georeport), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    s = Served(store, f"http://127.0.0.1:{port}", georeport)
    try:
        yield s
    finally:
        s.client.close()
        server.should_exit = True
        thread.join(20)
        sock.close()
        store.close()
    assert not thread.is_alive()


def _errors(r: httpx.Response) -> list[tuple[int, str]]:
    return [(e["code"], e["description"]) for e in r.json()]


class TestServices:
    def test_service_list_in_json_and_xml(self, served: Served) -> None:
        """The mapping's services, as the spec's JSON and XML (read back by our reader)."""
        r = served.client.get("/services.json")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        codes = [s.service_code for s in services_from_bytes(r.content)]
        assert codes == ["noise", "parking", "pothole", "streetlight", "dirty", "missed"]
        x = served.client.get("/services.xml")
        assert x.headers["content-type"].startswith("text/xml")
        assert services_from_bytes(x.content) == services_from_bytes(r.content)

    def test_service_definition_and_unknown_code(self, served: Served) -> None:
        """A known code has a definition without attributes; an unknown one is 404."""
        r = served.client.get("/services/pothole.json")
        assert r.json() == {"service_code": "pothole", "attributes": []}
        r = served.client.get("/services/nope.json")
        assert r.status_code == 404 and _errors(r) == [(404, "service_code 'nope' not found")]


class TestRequests:
    def test_requests_in_a_window_are_the_journal_cases(self, served: Served) -> None:
        """The 20 sample cases with a position, as requests our reader accepts, in order."""
        r = served.client.get("/requests.json", params=WINDOW)
        assert r.status_code == 200
        reqs = requests_from_bytes(r.content)
        ids = {q.service_request_id for q in reqs}
        assert len(reqs) == 20 and not ids & {"59895410", "59898044"}  # no position: left out
        times = [q.requested_datetime for q in reqs]
        assert times == sorted(times)
        x = served.client.get("/requests.xml", params=WINDOW)
        assert requests_from_bytes(x.content) == reqs

    def test_status_and_service_code_filters(self, served: Served) -> None:
        """status=closed gives the 10 closed cases with a position; service_code by code."""
        closed = requests_from_bytes(
            served.client.get("/requests.json", params={**WINDOW, "status": "closed"}).content
        )
        assert len(closed) == 10 and {q.status for q in closed} == {"closed"}
        assert {q.status_notes for q in closed} == {"Resolved."}
        lights = requests_from_bytes(
            served.client.get(
                "/requests.json", params={**WINDOW, "service_code": "streetlight,pothole"}
            ).content
        )
        assert {q.service_code for q in lights} == {"streetlight", "pothole"}
        assert {q.service_request_id for q in lights} >= {"59895020", "59896347", "59897650"}

    def test_ids_override_every_other_filter(self, served: Served) -> None:
        """service_request_id lists requests whatever the dates and status say."""
        r = served.client.get(
            "/requests.json",
            params={"service_request_id": "59895020,59897512,unknown", "status": "closed"},
        )
        assert [q.service_request_id for q in requests_from_bytes(r.content)] == [
            "59895020",
            "59897512",
        ]

    def test_default_window_is_the_last_90_days(self, served: Served) -> None:
        """Without dates: requests of the 90 days before now (the March cases only)."""
        served.georeport.clock = lambda: datetime(2024, 4, 20, tzinfo=UTC)
        try:
            r = served.client.get("/requests.json")
        finally:
            served.georeport.clock = lambda: NOW
        ids = {q.service_request_id for q in requests_from_bytes(r.content)}
        assert {"59897901", "59898170", "59898302"} <= ids
        assert "59895020" not in ids

    @pytest.mark.parametrize(
        ("params", "needle"),
        [
            ({"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}, "90"),
            ({"start_date": "yesterday"}, "start_date"),
            ({"status": "investigating"}, "status"),
            ({"start_date": "2024-02-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"}, "before"),
        ],
    )
    def test_bad_filters_are_400_with_the_error_list(
        self, served: Served, params: dict[str, str], needle: str
    ) -> None:
        """A span over 90 days, a bad date, an unknown status: 400 and the spec's errors."""
        r = served.client.get("/requests.json", params=params)
        assert r.status_code == 400
        ((code, description),) = _errors(r)
        assert code == 400 and needle in description

    def test_one_request_by_id(self, served: Served) -> None:
        """The owner is agency_responsible, the deadline expected_datetime; 404 unknown."""
        (q,) = requests_from_bytes(served.client.get("/requests/59895020.json").content)
        assert q.agency_responsible == "DOT" and q.status == "closed"
        assert q.expected_datetime == datetime(2024, 1, 18, 12, 31, tzinfo=UTC)
        assert (q.lat, q.long) == (40.714852, -74.00764)
        x = served.client.get("/requests/59895020.xml")
        assert requests_from_bytes(x.content) == [q]
        r = served.client.get("/requests/59895410.json")  # imported without a position
        assert r.status_code == 400 and "no position" in _errors(r)[0][1]
        r = served.client.get("/requests/nope.xml")
        assert (
            r.status_code == 404 and b"<errors>" in r.content and b"<code>404</code>" in r.content
        )

    def test_unknown_resource_is_404(self, served: Served) -> None:
        """A path the API does not have, or a format it does not speak: 404 errors."""
        assert served.client.get("/nothing").status_code == 404
        r = served.client.get("/requests.csv")
        assert r.status_code == 404 and "csv" in _errors(r)[0][1]


POST = {
    "api_key": "secret-key",
    "service_code": "pothole",
    "lat": "40.7301",
    "long": "-74.0102",
    "address_string": "HUDSON STREET AND BARROW STREET",
    "description": "A large sinkhole is destroying the street",
    "email": "smit333@example.org",
}


class TestPost:
    def test_post_reports_a_routed_case_through_the_desk(self, served: Served) -> None:
        """The new case is in the journal: one report event, in the grid of its position."""
        r = served.client.post("/requests.json", data=POST)
        assert r.status_code == 200, r.text
        ((body),) = r.json()
        rid = body["service_request_id"]
        assert body == {"service_request_id": rid, "service_notice": None, "account_id": None}
        case = served.store.case(CaseId(rid))
        assert case.state is State.REPORTED and case.grid == "36061001001003"
        assert case.category == "C0201" and case.info.reported_at == NOW
        (event,) = served.store.events(CaseId(rid))
        assert event.action is Action.REPORT and event.role == DeskRole.REPORTER
        assert event.payload["address"] == POST["address_string"]
        assert "email" not in event.payload
        (q,) = requests_from_bytes(served.client.get(f"/requests/{rid}.json").content)
        assert q.service_code == "pothole" and q.status == "open"
        assert q.status_notes == "Received; awaiting verification."

    def test_post_xml_answers_in_xml(self, served: Served) -> None:
        """POST /requests.xml gives <service_requests><request><service_request_id>."""
        r = served.client.post("/requests.xml", data=POST)
        assert r.status_code == 200 and b"<service_request_id>new-" in r.content

    @pytest.mark.parametrize(
        ("change", "status", "needle"),
        [
            ({"api_key": None}, 403, "api_key"),
            ({"api_key": "guess"}, 403, "api_key"),
            ({"service_code": None}, 400, "not provided"),
            ({"service_code": "teleport"}, 404, "not found"),
            ({"lat": None, "long": None}, 400, "lat and long"),
            ({"lat": "north"}, 400, "expected numbers"),
            ({"lat": "40.60"}, 400, "outside"),
        ],
    )
    def test_refused_posts_answer_with_the_spec_errors_and_write_nothing(
        self, served: Served, change: dict[str, str | None], status: int, needle: str
    ) -> None:
        """Missing or wrong key 403, unknown service 404, no position 400; no event."""
        before = served.store.last_position()
        form = {k: v for k, v in {**POST, **change}.items() if v is not None}
        r = served.client.post("/requests.json", data=form)
        assert r.status_code == status
        ((code, description),) = _errors(r)
        assert code == status and needle in description
        assert served.store.last_position() == before
