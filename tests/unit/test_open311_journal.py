"""Open311 requests into a journal and back out; the open311 and serve commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import httpx

from gridcore.cases import Action, State
from gridcore.ids import CaseId
from gridcore.io.commands import city_index
from gridcore.io.mapping import Open311Mapping, read_open311_mapping
from gridcore.io.open311 import ServiceRequest, read_requests, write_requests
from gridcore.io.open311_journal import export_requests, import_requests
from gridcore.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples" / "open311"
MAPPING = EX / "nyc311.toml"
CITY = EX / "lower_manhattan.geojson"
EST = timezone(timedelta(hours=-5))
T = datetime(2024, 1, 9, 8, 0, tzinfo=EST)


def _requests() -> list[ServiceRequest]:
    return [
        ServiceRequest(
            "r1",
            "closed",
            T,
            40.7101,
            -74.0101,
            service_code="pothole",
            agency_responsible="DOT",
            updated_datetime=T + timedelta(hours=5),
            expected_datetime=T + timedelta(days=3),
            description="Pothole",
            address="CHURCH ST",
        ),
        ServiceRequest("r2", "investigating", T, 40.75, -73.99, service_code="teleport"),
        ServiceRequest("r3", "open", T, 40.60, -73.99, service_code="noise"),
        ServiceRequest("r4", "closed", T, 40.71, -74.01, service_code="dirty"),
        ServiceRequest("r5", "closed", T, 40.71, -74.01, updated_datetime=T - timedelta(hours=1)),
        ServiceRequest("r1", "open", T, 40.71, -74.01, service_code="noise"),
    ]


class TestImport:
    def test_requests_are_routed_and_written_with_their_problems(self) -> None:
        """Closed requests close, the rest stay open; each problem is named."""
        with open_store("sqlite://:memory:") as store:
            result = import_requests(
                _requests(), read_open311_mapping(MAPPING), city_index(str(CITY)), store
            )
            assert (result.requests, result.imported, result.closed) == (6, 5, 1)
            assert [(p.row_id, p.problem) for p in result.problems] == [
                ("r2", "unmapped_category"),
                ("r3", "outside_territory"),
                ("r4", "closed_without_time"),
                ("r5", "unmapped_category"),
                ("r5", "closed_before_created"),
                ("r1", "duplicate_id"),
            ]
            r1 = store.case(CaseId("r1"))
            assert r1.state is State.CLOSED and r1.owner == "DOT"
            assert r1.grid == "36061001001001" and r1.category == "C0201"
            assert r1.due == T + timedelta(days=3)
            assert store.events(CaseId("r1"))[-1].action is Action.CLOSE
            assert store.case(CaseId("r2")).category == "G1001"
            assert store.case(CaseId("r3")).grid == "unrouted"
            assert store.case(CaseId("r4")).state is State.REPORTED
            assert store.case(CaseId("r5")).state is State.REPORTED

    def test_importing_again_changes_nothing(self) -> None:
        """The same requests a second time: every one is already there, no new event."""
        mapping, index = read_open311_mapping(MAPPING), city_index(str(CITY))
        with open_store("sqlite://:memory:") as store:
            import_requests(_requests(), mapping, index, store)
            before = store.last_position()
            again = import_requests(_requests(), mapping, index, store)
            assert (again.imported, again.already) == (0, 5)
            assert store.last_position() == before

    def test_a_request_closed_since_its_import_is_closed_on_the_next(self) -> None:
        """Open at the first import, closed in the next file: the path to the close."""
        mapping, index = read_open311_mapping(MAPPING), city_index(str(CITY))
        first = ServiceRequest(
            "q1", "open", T, 40.71, -74.01, service_code="pothole", agency_responsible="DOT"
        )
        later = attrs.evolve(first, status="closed", updated_datetime=T + timedelta(days=2))
        with open_store("sqlite://:memory:") as store:
            import_requests([first], mapping, index, store)
            assert store.case(CaseId("q1")).state is State.DISPATCHED
            result = import_requests([later], mapping, index, store)
            assert (result.imported, result.updated, result.already) == (0, 1, 0)
            case = store.case(CaseId("q1"))
            assert case.state is State.CLOSED and case.updated_at == T + timedelta(days=2)
            assert [e.action for e in store.events(CaseId("q1"))][-4:] == [
                Action.SIGN_FOR, Action.START, Action.HANDLE, Action.CLOSE,
            ]  # fmt: skip
            again = import_requests([later], mapping, index, store)
            assert (again.updated, again.already) == (0, 1)

    def test_a_close_dated_before_the_case_last_event_changes_nothing(self) -> None:
        """A close the journal cannot take in time order is not forced in."""
        mapping, index = read_open311_mapping(MAPPING), city_index(str(CITY))
        first = ServiceRequest("q2", "open", T, 40.71, -74.01, agency_responsible="DOT")
        bad = attrs.evolve(first, status="closed", updated_datetime=T - timedelta(days=1))
        with open_store("sqlite://:memory:") as store:
            import_requests([first], mapping, index, store)
            before = store.last_position()
            result = import_requests([bad], mapping, index, store)
            assert (result.updated, result.already) == (0, 1)
            assert store.last_position() == before


class TestExport:
    def test_cases_come_back_as_the_requests_they_were(self) -> None:
        """Deadline -> expected_datetime, owner -> agency_responsible, status from the state."""
        mapping = read_open311_mapping(MAPPING)
        with open_store("sqlite://:memory:") as store:
            import_requests(_requests(), mapping, city_index(str(CITY)), store)
            out, left_out = export_requests(store, mapping)
        assert left_out == []
        by_id = {r.service_request_id: r for r in out}
        r1 = by_id["r1"]
        assert (r1.status, r1.status_notes) == ("closed", "Resolved.")
        assert r1.agency_responsible == "DOT" and r1.service_name == "Street condition"
        assert r1.expected_datetime == T + timedelta(days=3)
        assert r1.updated_datetime == T + timedelta(hours=5)
        assert (r1.lat, r1.long, r1.description) == (40.7101, -74.0101, "Pothole")
        assert by_id["r2"].service_code == "teleport"  # the code it came with
        assert by_id["r4"].status == "open"

    def test_without_a_mapping_status_is_open_or_closed_by_state(self) -> None:
        """The default mapping: closed for resolved states; the category as service code."""
        with open_store("sqlite://:memory:") as store:
            import_requests(
                _requests()[:1], read_open311_mapping(MAPPING), city_index(str(CITY)), store
            )
            (r,) = export_requests(store, Open311Mapping())[0]
        assert r.status == "closed" and r.status_notes is None
        assert r.service_code == "pothole"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, "-m", "gridcore", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


class TestCommandLine:
    def test_import_then_export_through_the_command_line(self, tmp_path: Path) -> None:
        """open311 import into a SQLite journal, export as XML, read back by the reader."""
        src = write_requests(_requests()[:5], tmp_path / "in.json")
        url = "sqlite:///journal.db"
        r = _cli("open311", "import", str(src), "--mapping", str(MAPPING), "--city", str(CITY),
                 "--store", url, cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "5 requests -> 5 cases written (1 closed)" in r.stdout
        assert "r3: outside_territory" in r.stdout
        r = _cli("open311", "export", url, "--out", "out.xml", "--mapping", str(MAPPING),
                 cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr
        back = {q.service_request_id: q for q in read_requests(tmp_path / "out.xml")}
        assert sorted(back) == ["r1", "r2", "r3", "r4", "r5"]
        assert back["r1"].agency_responsible == "DOT"
        r = _cli("open311", "export", url, "--out", "out.xml", cwd=tmp_path)
        assert r.returncode == 2 and "exists already" in r.stderr

    def test_serve_answers_over_http_until_stopped(self, tmp_path: Path) -> None:
        """gridcore serve on a free port: GET /services.json works; SIGTERM stops it."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "gridcore", "serve", "--store", "sqlite:///j.db",
             "--city", str(CITY), "--mapping", str(MAPPING), "--port", str(port)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/services.json", timeout=5)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.communicate()[1]
                    assert time.monotonic() < deadline, "serve did not answer"
                    time.sleep(0.1)
            assert r.status_code == 200 and len(r.json()) == 6
            r = httpx.get(f"http://127.0.0.1:{port}/requests.json", timeout=5)
            assert r.status_code == 200 and r.json() == []
        finally:
            proc.terminate()
            out, _err = proc.communicate(timeout=30)
        assert "serving Open311 GeoReport v2" in out

    def test_serve_refuses_a_bad_port_in_one_line(self, tmp_path: Path) -> None:
        """--port 0: a one-line error, exit 2."""
        r = _cli("serve", "--store", "sqlite:///j.db", "--city", str(CITY),
                 "--mapping", str(MAPPING), "--port", "0", cwd=tmp_path)  # fmt: skip
        assert r.returncode == 2 and r.stderr.count("\n") == 1


