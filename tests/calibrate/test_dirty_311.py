"""A real-style dirty log: an NYC-style 311 export through `gridcore ingest csv`, then
`gridcore calibrate`: it runs, says which fits fail or could not be made, never crashes."""

from __future__ import annotations

import json
from pathlib import Path

from gridcore.cli import main

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples" / "open311"


def test_an_ingested_311_export_calibrates_and_reports_what_fails(tmp_path: Path) -> None:
    """The sample's closed-before-created, missing positions, bad times... are ingested as
    far as sound; the calibration then fits what a 311 log shows (arrivals, categories),
    lists the keys it cannot fit (no handling steps in a 311 export) and exits 0."""
    ingested = tmp_path / "ingested"
    assert (
        main(
            [
                "ingest",
                "csv",
                str(EX / "nyc311_sample.csv"),
                "--mapping",
                str(EX / "nyc311.toml"),
                "--city",
                str(EX / "lower_manhattan.geojson"),
                "--out",
                str(ingested),
            ]
        )
        == 0
    )
    out = tmp_path / "fitted.toml"
    assert (
        main(
            [
                "calibrate",
                str(ingested / "events.jsonl"),
                "--city",
                str(EX / "lower_manhattan.geojson"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads((tmp_path / "fitted.json").read_text())
    assert "incidents.per_1000_households_per_day" in doc["fitted"]
    assert "times.handle_grid" in doc["not_fitted"]
    # the import writes its synthetic steps at one instant: no time, so not fitted
    assert "every complete value is 0" in doc["not_fitted"]["times.dispatch"]
    assert "every complete value is 0" in doc["not_fitted"]["times.verify"]
    assert "routing.return_delay" in doc["not_fitted"]
    # every report is a 311 call, the public's: the resident share is 1, and says why
    share = doc["fitted"]["incidents.resident_share"]
    assert share["estimate"] == 1.0 and share["channels"] == {"311": share["sample_size"]}
    assert "no report in the log came from a patrol" in share["note"]
    assert isinstance(doc["failing_tests"], list)
