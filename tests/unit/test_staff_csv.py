"""Staff and assignments to and from CSV: round trip, bad rows, atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridcore.errors import FileFormatError
from gridcore.ids import AreaCode, DepartmentId, PersonId
from gridcore.io.staff_csv import (
    ASSIGNMENT_COLUMNS,
    PEOPLE_COLUMNS,
    read_roster_csv,
    write_roster_csv,
)
from gridcore.staffing import Assignment, Person, Role, Roster, staff_city
from gridcore.synth import build_city

T0 = datetime(2024, 1, 1, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

PEOPLE_HEAD = ",".join(PEOPLE_COLUMNS) + "\n"
ASSIGN_HEAD = ",".join(ASSIGNMENT_COLUMNS) + "\n"


def _roster() -> Roster:
    people = [
        Person(PersonId("P1"), 'Wang "Wei", jr.', frozenset({Role.ASSISTANT, Role.MANAGER}), 2),
        Person(PersonId("P2"), "李 娜\nsecond line", department=DepartmentId("water")),
    ]
    asg = [
        Assignment(PersonId("P1"), Role.ASSISTANT, AreaCode("g1"), T0, T0 + timedelta(days=3)),
        Assignment(
            PersonId("P2"), Role.OFFICER, AreaCode("g2"), datetime(2024, 2, 1, 0, 0, 1, 5, UTC)
        ),
    ]
    return Roster(people, asg, policy="three_per_grid")


def _write(tmp_path: Path, people: str, assignments: str) -> tuple[Path, Path]:
    p, a = tmp_path / "people.csv", tmp_path / "assignments.csv"
    p.write_text(people, encoding="utf-8")
    a.write_text(assignments, encoding="utf-8")
    return p, a


class TestRoundTrip:
    def test_written_roster_reads_back_equal(self, tmp_path: Path) -> None:
        """Quotes, commas, newlines, offsets and microseconds survive."""
        r = _roster()
        p, a = tmp_path / "p.csv", tmp_path / "a.csv"
        write_roster_csv(r, p, a)
        back = read_roster_csv(p, a, policy="three_per_grid")
        assert back == r
        assert back.assignments[0].start.utcoffset() == timedelta(hours=8)

    def test_synthetic_city_roster_round_trips(self, tmp_path: Path) -> None:
        """A whole staffed city is written and read back unchanged."""
        h = build_city("shuanghu", seed=2)
        r = staff_city(h, "two_per_grid", seed=2, start=T0)
        p, a = tmp_path / "p.csv", tmp_path / "a.csv"
        write_roster_csv(r, p, a)
        assert read_roster_csv(p, a, policy="two_per_grid") == r

    def test_write_leaves_no_temporary_files(self, tmp_path: Path) -> None:
        """Only the two named files are left in the folder."""
        write_roster_csv(_roster(), tmp_path / "p.csv", tmp_path / "a.csv")
        assert sorted(x.name for x in tmp_path.iterdir()) == ["a.csv", "p.csv"]

    def test_failed_write_keeps_the_old_file(self, tmp_path: Path) -> None:
        """A write into a missing folder fails and the existing file is untouched."""
        p = tmp_path / "p.csv"
        p.write_text("old", encoding="utf-8")
        with pytest.raises(OSError):
            write_roster_csv(_roster(), p, tmp_path / "missing" / "a.csv")
        assert sorted(x.name for x in tmp_path.iterdir()) == ["p.csv"]


class TestBadFiles:
    def test_wrong_header_names_the_file_and_line(self, tmp_path: Path) -> None:
        """The header must be exactly the columns."""
        p, a = _write(tmp_path, "id,name\n", ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match=r"people\.csv: line 1: expected the header"):
            read_roster_csv(p, a)

    def test_empty_file_is_refused(self, tmp_path: Path) -> None:
        """An empty file has no header."""
        p, a = _write(tmp_path, "", ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match="line 1"):
            read_roster_csv(p, a)

    def test_bad_capacity_names_line_and_field(self, tmp_path: Path) -> None:
        """Capacity is a whole number >= 1."""
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1,\nP2,b,,zero,\n", ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match=r"line 3: field 'capacity': expected a whole"):
            read_roster_csv(p, a)

    def test_unknown_role_names_line_and_field(self, tmp_path: Path) -> None:
        """Roles are role values joined by ';'."""
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,assistant;pilot,1,\n", ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match=r"line 2: field 'roles'.*'pilot'"):
            read_roster_csv(p, a)

    def test_duplicate_person_names_both_lines(self, tmp_path: Path) -> None:
        """Person ids are unique."""
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1,\nP1,b,,1,\n", ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match=r"line 3: field 'id': expected a unique id"):
            read_roster_csv(p, a)

    def test_wrong_field_count_is_refused(self, tmp_path: Path) -> None:
        """Each row has every column."""
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1\n", ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match=r"line 2: expected 5 fields"):
            read_roster_csv(p, a)

    def test_naive_start_is_refused(self, tmp_path: Path) -> None:
        """Instants carry their UTC offset."""
        p, a = _write(
            tmp_path, PEOPLE_HEAD + "P1,a,,1,\n", ASSIGN_HEAD + "P1,manager,g1,2024-01-01T08:00,\n"
        )
        with pytest.raises(FileFormatError, match=r"assignments\.csv: line 2: field 'start'"):
            read_roster_csv(p, a)

    def test_unparsable_end_is_refused(self, tmp_path: Path) -> None:
        """The end is an ISO 8601 instant or empty."""
        row = "P1,manager,g1,2024-01-01T08:00+08:00,tomorrow\n"
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1,\n", ASSIGN_HEAD + row)
        with pytest.raises(FileFormatError, match=r"line 2: field 'end': expected an ISO 8601"):
            read_roster_csv(p, a)

    def test_end_before_start_is_refused(self, tmp_path: Path) -> None:
        """An assignment's period is not empty."""
        row = "P1,manager,g1,2024-01-02T08:00+08:00,2024-01-01T08:00+08:00\n"
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1,\n", ASSIGN_HEAD + row)
        with pytest.raises(FileFormatError, match=r"field 'end': expected an instant after"):
            read_roster_csv(p, a)

    def test_unknown_person_is_refused(self, tmp_path: Path) -> None:
        """Assignments name people of the people file."""
        row = "P9,manager,g1,2024-01-01T08:00+08:00,\n"
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1,\n", ASSIGN_HEAD + row)
        with pytest.raises(FileFormatError, match=r"line 2: field 'person'.*'P9'"):
            read_roster_csv(p, a)

    def test_unknown_role_in_assignment_is_refused(self, tmp_path: Path) -> None:
        """The role is a role value."""
        row = "P1,boss,g1,2024-01-01T08:00+08:00,\n"
        p, a = _write(tmp_path, PEOPLE_HEAD + "P1,a,,1,\n", ASSIGN_HEAD + row)
        with pytest.raises(FileFormatError, match=r"line 2: field 'role'"):
            read_roster_csv(p, a)

    def test_line_numbers_count_quoted_newlines(self, tmp_path: Path) -> None:
        """A name spanning two lines moves the next row's line number."""
        body = PEOPLE_HEAD + 'P1,"two\nlines",,1,\nP2,b,,x,\n'
        p, a = _write(tmp_path, body, ASSIGN_HEAD)
        with pytest.raises(FileFormatError, match=r"line 4: field 'capacity'"):
            read_roster_csv(p, a)

    def test_missing_file_is_named(self, tmp_path: Path) -> None:
        """A file that cannot be opened is named."""
        with pytest.raises(FileFormatError, match=r"nope\.csv"):
            read_roster_csv(tmp_path / "nope.csv", tmp_path / "a.csv")
