"""Table and record writers shared by the edges (results folders, sweeps): CSV and JSON.

One cell format for every CSV gridcore writes: empty for None, NaN and infinities,
`true`/`false` for booleans, `repr` for other floats (round-trips exactly), JSON for lists,
tuples and dicts, `str` for the rest. Files are written atomically (`gridcore.io.atomic`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gridcore.io.atomic import json_safe, write_text_atomic

__all__ = ["cell_text", "csv_text", "json_text", "write_csv", "write_json"]


def cell_text(value: Any) -> str:
    """The CSV text of one cell.

    >>> [cell_text(v) for v in (None, True, 0.1, float("nan"), 3, [1, "a"])]
    ['', 'true', '0.1', '', '3', '[1, "a"]']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV text: a header of `columns`, then one line per row ("\\n" line ends)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([cell_text(v) for v in r])
    return buf.getvalue()


def write_csv(
    path: str | os.PathLike[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Path:
    """Write `csv_text(columns, rows)` to `path` atomically; returns the path."""
    return write_text_atomic(path, csv_text(columns, rows), newline="")


def json_text(data: Any, *, indent: int = 2, sort_keys: bool = True) -> str:
    """Strict JSON text of `data` (NaN and infinities as null, other objects `str`)."""
    text = json.dumps(
        json_safe(data), indent=indent, sort_keys=sort_keys, ensure_ascii=False, default=str
    )
    return text + "\n"


def write_json(
    path: str | os.PathLike[str], data: Any, *, indent: int = 2, sort_keys: bool = True
) -> Path:
    """Write `json_text(data)` to `path` atomically; returns the path."""
    return write_text_atomic(path, json_text(data, indent=indent, sort_keys=sort_keys))
