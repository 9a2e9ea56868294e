"""311-style CSV logs in: a hotline's export becomes gridcore's event journal.

`ingest_csv(path, mapping, index=None)` reads the export with a `CsvMapping`, checks
every row and turns each sound row into its case's events (`gridcore.io.intake`):
a report, and the steps to a close where the row is closed. Real exports are dirty;
a row is imported as far as it is sound and every problem is recorded as a
`Problem` (``row_id, problem, detail``), never dropped or accepted silently:

==========================  ============================================================
problem                     what happens to the row
==========================  ============================================================
``missing_id``              not imported (no case id); the row is named by its line
``duplicate_id``            not imported: the id was taken by an earlier row
``bad_time``                a created time that does not parse: not imported; a closing
                            or due time that does not parse: imported without it
``closed_before_created``   imported open, without its close
``closed_without_time``     the status says closed, no closing time: imported open
``open_with_closed_time``   a closing time but a status that is not closed: imported open
``due_before_created``      imported without its due time
``unmapped_category``       imported with the default category; without one, not imported
``missing_position``        imported to grid ``unrouted`` when routing by position
``bad_position``            a position that is not two finite numbers: as missing
``outside_territory``       a position no grid holds: imported to grid ``unrouted``
``missing_grid``            an empty grid column: imported to grid ``unrouted``
``nonexistent_local_time``  a naive time in a daylight-saving gap: imported as read
``refused``                 the transition table refused its events: not imported
==========================  ============================================================

`write_ingest(result, out_dir)` writes ``events.jsonl`` (the event JSON lines of
`gridcore.cases.event_to_json`, in time order) and ``quality.csv``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import attrs

from gridcore.cases import CaseEvent, CaseLog, event_to_json
from gridcore.errors import FileFormatError, GridcoreError
from gridcore.ids import AreaCode, CaseId, CategoryCode
from gridcore.io._output import new_output
from gridcore.io.atomic import write_text_atomic
from gridcore.io.intake import UNROUTED, Intake, grid_at, intake_events
from gridcore.io.mapping import CsvMapping, MappingError
from gridcore.routing import RoutingIndex

__all__ = [
    "PROBLEMS",
    "QUALITY_COLUMNS",
    "IngestResult",
    "Problem",
    "ingest_csv",
    "write_ingest",
]

QUALITY_COLUMNS: Final = ("row_id", "problem", "detail")
"""Header of quality.csv."""

PROBLEMS: Final = (
    "missing_id",
    "duplicate_id",
    "bad_time",
    "closed_before_created",
    "closed_without_time",
    "open_with_closed_time",
    "due_before_created",
    "unmapped_category",
    "missing_position",
    "bad_position",
    "outside_territory",
    "missing_grid",
    "nonexistent_local_time",
    "refused",
)
"""Every problem a row can be flagged with."""


@attrs.frozen
class Problem:
    """One problem of one row: its id (or ``line N``), the problem's name, the detail."""

    row_id: str
    problem: str
    detail: str


@attrs.frozen
class IngestResult:
    """What an ingest made: the events, the problems, and counts for the summary."""

    source: str
    rows: int
    events: tuple[CaseEvent, ...]
    problems: tuple[Problem, ...]
    cases: int
    closed: int
    grids: Mapping[str, int]
    """Cases per grid (``unrouted`` included)."""

    def summary(self) -> str:
        """A few lines for people: rows, cases, events, grids, problems by kind."""
        by_kind = Counter(p.problem for p in self.problems)
        unrouted = self.grids.get(UNROUTED, 0)
        lines = [
            f"{self.source}: {self.rows} rows -> {self.cases} cases "
            f"({self.closed} closed, {self.cases - self.closed} open), "
            f"{len(self.events)} events",
            f"grids: {len(self.grids) - (1 if unrouted else 0)} routed to, "
            f"{unrouted} cases unrouted",
            f"problems: {len(self.problems)}"
            + "".join(f"\n  {k}: {by_kind[k]}" for k in PROBLEMS if by_kind[k]),
        ]
        return "\n".join(lines)


