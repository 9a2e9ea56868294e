"""Traces: arrivals (and service times) read from a file instead of drawn.

`read_queue_trace(path)` reads the queue-only trace, a CSV with the columns
`arrival_minutes,service_minutes` (minutes since the run's start, arrivals in
non-decreasing order). `incident_trace(path)` reads the grid model's: the `report` events
of a case log (event JSON lines, `.jsonl`), or a CSV with the columns `instant` (ISO 8601
with an offset), `category`, and `grid` or `x`,`y` (a position the routing index locates),
and optionally `channel`. Each incident keeps its report channel (the log's
`payload.channel`; "resident" when none is given): `patrol` is a latent incident a patrol
found, any other channel a report by the public.
A bad file gets a `FileFormatError` naming the file, the line, the column and the value.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.errors import FileFormatError

__all__ = ["IncidentTrace", "QueueTrace", "incident_trace", "read_queue_trace"]

_QUEUE_COLUMNS = ("arrival_minutes", "service_minutes")


@attrs.frozen(eq=False)
class QueueTrace:
    """Customers of a queue-only trace: arrival instants and service times, in minutes."""

    arrival_minutes: npt.NDArray[np.float64]
    service_minutes: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.arrival_minutes.size)


def _number(path: str, line: int, column: str, raw: str) -> float:
    try:
        x = float(raw)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0.0:
        raise FileFormatError(path, f"line {line}", column, "a number of minutes >= 0", raw)
    return x


def read_queue_trace(path: str | Path) -> QueueTrace:
    """Read `arrival_minutes,service_minutes` rows; arrivals must not decrease.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "t.csv")
    ...     _ = open(p, "w").write("arrival_minutes,service_minutes\\n0,30\\n10,5\\n")
    ...     t = read_queue_trace(p)
    >>> (t.arrival_minutes.tolist(), t.service_minutes.tolist())
    ([0.0, 10.0], [30.0, 5.0])
    """
    p = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(p, "", "", "a readable UTF-8 CSV file", str(exc)) from None
    if not rows or tuple(c.strip() for c in rows[0]) != _QUEUE_COLUMNS:
        got = ",".join(rows[0]) if rows else ""
        raise FileFormatError(p, "line 1", "", "the header arrival_minutes,service_minutes", got)
    arrivals: list[float] = []
    services: list[float] = []
    last = 0.0
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise FileFormatError(p, f"line {line}", "", "two values", ",".join(row))
        a = _number(p, line, "arrival_minutes", row[0].strip())
        s = _number(p, line, "service_minutes", row[1].strip())
        if a < last:
            raise FileFormatError(
                p, f"line {line}", "arrival_minutes", f"arrivals in order (>= {last:g})", row[0]
            )
        last = a
        arrivals.append(a)
        services.append(s)
    return QueueTrace(np.array(arrivals, np.float64), np.array(services, np.float64))


@attrs.frozen(eq=False)
class IncidentTrace:
    """Incidents of a trace: report instants (µs UTC), grid codes ("" when given by
    position), positions (NaN when given by grid), category codes and report channels, in
    file order."""

    at_us: npt.NDArray[np.int64]
    grid: tuple[str, ...]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    category: tuple[str, ...]
    channel: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.at_us.size)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RESIDENT = "resident"
"""The channel of a traced incident whose file gives none."""
_Row = tuple[int, str, float, float, str, str]


def _instant_us(path: str, where: str, field: str, raw: object) -> int:
    try:
        d = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        d = None
    if d is None or d.tzinfo is None:
        raise FileFormatError(path, where, field, "an ISO 8601 instant with an offset", raw)
    return (d - _EPOCH) // timedelta(microseconds=1)


@lru_cache(maxsize=4)
def incident_trace(path: str) -> IncidentTrace:
    """The incidents of a trace file (cached per process: every street reads it)."""
    rows: list[_Row] = []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if path.lower().endswith((".jsonl", ".json")):
                for n, line in enumerate(f, start=1):
                    if line.strip():
                        rows.extend(_report_of(path, n, line))
            else:
                rows = _csv_incidents(path, list(csv.DictReader(f)))
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, "", "", "a readable UTF-8 trace file", str(exc)) from None
    return IncidentTrace(
        np.array([r[0] for r in rows], np.int64),
        tuple(r[1] for r in rows),
        np.array([r[2] for r in rows], np.float64),
        np.array([r[3] for r in rows], np.float64),
        tuple(r[4] for r in rows),
        tuple(r[5] for r in rows),
    )


def _report_of(path: str, n: int, line: str) -> list[_Row]:
    """The incident of one event line if it is a report (others are not incidents)."""
    where = f"line {n}"
    try:
        d = json.loads(line)
    except ValueError:
        raise FileFormatError(path, where, "", "an event as JSON", line[:80]) from None
    if not isinstance(d, dict) or d.get("action") != "report":
        return []
    pay = d.get("payload")
    if not isinstance(pay, dict):
        raise FileFormatError(path, where, "payload", "a table with grid and category", pay)
    grid, cat = pay.get("grid"), pay.get("category")
    if not isinstance(grid, str) or not grid:
        raise FileFormatError(path, where, "payload.grid", "a grid code", grid)
    if not isinstance(cat, str) or not cat:
        raise FileFormatError(path, where, "payload.category", "a category code", cat)
    channel = pay.get("channel", RESIDENT)
    if not isinstance(channel, str) or not channel:
        raise FileFormatError(path, where, "payload.channel", "a channel name", channel)
    at = _instant_us(path, where, "at", d.get("at"))
    return [(at, grid, math.nan, math.nan, cat, channel)]


def _csv_incidents(path: str, rows: list[dict[str, str]]) -> list[_Row]:
    out = []
    for n, row in enumerate(rows, start=2):
        where = f"line {n}"
        cat = (row.get("category") or "").strip()
        if not cat:
            raise FileFormatError(path, where, "category", "a category code", row.get("category"))
        at = _instant_us(path, where, "instant", (row.get("instant") or "").strip())
        grid = (row.get("grid") or "").strip()
        x = y = math.nan
        if not grid:
            try:
                x, y = float(row.get("x") or ""), float(row.get("y") or "")
            except ValueError:
                x = math.nan
            if not (math.isfinite(x) and math.isfinite(y)):
                raise FileFormatError(path, where, "grid", "a grid code, or numbers x and y", row)
        channel = (row.get("channel") or "").strip() or RESIDENT
        out.append((at, grid, x, y, cat, channel))
    return out
