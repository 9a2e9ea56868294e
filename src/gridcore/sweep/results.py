"""Reading results back: a result's scalar metrics, result tables, result folders.

`load_results` reads a sweep folder, a single-run folder or a comparison folder as a
table; `read_csv_rows` is the plain-CSV reader the report uses too.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from gridcore.errors import FileFormatError

__all__ = ["flatten_metrics", "load_results", "read_csv_rows"]


def flatten_metrics(result: Any, prefix: str = "") -> dict[str, float]:
    """The finite-or-NaN scalar numbers of a result, by dotted name (lists are left out).

    A result with ``as_dict()`` (a `ReplicationResult`: its metrics) gives that; else
    ``to_dict()``, an attrs value or a mapping is walked. Booleans become 0/1.

    >>> flatten_metrics({"wait": {"mean": 2.0, "n": 3}, "ok": True, "rows": [1, 2]})
    {'wait.mean': 2.0, 'wait.n': 3.0, 'ok': 1.0}
    """
    data: Any = result
    if not prefix:
        if callable(getattr(result, "as_dict", None)):  # gridcore.sim ReplicationResult
            data = result.as_dict()
        elif callable(getattr(result, "to_dict", None)):
            data = result.to_dict()
        elif attrs.has(type(result)):
            data = attrs.asdict(result)
    out: dict[str, float] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            key = f"{prefix}{k}"
            if isinstance(v, int | float):  # bool is an int: True -> 1.0
                out[key] = float(v)
            elif isinstance(v, Mapping) or attrs.has(type(v)):
                inner = attrs.asdict(v) if attrs.has(type(v)) else v
                out.update(flatten_metrics(inner, key + "."))
    return out


def _convert(text: str) -> Any:
    if text == "":
        return math.nan
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def read_csv_rows(path: str | Path, text_columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """A CSV file as a list of dicts, numbers converted (empty cells become NaN).

    Columns in `text_columns` stay strings (codes such as ``"0101"`` keep their zeros).
    """
    from gridcore.io.text import read_text

    keep = set(text_columns)
    text = read_text(path, "a CSV table")
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, [])
            out = []
            for row in reader:
                if not row:  # a blank line (DictReader skipped them too)
                    continue
                if len(row) != len(header):
                    raise FileFormatError(
                        str(path), f"line {reader.line_num}", "", f"{len(header)} fields", len(row)
                    )
                out.append(
                    {k: v if k in keep else _convert(v) for k, v in zip(header, row, strict=True)}
                )
        except csv.Error as exc:
            raise FileFormatError(
                str(path), f"line {reader.line_num}", "", f"valid CSV ({exc})"
            ) from None
    return out


def load_results(path: str | Path, table: str | None = None) -> Any:
    """Results of a sweep folder or a single-run folder as a table.

    A sweep folder (it has ``sweep.json``) gives one row per run: the point, its swept
    fields, the replication, key, status and every scalar metric (``runs.csv``);
    ``table="aggregate"`` gives the aggregate instead. A run folder (``summary.json``
    from ``gridcore simulate``) gives its ``replications.csv`` table when it has one, or
    ``table="NAME"`` loads ``NAME.csv`` (for example ``grids``); a comparison folder gives
    ``comparison.csv`` (per metric: base, what-if, difference, interval). The result is a
    ``pandas.DataFrame`` when pandas is installed, else a list of dicts (one per row,
    numbers converted), which ``polars.DataFrame(rows)`` also takes.
    """
    d = Path(path)
    if not d.is_dir():
        raise FileFormatError(str(d), "", "", "a sweep or run results folder")
    if (d / "sweep.json").exists():
        name = table or "runs"
    elif (d / "comparison.csv").exists():
        name = table or "comparison"
    elif (d / "summary.json").exists():
        name = table or "replications"
        if table is None and not (d / "replications.csv").exists():
            from gridcore.io.text import read_text

            try:
                summary = json.loads(read_text(d / "summary.json", "a summary.json"))
            except (json.JSONDecodeError, RecursionError) as exc:
                raise FileFormatError(
                    str(d / "summary.json"), "", "", "valid JSON", str(exc)
                ) from None
            return _frame([flatten_metrics(summary)])
    else:
        raise FileFormatError(
            str(d), "", "", "a folder with sweep.json, comparison.csv or summary.json"
        )
    csv_path = d / f"{name}.csv"
    if not csv_path.exists():
        have = sorted(x.stem for x in d.glob("*.csv"))
        raise FileFormatError(str(csv_path), "", "table", f"one of the tables {have}", name)
    try:
        import pandas as pd
    except ImportError:
        return read_csv_rows(csv_path)
    return pd.read_csv(csv_path)


def _frame(rows: list[dict[str, Any]]) -> Any:
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)
