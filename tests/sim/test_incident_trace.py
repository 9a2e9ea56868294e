"""The grid model replaying real arrivals (`incidents.trace`): incidents reported exactly
when, where and as what the log says; the rest of the model runs as configured."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridcore.cases import event_to_json
from gridcore.errors import FileFormatError
from gridcore.sim.inputs import city_for
from gridcore.sim.model import partition_events, partitions
from gridcore.sim.scenario import Scenario, apply_overrides, load_scenario, preset_scenario
from gridcore.sim.trace import incident_trace

SH = ZoneInfo("Asia/Shanghai")


def _events(s: Scenario) -> list:
    out: list = []
    for j in range(len(partitions(s))):
        out.extend(partition_events(s, 0, j)[1])
    return out


def _reports(events: list) -> list[tuple[datetime, str, str]]:
    return sorted(
        (e.at, e.payload["grid"], e.payload["category"]) for e in events if e.action == "report"
    )


def _channels(events: list) -> list[tuple[datetime, str, str, str]]:
    return sorted(
        (e.at, e.payload["grid"], e.payload["category"], e.payload["channel"])
        for e in events
        if e.action == "report"
    )


def test_a_csv_trace_is_reported_exactly_as_written(tmp_path: Path) -> None:
    """Three incidents (two by grid code, one by position): three reports at those instants,
    in those grids, of those categories; nothing drawn besides."""
    base = apply_overrides(preset_scenario("shibanxi"), {"run.days": 2, "run.replications": 1})
    h = city_for(base)
    grids = [h.area(code) for code in sorted(h.grids)]
    g0, g1, g2 = grids[0], grids[3], grids[7]
    pt = g2.polygon.representative_point()
    t0 = datetime(2025, 3, 3, tzinfo=SH)
    rows = [
        (t0 + timedelta(hours=9, minutes=5), g0.code, "", "", "E0101"),
        (t0 + timedelta(hours=30), g1.code, "", "", "C0301"),
        (t0 + timedelta(hours=14, seconds=30), "", repr(pt.x), repr(pt.y), "G0801"),
    ]
    text = "instant,grid,x,y,category\n" + "".join(
        f"{a.isoformat()},{g},{x},{y},{c}\n" for a, g, x, y, c in rows
    )
    (tmp_path / "trace.csv").write_text(text)
    (tmp_path / "s.toml").write_text(
        '[run]\ndays = 2\nreplications = 1\n[city]\npreset = "shibanxi"\n'
        '[incidents]\ntrace = "trace.csv"\n'
    )
    s = load_scenario(tmp_path / "s.toml")
    assert s.incidents.trace == str(tmp_path / "trace.csv")
    got = _reports(_events(s))
    assert got == sorted(
        [
            (rows[0][0], g0.code, "E0101"),
            (rows[1][0], g1.code, "C0301"),
            (rows[2][0], g2.code, "G0801"),
        ]
    )


def test_a_simulated_log_replays_its_own_reports(tmp_path: Path) -> None:
    """The events.jsonl of a run, replayed with three workers a grid: the same reports (when,
    where, what), handled by the new staffing."""
    s = apply_overrides(preset_scenario("shibanxi"), {"run.days": 3, "run.replications": 1})
    events = _events(s)
    log = tmp_path / "events.jsonl"
    log.write_text("".join(event_to_json(e) + "\n" for e in events))
    replay = apply_overrides(s, {"incidents.trace": str(log), "staffing.workers_per_grid": 3.0})
    again = _events(replay)
    assert _reports(again) == _reports(events)
    assert {e.case_id for e in again if e.action == "close"}


def test_a_replayed_log_keeps_each_report_channel(tmp_path: Path) -> None:
    """A log with patrol finds (resident share 0.5) replays with the same channel per case:
    a patrol find is reported by a grid worker and verified at its report's instant; a
    resident's report waits for a worker to verify it."""
    s = apply_overrides(
        preset_scenario("shibanxi"),
        {"run.days": 3, "run.replications": 1, "incidents.resident_share": 0.5},
    )
    events = _events(s)
    assert {c for *_, c in _channels(events)} == {"resident", "patrol"}
    log = tmp_path / "events.jsonl"
    log.write_text("".join(event_to_json(e) + "\n" for e in events))
    again = _events(apply_overrides(s, {"incidents.trace": str(log)}))
    assert _channels(again) == _channels(events)
    by_case: dict[str, list] = {}
    for e in again:
        by_case.setdefault(e.case_id, []).append(e)
    patrol = [evs for evs in by_case.values() if evs[0].payload.get("channel") == "patrol"]
    assert patrol
    for evs in patrol:
        assert evs[0].actor != "resident" and evs[0].role == "grid_worker"
        assert evs[1].action == "verify" and evs[1].at == evs[0].at


def test_a_csv_trace_channel_column_is_honoured(tmp_path: Path) -> None:
    """A CSV trace's optional channel column: patrol finds verified on the spot, a hotline
    call reported as such; rows without a channel are residents' reports."""
    base = apply_overrides(preset_scenario("shibanxi"), {"run.days": 1, "run.replications": 1})
    g = sorted(city_for(base).grids)[0]
    t0 = datetime(2025, 3, 3, tzinfo=SH)
    at = [t0 + timedelta(hours=h) for h in (9, 10, 11)]
    (tmp_path / "trace.csv").write_text(
        "instant,grid,category,channel\n"
        f"{at[0].isoformat()},{g},E0101,patrol\n"
        f"{at[1].isoformat()},{g},E0101,12345\n"
        f"{at[2].isoformat()},{g},E0101,\n"
    )
    s = apply_overrides(base, {"incidents.trace": str(tmp_path / "trace.csv")})
    got = _channels(_events(s))
    assert [(a, c) for a, _, _, c in got] == [
        (at[0], "patrol"),
        (at[1], "12345"),
        (at[2], "resident"),
    ]


def test_no_trace_keeps_the_dumped_scenario_as_it_was() -> None:
    """Without a trace the scenario's mapping has no trace key (golden outputs unchanged)."""
    assert "trace" not in preset_scenario("yichang").to_dict()["incidents"]


@pytest.mark.parametrize(
    ("text", "where", "field"),
    [
        ("instant,grid,category\nyesterday,g,E0101\n", "line 2", "instant"),
        ("instant,grid,category\n2025-03-03T08:00:00+08:00,g,\n", "line 2", "category"),
        ("instant,x,y,category\n2025-03-03T08:00:00+08:00,a,1,E0101\n", "line 2", "grid"),
    ],
)
def test_a_bad_incident_trace_names_file_line_and_column(
    tmp_path: Path, text: str, where: str, field: str
) -> None:
    """A bad row is a FileFormatError naming the file, the line and the column."""
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(FileFormatError) as info:
        incident_trace(str(p))
    assert (info.value.path, info.value.where, info.value.field) == (str(p), where, field)
