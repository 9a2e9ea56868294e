"""`gridcore simulate --events`: the run's case log as event JSON lines, in the sealed
results folder, read back by the journal's reader and by `gridcore calibrate`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from gridcore.cases import event_from_json
from gridcore.cli import main
from gridcore.io.folder import verify


def test_simulate_events_writes_the_runs_case_log(tmp_path: Path) -> None:
    """events.jsonl holds replication 0's measured cases (as many as its `cases` metric),
    each numbered 1, 2, 3..., and the folder's manifest lists it."""
    out = tmp_path / "run"
    code = main(
        [
            "simulate",
            "--preset",
            "shibanxi",
            "--days",
            "3",
            "--replications",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(out),
            "--events",
        ]
    )
    assert code == 0
    events = [event_from_json(x) for x in (out / "events.jsonl").read_text().splitlines()]
    assert "events.jsonl" in verify(out)["files"]
    with open(out / "replications.csv") as f:
        cases = float(next(csv.DictReader(f))["cases"])
    by_case: dict[str, list[int]] = {}
    for e in events:
        by_case.setdefault(e.case_id, []).append(e.seq)
    assert len(by_case) == cases
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_case.values())
    # the same folder calibrates
    city = out / "city.geojson"
    fitted = tmp_path / "fitted.toml"
    assert (
        main(["calibrate", str(out / "events.jsonl"), "--city", str(city), "--out", str(fitted)])
        == 0
    )
    assert json.loads((tmp_path / "fitted.json").read_text())["fitted"]


def test_events_need_an_out_folder(tmp_path: Path) -> None:
    """--events without --out is refused (exit 2) before anything runs."""
    assert main(["simulate", "--preset", "shibanxi", "--days", "1", "--events", "--quiet"]) == 2