@attrs.define
class _Rows:
    """The state of one ingest: the mapping, the problems so far, the ids seen."""

    mapping: CsvMapping
    index: RoutingIndex | None
    grid_column: str | None
    problems: list[Problem] = attrs.field(factory=list)
    seen: dict[str, int] = attrs.field(factory=dict)

    def flag(self, row_id: str, problem: str, detail: str) -> None:
        self.problems.append(Problem(row_id, problem, detail))

    def cell(self, row: Mapping[str, str | None], field: str) -> str:
        col = self.grid_column if field == "grid" else self.mapping.columns.get(field)
        if col is None:
            return ""
        return (row.get(col) or "").strip()

    def time(self, text: str, row_id: str, field: str) -> datetime | None:
        """An aware instant, or None (flagged bad_time when the text does not parse)."""
        if not text:
            return None
        fmt = self.mapping.datetime_format
        try:
            t = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
        except ValueError:
            shown = f"format {fmt!r}" if fmt else "ISO 8601"
            self.flag(row_id, "bad_time", f"{field} {text!r} does not parse ({shown})")
            return None
        if t.tzinfo is None:
            zone = self.mapping.timezone
            t = t.replace(tzinfo=zone)
            if t.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != t.replace(tzinfo=None):
                self.flag(
                    row_id,
                    "nonexistent_local_time",
                    f"{field} {text!r} falls in a daylight-saving gap of {zone.key}",
                )
        return t


def _before(a: datetime, b: datetime) -> bool:
    # Absolute instants: a same-zone comparison would go by wall clock across a DST fold.
    return a.astimezone(UTC) < b.astimezone(UTC)


def _category(st: _Rows, row: Mapping[str, str | None], row_id: str) -> CategoryCode | None:
    m = st.mapping
    if "category" not in m.columns:
        return m.default_category
    raw = st.cell(row, "category")
    code = m.categories.get(raw)
    if code is not None:
        return code
    if m.default_category is not None:
        st.flag(row_id, "unmapped_category", f"{raw!r} -> default {m.default_category!r}")
    else:
        st.flag(row_id, "unmapped_category", f"{raw!r}: no default category; not imported")
    return m.default_category


def _position(st: _Rows, row: Mapping[str, str | None], row_id: str) -> tuple[float, float] | None:
    if "lat" not in st.mapping.columns:
        return None
    lat_s, lon_s = st.cell(row, "lat"), st.cell(row, "lon")
    if not lat_s or not lon_s:
        st.flag(row_id, "missing_position", f"lat {lat_s!r}, lon {lon_s!r}")
        return None
    try:
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon)):
        st.flag(row_id, "bad_position", f"lat {lat_s!r}, lon {lon_s!r}: expected numbers")
        return None
    return lon, lat


def _grid(
    st: _Rows, pos: tuple[float, float] | None, row: Mapping[str, str | None], rid: str
) -> AreaCode:
    if st.index is not None:
        if pos is None:
            return UNROUTED
        grid = grid_at(st.index, *pos)
        if grid is None:
            st.flag(rid, "outside_territory", f"(lon, lat) = {pos} is in no grid")
            return UNROUTED
        return grid
    if st.grid_column is None:
        return UNROUTED
    cell = st.cell(row, "grid")
    if not cell:
        st.flag(rid, "missing_grid", f"column {st.grid_column!r} is empty")
        return UNROUTED
    return AreaCode(cell)


def _closing(
    st: _Rows, row: Mapping[str, str | None], rid: str, created: datetime
) -> datetime | None:
    closed = st.time(st.cell(row, "closed"), rid, "closed")
    status = st.cell(row, "status")
    says_closed = status.lower() in st.mapping.closed_statuses
    if "status" in st.mapping.columns and not says_closed and closed is not None:
        st.flag(rid, "open_with_closed_time", f"status {status!r} with closed {closed.isoformat()}")
        return None
    if says_closed and closed is None and st.cell(row, "closed") == "":
        st.flag(rid, "closed_without_time", f"status {status!r}, no closing time")
        return None
    if closed is not None and _before(closed, created):
        st.flag(
            rid,
            "closed_before_created",
            f"closed {closed.isoformat()} < created {created.isoformat()}; imported open",
        )
        return None
    return closed


