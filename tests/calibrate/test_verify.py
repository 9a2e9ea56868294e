"""`times.verify` from a log: the verification measured from the instant its work began,
known only where nothing unlogged (duties) can have kept the worker busy."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridcore.calibrate import read_event_log
from gridcore.calibrate._durations import action_mask, first_per_case
from gridcore.calibrate._verify import VerifySteps, verify_steps
from gridcore.sim.inputs import calendars_for
from gridcore.sim.scenario import Scenario

SH = ZoneInfo("Asia/Shanghai")


def _line(case: str, seq: int, at: str, actor: str, action: str, **payload: object) -> str:
    return json.dumps(
        {
            "case_id": case,
            "seq": seq,
            "at": at + "+08:00",
            "actor": actor,
            "action": action,
            "to_state": action,
            "payload": payload,
        }
    )


def _case(case: str, reported: str, verified: str | None, severity: int = 1) -> list[str]:
    out = [_line(case, 1, reported, "resident", "report", severity=severity, channel="resident")]
    if verified:
        out.append(_line(case, 2, verified, "w1", "verify"))
    return out


@pytest.fixture
def verified(tmp_path: Path) -> VerifySteps:
    """A hand-written log of one grid worker w1 (default duties: on call 07:00-22:00,
    working 08:30-12:00 and 14:00-17:30 on working days, patrols and blocks of 60 min);
    2025-03-03 is a Monday, 2025-03-09 a Sunday."""
    lines = [
        *_case("evening", "2025-03-03T20:00:00", "2025-03-03T20:30:00"),
        *_case("night", "2025-03-03T23:00:00", "2025-03-04T07:20:00"),
        *_case("urgent", "2025-03-04T23:30:00", "2025-03-04T23:50:00", severity=4),
        *_case("duties", "2025-03-05T10:00:00", "2025-03-05T11:30:00"),
        *_case("late_duties", "2025-03-05T18:00:00", "2025-03-05T18:40:00"),
        *_case("sunday", "2025-03-09T10:00:00", "2025-03-09T10:12:00"),
        *_case("busy", "2025-03-09T20:00:00", "2025-03-09T20:25:00"),
        _line("other", 1, "2025-03-09T19:00:00", "desk", "register"),
        _line("other", 2, "2025-03-09T20:10:00", "w1", "handle"),
        *_case("open", "2025-03-09T21:50:00", None),
        _line("last", 1, "2025-03-09T21:55:00", "desk", "register"),
    ]
    p = tmp_path / "events.jsonl"
    p.write_text("\n".join(lines) + "\n")
    log = read_event_log(p)
    t = log.table
    reports = first_per_case(t, action_mask(t, "report"))
    base = Scenario()
    working, _ = calendars_for(base)
    as_of = int(t.at_us.max())
    return verify_steps(t, reports, log.severity, base.duties, working.is_working_day, SH, as_of)


def test_each_verification_is_measured_from_when_its_work_began(verified) -> None:
    """evening 30 min (from the report), night 20 (from on-call time, 07:00), urgent 20 (an
    emergency is taken off call), sunday 12 (no duties on a Sunday), busy 15 (from the
    worker's previous event, 20:10), open 5 (censored at the log's end, 21:55)."""
    minutes = (verified.end_us - verified.begin_us) / 60e6
    assert sorted(minutes.tolist()) == pytest.approx([5.0, 12.0, 15.0, 20.0, 20.0, 30.0])
    assert minutes[~verified.ended].tolist() == pytest.approx([5.0])


def test_a_verification_that_began_while_duties_ran_is_left_out(verified) -> None:
    """A weekday's 10:00 report (a patrol or visit block may have kept the worker) and its
    18:00 one (a block begun before 17:30 may run to 18:30) are left out, counted."""
    assert verified.left_out == {"during_duties": 2, "not_begun_by_the_end": 0}
