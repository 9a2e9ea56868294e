"""Reading a case log for calibration: instants, order, and dirt counted instead of fatal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore.calibrate import read_event_log
from gridcore.calibrate._log import parse_instants_us
from gridcore.errors import FileFormatError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
            st.integers(-14 * 60, 14 * 60),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_parsed_instants_equal_fromisoformat(items: list[tuple[datetime, int]]) -> None:
    """The vectorised parse gives the microsecond `datetime.fromisoformat` gives."""
    texts = [d.replace(tzinfo=timezone(timedelta(minutes=m))).isoformat() for d, m in items]
    us, ok = parse_instants_us(texts)
    assert ok.all()
    assert us.tolist() == [
        (datetime.fromisoformat(t) - _EPOCH) // timedelta(microseconds=1) for t in texts
    ]


def _event(cid: str, seq: int, at: str, action: str, **payload: object) -> str:
    return json.dumps(
        {
            "case_id": cid,
            "seq": seq,
            "at": at,
            "actor": "a",
            "role": "r",
            "action": action,
            "from_state": None,
            "to_state": "x",
            "reason": "",
            "payload": payload,
        }
    )


def test_a_dirty_log_is_read_and_its_dirt_counted(tmp_path: Path) -> None:
    """Not JSON, not an object, no case id, a bad instant, a repeated seq, no payload: each
    counted; the good events kept."""
    lines = [
        _event("c1", 1, "2025-03-03T08:00:00+08:00", "report", grid="g", category="E0101"),
        _event("c1", 2, "2025-03-03T09:00:00+08:00", "verify"),
        "{not json",
        "[1, 2]",
        json.dumps({"seq": 1, "at": "2025-03-03T08:00:00+08:00", "action": "report"}),
        _event("c2", 1, "yesterday", "report"),
        _event("c1", 2, "2025-03-03T09:30:00+08:00", "register"),
        json.dumps({"case_id": "c3", "seq": 1, "at": "2025-03-03T10:00:00Z", "action": "report"}),
    ]
    p = tmp_path / "dirty.jsonl"
    p.write_text("\n".join(lines) + "\n")
    log = read_event_log(p)
    assert log.n_events == 4
    assert log.dirt == {
        "events_missing_case_or_action": 1,
        "events_with_a_bad_instant": 1,
        "events_with_a_repeated_seq": 1,
        "events_without_payload": 1,
        "lines_not_an_object": 1,
        "lines_not_json": 1,
        "reports_without_category": 1,
    }
    t = log.table
    assert t.seq.tolist() == [1, 2, 3, 1]  # renumbered per case, in the log's order
    assert t.case_ids == ("c1", "c3")


def test_an_unreadable_file_is_a_file_error(tmp_path: Path) -> None:
    """A missing file, and a file with no usable event, are FileFormatErrors naming it."""
    with pytest.raises(FileFormatError, match=r"nope\.jsonl"):
        read_event_log(tmp_path / "nope.jsonl")
    p = tmp_path / "empty.jsonl"
    p.write_text("{}\n")
    with pytest.raises(FileFormatError, match=r"empty\.jsonl"):
        read_event_log(p)


def test_payload_fields_of_any_type_are_read_or_counted(tmp_path: Path) -> None:
    """A grid given as a number is read as its text; a due that is not a text, or does not
    parse, is counted; a severity that is not an integer is unknown (-1); a second report
    of a case is counted."""
    at = "2025-03-03T08:00:00+08:00"
    lines = [
        _event("c1", 1, at, "report", grid=7, category="E0101", channel="resident", severity=2),
        _event("c1", 2, at, "dispatch", to="team:7", level="grid", due=[2025, 3, 3]),
        _event("c1", 3, at, "dispatch", to="team:7", level="grid", due="soon"),
        _event("c1", 4, at, "dispatch", to="team:7", level="grid", due=at),
        _event("c1", 5, at, "report", grid="8", category="E0101"),
        _event("c2", 1, at, "report", grid="7", category="E0102", severity="high"),
    ]
    p = tmp_path / "typed.jsonl"
    p.write_text("\n".join(lines) + "\n")
    log = read_event_log(p)
    t = log.table
    assert log.dirt == {"events_with_a_bad_due": 2, "repeated_reports": 1}
    assert t.grid_names == ("7",) and t.grid.tolist() == [0, 0]
    assert t.due_raw.tolist() == [None, None, None, at, None, None]
    assert log.severity.tolist() == [2, -1]
    assert t.level_names[t.level[1]] == "grid" and t.owner_names == ("team:7",)
    assert log.channel_names == ("resident",) and log.channel.tolist() == [0, -1]
