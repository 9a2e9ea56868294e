"""Staff and assignments to and from CSV: two files, one row a person, one row an assignment.

people file columns: ``id, name, roles, capacity, department`` (roles are role
values joined by ``;``, empty for any role; department empty for none).
assignments file columns: ``person, role, area, start, end`` (ISO 8601 instants
with their UTC offset; ``end`` empty for an open assignment).

Reading checks every row and raises `FileFormatError` naming the file, the line,
the field and what was expected. Writing is atomic per file: a temporary file
in the same folder is written, flushed and moved into place, so a reader never
sees half a file. The roster's policy name is not stored; pass it to
`read_roster_csv`.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from gridcore.errors import FileFormatError, GridcoreError
from gridcore.ids import AreaCode, DepartmentId, PersonId
from gridcore.io.atomic import write_text_atomic
from gridcore.staffing import Assignment, Person, Role, Roster

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "PEOPLE_COLUMNS",
    "read_roster_csv",
    "write_roster_csv",
]

PEOPLE_COLUMNS = ("id", "name", "roles", "capacity", "department")
"""Header of the people file."""

ASSIGNMENT_COLUMNS = ("person", "role", "area", "start", "end")
"""Header of the assignments file."""

_ROLES = ", ".join(r.value for r in Role)


def _people_rows(roster: Roster) -> Iterator[list[str]]:
    yield list(PEOPLE_COLUMNS)
    for p in roster.people:
        yield [
            p.id,
            p.name,
            ";".join(sorted(r.value for r in p.roles)),
            str(p.capacity),
            p.department or "",
        ]


def _assignment_rows(roster: Roster) -> Iterator[list[str]]:
    yield list(ASSIGNMENT_COLUMNS)
    for a in roster.assignments:
        yield [
            a.person,
            a.role.value,
            a.area,
            a.start.isoformat(),
            "" if a.end is None else a.end.isoformat(),
        ]


def _render(rows: Iterator[list[str]]) -> str:
    buf = io.StringIO()
    # CRLF (RFC 4180) so that a lone "\r" in a name is quoted too
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(rows)
    return buf.getvalue()


def write_roster_csv(
    roster: Roster, people_path: str | os.PathLike[str], assignments_path: str | os.PathLike[str]
) -> None:
    """Write the roster's people and assignments to two CSV files, each atomically.

    Both files are rendered before either is written, so a failure while
    rendering writes nothing.
    """
    people_text = _render(_people_rows(roster))
    assign_text = _render(_assignment_rows(roster))
    write_text_atomic(people_path, people_text, newline="")
    write_text_atomic(assignments_path, assign_text, newline="")


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as dicts with the line number where each row starts."""
    from gridcore.io.text import read_text

    text = read_text(path, "a CSV file")  # a regular file of UTF-8 text, or a typed error
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                raise FileFormatError(str(path), "line 1", "", f"a header {list(columns)}", "")
            if tuple(header) != columns:
                raise FileFormatError(
                    str(path), "line 1", "", f"the header {list(columns)}", header
                )
            line = reader.line_num + 1
            for row in reader:
                if not row:
                    line = reader.line_num + 1
                    continue
                if len(row) != len(columns):
                    raise FileFormatError(
                        str(path), f"line {line}", "", f"{len(columns)} fields", len(row)
                    )
                yield line, dict(zip(columns, row, strict=True))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise FileFormatError(
                str(path), f"line {reader.line_num}", "", f"valid CSV ({exc})"
            ) from None
        except UnicodeDecodeError:
            raise FileFormatError(str(path), "", "", "UTF-8 text") from None


def _instant(path: Path, line: int, field: str, value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise FileFormatError(
            str(path), f"line {line}", field, "an ISO 8601 instant with UTC offset", value
        ) from None
    if dt.utcoffset() is None:
        raise FileFormatError(
            str(path), f"line {line}", field, "an instant with a UTC offset (e.g. +08:00)", value
        )
    return dt


def read_roster_csv(
    people_path: str | os.PathLike[str],
    assignments_path: str | os.PathLike[str],
    *,
    policy: str | None = None,
) -> Roster:
    """Read a roster written by `write_roster_csv`; FileFormatError names file, line and field."""
    ppath, apath = Path(people_path), Path(assignments_path)
    people: list[Person] = []
    seen: dict[str, int] = {}
    for line, row in _rows(ppath, PEOPLE_COLUMNS):
        where = f"line {line}"
        pid = row["id"]
        if not pid:
            raise FileFormatError(str(ppath), where, "id", "a non-empty person id", pid)
        if pid in seen:
            raise FileFormatError(
                str(ppath), where, "id", f"a unique id (also on line {seen[pid]})", pid
            )
        seen[pid] = line
        roles: list[Role] = []
        for part in row["roles"].split(";") if row["roles"] else []:
            try:
                roles.append(Role(part))
            except ValueError:
                raise FileFormatError(
                    str(ppath), where, "roles", f"roles among {_ROLES}, joined by ';'", part
                ) from None
        try:
            capacity = int(row["capacity"])
        except ValueError:
            capacity = 0
        if capacity < 1:
            raise FileFormatError(
                str(ppath), where, "capacity", "a whole number >= 1", row["capacity"]
            )
        dept = row["department"]
        people.append(
            Person(
                PersonId(pid),
                row["name"],
                frozenset(roles),
                capacity,
                DepartmentId(dept) if dept else None,
            )
        )
    assignments: list[Assignment] = []
    for line, row in _rows(apath, ASSIGNMENT_COLUMNS):
        where = f"line {line}"
        if row["person"] not in seen:
            raise FileFormatError(str(apath), where, "person", f"an id from {ppath}", row["person"])
        try:
            role = Role(row["role"])
        except ValueError:
            raise FileFormatError(
                str(apath), where, "role", f"one of {_ROLES}", row["role"]
            ) from None
        if not row["area"]:
            raise FileFormatError(str(apath), where, "area", "a non-empty area code", "")
        start = _instant(apath, line, "start", row["start"])
        end = _instant(apath, line, "end", row["end"]) if row["end"] else None
        if end is not None and end <= start:
            raise FileFormatError(
                str(apath), where, "end", f"an instant after start {row['start']}", row["end"]
            )
        try:
            assignments.append(
                Assignment(PersonId(row["person"]), role, AreaCode(row["area"]), start, end)
            )
        except GridcoreError as exc:  # pragma: no cover - every check is made above
            raise FileFormatError(str(apath), where, "", str(exc)) from None
    return Roster(people, assignments, policy=policy)
