"""The per-case table of a results folder (and its case events), written street by street
as a run goes.

A long or large run has more cases than it should hold in memory, so its per-case rows
(`CASE_COLUMNS`, after `replication`) are appended to the folder as each street is
folded in (`gridcore.sim.model.ReplicationFold`), in (replication, street) order:

- `cases.parquet` through pyarrow, one row group a street (`format="parquet"`);
- `cases.csv`, the cell format of every gridcore CSV (`gridcore.io.tables.cell_text`),
  byte for byte the file `ScenarioResult.write` makes from rows kept in memory
  (`format="csv"`).

With `events=True` the file also takes replication 0's case events as JSON lines
(`events.jsonl`, the format `gridcore.cases.event_to_json` writes), street by street.

`format="auto"` (the default) is Parquet when pyarrow is installed, else CSV. pandas and
polars read both (`pandas.read_parquet`, `polars.read_csv`, ...). The bytes of a Parquet
file depend on the pyarrow version that wrote it (it names itself in the footer); for one
version they depend only on the scenario and seed. Either file is created new (never
over an existing file) inside the folder being written, which `gridcore.io.folder`
renames into place only when the run is complete.
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from gridcore.errors import ConfigError
from gridcore.io.tables import cell_text
from gridcore.sim.model.merge import CASE_COLUMNS

__all__ = ["TABLE_FORMATS", "CaseRowsFile", "case_table_format", "open_case_rows"]

TABLE_FORMATS = ("auto", "csv", "parquet")
"""The accepted values of `--tables` and `case_table_format`."""

_COLUMNS = ("replication", *CASE_COLUMNS)


def case_table_format(spec: str) -> str:
    """`"csv"` or `"parquet"` for a `TABLE_FORMATS` value (auto: Parquet with pyarrow)."""
    if spec not in TABLE_FORMATS:
        raise ConfigError(f"table format {spec!r}: expected one of {', '.join(TABLE_FORMATS)}")
    has_arrow = importlib.util.find_spec("pyarrow") is not None
    if spec == "parquet" and not has_arrow:
        raise ConfigError(
            "table format 'parquet': pyarrow is not installed "
            "(pip install 'gridcore[report]'), or use 'csv'"
        )
    if spec == "auto":
        return "parquet" if has_arrow else "csv"
    return spec


class CaseRowsFile:
    """An open per-case table in a folder: `write(replication, rows)` appends one street's
    rows; `close()` finishes the file (a context manager closes it)."""

    def __init__(self, folder: str | Path, fmt: str, events: bool = False) -> None:
        self.format = case_table_format(fmt)
        self.path = Path(folder) / f"cases.{self.format}"
        self.rows = 0
        self._events: IO[str] | None = None
        if events:
            self._events = open(Path(folder) / "events.jsonl", "x", encoding="utf-8")  # noqa: SIM115
        self._arrow: Any = None
        self._writer: Any = None
        self._fh: IO[Any]
        if self.format == "csv":
            self._fh = open(self.path, "x", encoding="utf-8", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._fh, lineterminator="\n")
            self._csv.writerow(_COLUMNS)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._arrow = pa
            self._schema = pa.schema(
                [
                    ("replication", pa.int64()),
                    ("grid", pa.string()),
                    ("category", pa.string()),
                    ("level", pa.string()),
                    ("response_minutes", pa.float64()),
                    ("resolution_minutes", pa.float64()),
                    ("on_time", pa.bool_()),
                ]
            )
            self._fh = open(self.path, "xb")  # noqa: SIM115
            self._writer = pq.ParquetWriter(self._fh, self._schema)

    def write(self, replication: int, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append one street's rows (`CASE_COLUMNS` each), under `replication`."""
        if self.format == "csv":
            self._csv.writerows([str(replication), *map(cell_text, r)] for r in rows)
        elif rows:
            columns = list(zip(*rows, strict=True))
            arrays = [[replication] * len(rows), *(list(c) for c in columns)]
            pa, schema = self._arrow, self._schema
            table = pa.Table.from_arrays(
                [pa.array(a, type=f.type) for a, f in zip(arrays, schema, strict=True)],
                schema=schema,
            )
            self._writer.write_table(table)
        self.rows += len(rows)

    def write_events(self, replication: int, lines: str) -> None:
        """Append one street's case events (JSON lines) to `events.jsonl`."""
        if self._events is None:
            raise ValueError("write_events: this table was opened without events=True")
        self._events.write(lines)

    def close(self) -> None:
        """Finish the files (Parquet: its footer); safe to call twice."""
        if self._events is not None and not self._events.closed:
            self._events.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> CaseRowsFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_case_rows(folder: str | Path, fmt: str = "auto", events: bool = False) -> CaseRowsFile:
    """A new per-case table in `folder` (`cases.csv` or `cases.parquet`, see the module),
    and with `events` a new `events.jsonl` for the case events."""
    return CaseRowsFile(folder, fmt, events)
