"""311-style CSV ingest: the NYC-style sample's dirty rows, events the table accepts, the CLI."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gridcore.cases import Action, CaseLog, State, event_from_json
from gridcore.errors import FileFormatError
from gridcore.io._output import OutputExistsError
from gridcore.io.commands import city_index
from gridcore.io.csv311 import PROBLEMS, QUALITY_COLUMNS, ingest_csv, write_ingest
from gridcore.io.intake import UNROUTED
from gridcore.io.mapping import MappingError, read_csv_mapping

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples" / "open311"
SAMPLE = EX / "nyc311_sample.csv"
MAPPING = EX / "nyc311.toml"
CITY = EX / "lower_manhattan.geojson"


@pytest.fixture(scope="module")
def routed() -> tuple[object, CaseLog]:
    result = ingest_csv(SAMPLE, read_csv_mapping(MAPPING), index=city_index(str(CITY)))
    log = CaseLog()
    for e in result.events:
        log.append(e)
    return result, log


def _problems(result: object) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in result.problems:  # type: ignore[attr-defined]
        out.setdefault(p.problem, []).append(p.row_id)
    return out


class TestSample:
    def test_counts_of_rows_cases_and_events(self, routed: tuple[object, CaseLog]) -> None:
        """24 rows: 22 cases (the no-id row and the duplicate are not imported), 12 closed."""
        result, log = routed
        assert (result.rows, result.cases, result.closed) == (24, 22, 12)  # type: ignore[attr-defined]
        assert len(log) == 22
        assert sum(c.state is State.CLOSED for c in log.cases()) == 12

    def test_every_dirty_row_is_flagged_with_its_problem(
        self, routed: tuple[object, CaseLog]
    ) -> None:
        """Each kind of dirt in the sample is named for its row; nothing else is flagged."""
        result, _ = routed
        assert _problems(result) == {
            "closed_before_created": ["59895233"],
            "missing_position": ["59895410"],
            "duplicate_id": ["59893911"],
            "closed_without_time": ["59896001"],
            "unmapped_category": ["59896188"],
            "bad_time": ["59896347"],
            "missing_id": ["line 11"],
            "outside_territory": ["59896590"],
            "open_with_closed_time": ["59896712"],
            "due_before_created": ["59896855"],
            "nonexistent_local_time": ["59897901"],
            "bad_position": ["59898044"],
        }

    def test_dirty_rows_are_imported_as_far_as_sound(self, routed: tuple[object, CaseLog]) -> None:
        """Closed-before-created and closed-without-time are open; unrouted rows are kept."""
        _, log = routed
        from gridcore.ids import CaseId

        for cid in ("59895233", "59896001", "59896347", "59896712"):
            case = log.case(CaseId(cid))
            assert case.state is State.DISPATCHED, cid
            assert all(e.action is not Action.CLOSE for e in log.events(CaseId(cid)))
        for cid in ("59895410", "59896590", "59898044"):
            assert log.case(CaseId(cid)).grid == UNROUTED
        assert log.case(CaseId("59896188")).category == "G1001"
        assert log.case(CaseId("59896855")).due is None
        # the duplicate did not replace the first row: its description is the first one's
        first = log.events(CaseId("59893911"))[0]
        assert first.payload["description"] == "Loud Music/Party"

    def test_clean_closed_row_has_the_full_path_at_its_times(
        self, routed: tuple[object, CaseLog]
    ) -> None:
        """Report, desk steps at creation, sign-for to close at the closing time."""
        from gridcore.ids import CaseId

        _, log = routed
        events = log.events(CaseId("59895020"))
        assert [e.action.value for e in events] == [
            "report", "verify", "register", "dispatch", "sign_for", "start", "handle", "close",
        ]  # fmt: skip
        created = datetime(2024, 1, 9, 12, 31, tzinfo=UTC)
        closed = datetime(2024, 1, 10, 14, 15, 27, tzinfo=UTC)
        assert [e.at for e in events] == [created] * 4 + [closed] * 4
        assert events[3].payload["to"] == "DOT" and events[3].payload["level"] == "department"
        case = log.case(CaseId("59895020"))
        assert case.due == datetime(2024, 1, 18, 12, 31, tzinfo=UTC)
        assert case.grid == "36061001001001"  # Chambers & Church: lowest row of grids, west
        assert log.case(CaseId("59897141")).grid == "36061001001003"  # 40.7337: second row
        assert events[0].payload["long"] == -74.00764 and events[0].payload["lat"] == 40.714852

    def test_events_are_in_time_order(self, routed: tuple[object, CaseLog]) -> None:
        """events.jsonl is one journal in order of the instants."""
        result, _ = routed
        ats = [e.at.astimezone(UTC) for e in result.events]  # type: ignore[attr-defined]
        assert ats == sorted(ats)

    def test_without_city_cases_go_to_the_grid_column_or_unrouted(self, tmp_path: Path) -> None:
        """No --city: a 'grid' column routes; an empty cell is flagged; no column: unrouted."""
        p = tmp_path / "g.csv"
        p.write_text(
            "Key,Created,grid\n1,2024-01-01T08:00:00,g7\n2,2024-01-01T09:00:00,\n",
            encoding="utf-8",
        )
        m = tmp_path / "m.toml"
        m.write_text(
            '[source]\ntimezone = "Asia/Shanghai"\n[columns]\nid = "Key"\ncreated = "Created"\n'
            '[categories]\ndefault = "E0101"\n',
            encoding="utf-8",
        )
        result = ingest_csv(p, read_csv_mapping(m))
        assert result.grids == {"g7": 1, "unrouted": 1}
        assert [(x.row_id, x.problem) for x in result.problems] == [("2", "missing_grid")]
        assert result.events[0].at.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]

    def test_unmapped_category_without_default_is_flagged_and_not_imported(
        self, tmp_path: Path
    ) -> None:
        """No default category: the row cannot become a case, and says so."""
        p = tmp_path / "c.csv"
        p.write_text("Key,Created,Type\n1,2024-01-01T08:00:00Z,Noise\n", encoding="utf-8")
        m = tmp_path / "m.toml"
        m.write_text(
            '[source]\ntimezone = "UTC"\n[columns]\nid = "Key"\ncreated = "Created"\n'
            'category = "Type"\n[categories]\nGraffiti = "E0201"\n',
            encoding="utf-8",
        )
        result = ingest_csv(p, read_csv_mapping(m))
        assert result.cases == 0
        (prob,) = result.problems
        assert prob.problem == "unmapped_category" and "not imported" in prob.detail

    def test_mapping_naming_a_column_the_file_lacks_is_refused(self, tmp_path: Path) -> None:
        """A column that is not in the header: MappingError naming it."""
        p = tmp_path / "c.csv"
        p.write_text("Id,When\n", encoding="utf-8")
        with pytest.raises(MappingError, match="Unique Key"):
            ingest_csv(p, read_csv_mapping(MAPPING))

    def test_not_utf8_is_a_typed_error(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8: FileFormatError naming the file."""
        p = tmp_path / "c.csv"
        p.write_bytes(b"Unique Key\n\xff\xfe\n")
        with pytest.raises(FileFormatError, match="UTF-8"):
            ingest_csv(p, read_csv_mapping(MAPPING))

    def test_problem_names_are_the_documented_ones(self, routed: tuple[object, CaseLog]) -> None:
        """Every flagged problem is one of PROBLEMS."""
        result, _ = routed
        assert {p.problem for p in result.problems} <= set(PROBLEMS)  # type: ignore[attr-defined]