class TestPositions:
    def test_wgs84_position_is_converted_into_a_gcj02_city(self) -> None:
        """A GPS/Open311 position finds its grid in a GCJ-02 map, ~500 m from the raw point."""
        import shapely

        from gridcore.crs import wgs84_to_gcj02
        from gridcore.hierarchy import Area, Hierarchy
        from gridcore.ids import AreaCode
        from gridcore.io.intake import grid_at, lonlat_of, xy_of
        from gridcore.routing import RoutingIndex

        lon, lat = 114.30, 30.59  # Wuhan, WGS84
        gx, gy = (float(v[0]) for v in wgs84_to_gcj02([lon], [lat]))
        assert abs(gx - lon) + abs(gy - lat) > 0.003  # GCJ-02 is offset by hundreds of metres
        com = AreaCode("420102001001")
        areas = [
            Area(AreaCode("4201"), "Wuhan", "city"),
            Area(AreaCode("420102"), "Jiang'an", "district", AreaCode("4201")),
            Area(AreaCode("420102001"), "street", "street", AreaCode("420102")),
            Area(com, "community", "community", AreaCode("420102001")),
            Area(AreaCode(f"{com}01"), "g1", "grid", com,
                 polygon=shapely.box(gx - 0.001, gy - 0.001, gx + 0.001, gy + 0.001)),
        ]  # fmt: skip
        index = RoutingIndex.build(Hierarchy.build(areas, crs="GCJ02"))
        assert index.locate(lon, lat) is None  # the raw WGS84 numbers miss the grid
        assert grid_at(index, lon, lat) == f"{com}01"
        x, y = xy_of(index, lon, lat)
        back = lonlat_of(index, x, y)
        assert abs(back[0] - lon) < 1e-9 and abs(back[1] - lat) < 1e-9

    def test_local_plane_reads_long_lat_as_its_own_x_y(self) -> None:
        """A synthetic city (LOCAL) has no anchor: (long, lat) are its (x, y)."""
        from gridcore.io.intake import grid_at, xy_of
        from gridcore.routing import RoutingIndex
        from gridcore.synth import build_city

        index = RoutingIndex.build(build_city("yichang", seed=0))
        assert xy_of(index, 100.5, 200.25) == (100.5, 200.25)
        assert grid_at(index, 100.5, 200.25) == index.locate(100.5, 200.25)
