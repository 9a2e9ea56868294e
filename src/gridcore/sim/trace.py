"""Traces: arrivals (and service times) read from a file instead of drawn.

`read_queue_trace(path)` reads the queue-only trace, a CSV with the columns
`arrival_minutes,service_minutes` (minutes since the run's start, arrivals in
non-decreasing order). A bad file gets a `FileFormatError` naming the file, the line,
the column and the value.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.errors import FileFormatError

__all__ = ["QueueTrace", "read_queue_trace"]

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