class TestOutput:
    def test_written_events_replay_into_a_fresh_log(self, tmp_path: Path) -> None:
        """events.jsonl reads back event by event and the table accepts every one."""
        result = ingest_csv(SAMPLE, read_csv_mapping(MAPPING))
        events_p, quality_p = write_ingest(result, tmp_path / "out")
        log = CaseLog()
        lines = events_p.read_text(encoding="utf-8").splitlines()
        for line in lines:
            log.append(event_from_json(line))
        assert len(lines) == len(result.events) and len(log) == result.cases
        with quality_p.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert tuple(rows[0]) == QUALITY_COLUMNS
        assert Counter(r[1] for r in rows[1:]) == Counter(p.problem for p in result.problems)

    def test_existing_output_is_not_overwritten_without_force(self, tmp_path: Path) -> None:
        """A second ingest into the same folder is refused unless overwrite is asked."""
        result = ingest_csv(SAMPLE, read_csv_mapping(MAPPING))
        write_ingest(result, tmp_path)
        with pytest.raises(OutputExistsError):
            write_ingest(result, tmp_path)
        write_ingest(result, tmp_path, overwrite=True)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, "-m", "gridcore", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


class TestCommandLine:
    def test_ingest_csv_prints_a_summary_and_writes_both_files(self, tmp_path: Path) -> None:
        """The command routes by the city, prints counts and problems, exit 0."""
        r = _cli(
            "ingest", "csv", str(SAMPLE), "--mapping", str(MAPPING), "--city", str(CITY),
            "--out", str(tmp_path / "o"),
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "24 rows -> 22 cases (12 closed, 10 open)" in r.stdout
        assert "3 cases unrouted" in r.stdout and "duplicate_id: 1" in r.stdout
        assert (tmp_path / "o" / "events.jsonl").exists()
        assert (tmp_path / "o" / "quality.csv").exists()

    def test_errors_are_one_line_and_exit_2(self, tmp_path: Path) -> None:
        """A bad mapping path: one line on stderr, exit code 2, no traceback."""
        r = _cli("ingest", "csv", str(SAMPLE), "--mapping", str(tmp_path / "x.toml"),
                 "--out", str(tmp_path / "o"))  # fmt: skip
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("gridcore: error:")
