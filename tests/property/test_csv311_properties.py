"""311 CSV ingest: every row is imported or flagged as not imported, never lost."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.cases import Action, CaseLog
from gridcore.io.csv311 import ingest_csv
from gridcore.io.mapping import read_csv_mapping

MAPPING = """
[source]
name = "hotline"
timezone = "America/New_York"
closed_statuses = ["Closed"]
[columns]
id = "id"
created = "created"
closed = "closed"
due = "due"
category = "type"
owner = "agency"
status = "status"
grid = "grid"
[categories]
"Noise" = "G0701"
"Pothole" = "C0201"
"""

HEADER = ["id", "created", "closed", "due", "type", "agency", "status", "grid"]

_times = st.sampled_from(
    [
        "",
        "2024-01-08T10:00:00",
        "2024-01-08T09:00:00",
        "2024-01-09T10:00:00-05:00",
        "2024-03-10T02:30:00",
        "2024-11-03T01:30:00",
        "not a time",
        "2024-02-30T00:00:00",
    ]
)
_rows = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["", "1", "2", "3", "4", "5", " 6 "]),
        "created": _times,
        "closed": _times,
        "due": _times,
        "type": st.sampled_from(["Noise", "Pothole", "Dead Animal", ""]),
        "agency": st.sampled_from(["", "NYPD", "DOT"]),
        "status": st.sampled_from(["Closed", "closed", "Open", "Assigned", ""]),
        "grid": st.sampled_from(["", "g1", "g2"]),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_rows, max_size=12), st.booleans())
def test_every_row_is_a_case_or_flagged_not_imported(
    rows: list[dict[str, str]], default: bool
) -> None:
    """cases + rows flagged 'not imported' = rows; the events replay; closes match."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HEADER)
    w.writeheader()
    w.writerows(rows)
    with tempfile.TemporaryDirectory() as d:
        p, m = Path(d) / "x.csv", Path(d) / "m.toml"
        p.write_text(buf.getvalue(), encoding="utf-8")
        m.write_text(MAPPING + ('default = "G1001"\n' if default else ""), encoding="utf-8")
        result = ingest_csv(p, read_csv_mapping(m))
    skipped = [x for x in result.problems if "not imported" in x.detail]
    assert result.rows == len(rows)
    assert result.cases + len(skipped) == len(rows)
    log = CaseLog()
    for e in result.events:
        log.append(e)
    assert len(log) == result.cases
    closes = sum(e.action is Action.CLOSE for e in result.events)
    assert closes == result.closed