def _intake(st: _Rows, row: Mapping[str, str | None], line: int) -> Intake | None:
    rid = st.cell(row, "id")
    if not rid:
        st.flag(f"line {line}", "missing_id", "no id: not imported")
        return None
    if rid in st.seen:
        st.flag(rid, "duplicate_id", f"line {line}: id taken at line {st.seen[rid]}; not imported")
        return None
    st.seen[rid] = line
    created_s = st.cell(row, "created")
    created = st.time(created_s, rid, "created")
    if created is None:
        if not created_s:
            st.flag(rid, "bad_time", "no created time: not imported")
        else:
            st.flag(rid, "bad_time", "created time does not parse: not imported")
        return None
    category = _category(st, row, rid)
    if category is None:
        return None
    pos = _position(st, row, rid)
    grid = _grid(st, pos, row, rid)
    closed = _closing(st, row, rid, created)
    due = st.time(st.cell(row, "due"), rid, "due")
    if due is not None and _before(due, created):
        st.flag(rid, "due_before_created", f"due {due.isoformat()} < created; dropped")
        due = None
    details: dict[str, str | float] = {"source_id": rid}
    if pos is not None:
        details["long"], details["lat"] = pos
    for f in ("address", "description", "status"):
        if st.cell(row, f):
            details[f] = st.cell(row, f)
    return Intake(
        case_id=CaseId(rid),
        created=created,
        grid=grid,
        category=category,
        owner=st.cell(row, "owner") or None,
        due=due,
        closed=closed,
        details=details,
    )


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The header and the rows, each with the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FileFormatError(str(path), "", "", f"a readable file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(str(path), f"byte {exc.start}", "", "UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str | None]]] = []
    try:
        header = list(reader.fieldnames or [])
        start = reader.line_num + 1
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileFormatError(str(path), f"line {reader.line_num}", "", "CSV", str(exc)) from None
    return header, rows


def ingest_csv(
    path: str | os.PathLike[str], mapping: CsvMapping, *, index: RoutingIndex | None = None
) -> IngestResult:
    """Read a 311 CSV export into events and problems (see the module docs).

    With `index` cases are routed by position (the mapping's lat/lon columns); without
    it, to the grid named by the mapping's ``grid`` column (or a column named ``grid``),
    else to ``unrouted``.
    """
    p = Path(path)
    header, table = _read_csv(p)
    for field, col in mapping.columns.items():
        if col not in header:
            raise MappingError(str(p), f"columns.{field}", f"a column of the file {header}", col)
    if "category" not in mapping.columns and mapping.default_category is None:
        raise MappingError(str(p), "columns.category", "a category column or a default category")
    if index is not None and "lat" not in mapping.columns:
        raise MappingError(str(p), "columns.lat/lon", "position columns to route by (--city)")
    grid_col = mapping.columns.get("grid") or ("grid" if "grid" in header else None)
    st = _Rows(mapping, index, grid_col)
    log = CaseLog()
    grids: Counter[str] = Counter()
    rows = closed = 0
    for line, row in table:
        rows += 1
        rec = _intake(st, row, line)
        if rec is None:
            continue
        try:
            events = intake_events(rec, source=mapping.name)
            for e in events:
                log.append(e)
        except GridcoreError as exc:  # pragma: no cover - the checks above prevent it
            st.flag(rec.case_id, "refused", f"{exc}; not imported")
            continue
        grids[rec.grid] += 1
        closed += rec.closed is not None
    ordered = sorted(log.all_events(), key=lambda e: e.at.astimezone(UTC))
    return IngestResult(
        source=str(p),
        rows=rows,
        events=tuple(ordered),
        problems=tuple(st.problems),
        cases=len(log),
        closed=closed,
        grids=dict(sorted(grids.items())),
    )


def write_ingest(
    result: IngestResult, out_dir: str | os.PathLike[str], *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Write ``events.jsonl`` and ``quality.csv`` into `out_dir` (made if missing)."""
    d = Path(out_dir)
    events_p = new_output(d / "events.jsonl", overwrite=overwrite)
    quality_p = new_output(d / "quality.csv", overwrite=overwrite)
    d.mkdir(parents=True, exist_ok=True)
    write_text_atomic(events_p, "".join(event_to_json(e) + "\n" for e in result.events))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(QUALITY_COLUMNS)
    for pr in result.problems:
        w.writerow((pr.row_id, pr.problem, pr.detail))
    write_text_atomic(quality_p, buf.getvalue(), newline="")
    return events_p, quality_p
