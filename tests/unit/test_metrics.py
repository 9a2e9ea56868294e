"""Metric formulas checked on small logs computed by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt
import pytest

from gridcore.cases import Action, CaseEvent, State
from gridcore.errors import ConfigError, GridcoreError, UnknownItemError
from gridcore.ids import CaseId, PersonId
from gridcore.metrics import (
    DEPARTMENT_WEIGHTS,
    CaseFacts,
    EventTable,
    MetricsError,
    ScoreWeights,
    composite_scores,
    compute_metrics,
)
from gridcore.metrics import events as metric_events

SH = ZoneInfo("Asia/Shanghai")

# The state each action leads to in gridcore.cases' table (for the events built by hand).
_NEXT_STATE = {
    "report": State.REPORTED,
    "verify": State.VERIFIED,
    "register": State.REGISTERED,
    "dispatch": State.DISPATCHED,
    "sign_for": State.SIGNED_FOR,
    "start": State.IN_PROGRESS,
    "handle": State.HANDLED,
    "close": State.CLOSED,
    "rework": State.IN_PROGRESS,
    "transfer": State.DISPATCHED,
    "escalate": State.DISPATCHED,
    "approve_return": State.DISPATCHED,
    "cancel": State.CANCELLED,
    "reopen": State.DISPATCHED,
    "evaluate": State.EVALUATED,
    "park": State.PARKED,
    "resume": State.IN_PROGRESS,
}


def at(hhmm: str, day: int = 4) -> datetime:
    h, m = hhmm.split(":")
    return datetime(2024, 3, day, int(h), int(m), tzinfo=SH)


def iso(hhmm: str, day: int = 4) -> str:
    return at(hhmm, day).isoformat()


def case(case_id: str, *steps: tuple[Any, ...]) -> list[CaseEvent]:
    """steps: (action, when, actor, payload) with payload optional."""
    out: list[CaseEvent] = []
    state: State | None = None
    for i, step in enumerate(steps, start=1):
        action, when, actor = step[0], step[1], step[2]
        payload = step[3] if len(step) > 3 else {}
        nxt = _NEXT_STATE[action]
        out.append(
            CaseEvent(
                CaseId(case_id),
                i,
                when,
                PersonId(actor),
                "x",
                Action(action),
                state,
                nxt,
                "",
                payload,
            )
        )
        state = nxt
    return out


def report(grid: str, category: str, when: datetime) -> tuple[Any, ...]:
    return ("report", when, "R", {"grid": grid, "category": category, "channel": "patrol"})


def route(action: str, when: datetime, to: str, level: str, due: str | None = None) -> tuple:
    payload: dict[str, Any] = {"to": to, "level": level}
    if due is not None:
        payload["due"] = due
    return (action, when, "DISP", payload)


def hand_log() -> list[CaseEvent]:
    """Five cases whose metrics are worked out by hand in the tests below."""
    c1 = case(
        "C1",
        report("G1", "A", at("09:00")),
        route("dispatch", at("09:10"), "D1", "community", iso("12:00")),
        ("sign_for", at("09:30"), "P1"),
        ("handle", at("10:00"), "P1"),
        ("close", at("11:00"), "CHK"),
    )
    c2 = case(
        "C2",
        report("G1", "A", at("09:00")),
        route("dispatch", at("09:10"), "D1", "community", iso("10:00")),
        ("sign_for", at("10:00"), "P1"),
        ("handle", at("10:30"), "P1"),
        ("rework", at("10:40"), "CHK", {"due": iso("11:00")}),
        ("handle", at("11:00"), "P1"),
        ("close", at("12:00"), "CHK"),
    )
    c3 = case(
        "C3",
        report("G2", "B", at("09:00")),
        route("dispatch", at("09:10"), "D1", "street", iso("10:00")),
        ("sign_for", at("09:20"), "P2"),
        route("transfer", at("09:40"), "D2", "department"),
        ("sign_for", at("10:00"), "P3"),
        ("handle", at("12:00"), "P3"),
        ("close", at("13:00"), "CHK"),
    )
    c4 = case(
        "C4",
        report("G2", "B", at("09:00")),
        route("dispatch", at("09:10"), "D2", "street", iso("11:00")),
    )
    c5 = case(
        "C5",
        report("G2", "A", at("09:00")),
        ("cancel", at("09:05"), "SUP"),
    )
    # interleave: the table must not rely on the input order
    return sorted(c1 + c2 + c3 + c4 + c5, key=lambda e: (e.at, e.case_id), reverse=True)


def row(table: Any, **keys: str) -> dict[str, Any]:
    rows = [r for r in table.to_rows() if all(r[k] == v for k, v in keys.items())]
    assert len(rows) == 1, (keys, rows)
    return rows[0]


def toy_cumulative(instants: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """Working time is 10:00-12:00 Shanghai time every day (2 h a day)."""
    us = instants.astype("datetime64[us]").astype(np.int64) + 8 * 3600 * 10**6
    day, sec = np.divmod(us, 86400 * 10**6)
    return (day * 7200 + np.clip(sec / 1e6 - 36000, 0, 7200)).astype(np.float64)


class TestEventTable:
    def test_builds_one_row_per_case_whatever_the_input_order(self) -> None:
        """Cases and facts do not depend on the order events come in."""
        t = EventTable.from_events(hand_log())
        f = t.facts()
        assert sorted(f.case_ids) == ["C1", "C2", "C3", "C4", "C5"]
        assert len(t) == 23
        g = dict(zip(f.case_ids, (f.grid_names[i] for i in f.grid), strict=True))
        assert g == {"C1": "G1", "C2": "G1", "C3": "G2", "C4": "G2", "C5": "G2"}

    def test_first_handler_is_the_actor_of_the_first_sign_for(self) -> None:
        """首办必须负责: C3 stays with P2 although P3 signed for it after the transfer."""
        f = EventTable.from_events(hand_log()).facts()
        names = [f.person_names[h] if h >= 0 else "" for h in f.handler]
        handler = dict(zip(f.case_ids, names, strict=True))
        assert handler == {"C1": "P1", "C2": "P1", "C3": "P2", "C4": "", "C5": ""}

    def test_due_at_close_is_the_last_due_before_the_close(self) -> None:
        """The rework moved C2's deadline to 11:00; C3's transfer did not move it."""
        f = EventTable.from_events(hand_log()).facts()
        due = dict(zip(f.case_ids, f.due_us.tolist(), strict=True))
        us = lambda hhmm: int(at(hhmm).timestamp()) * 10**6  # noqa: E731
        assert due["C2"] == us("11:00")
        assert due["C3"] == us("10:00")
        assert due["C4"] == us("11:00")

    def test_reopened_case_is_not_closed_until_closed_again(self) -> None:
        """closed_at is the last close, and only if no reopen came after it."""
        log = case(
            "R1",
            report("G1", "A", at("09:00")),
            route("dispatch", at("09:10"), "D1", "grid", iso("17:00")),
            ("sign_for", at("09:20"), "P1"),
            ("close", at("10:00"), "CHK"),
            ("reopen", at("11:00"), "SUP"),
            ("close", at("12:00"), "CHK"),
        )
        t = EventTable.from_events(log)
        assert t.facts(at("11:30")).closed.tolist() == [False]
        f = t.facts()
        assert f.closed.tolist() == [True]
        assert f.closed_us.tolist() == [int(at("12:00").timestamp()) * 10**6]

    def test_gap_in_sequence_numbers_is_refused(self) -> None:
        """An incomplete log names the case and the sequence number."""
        log = hand_log()
        log = [e for e in log if not (e.case_id == "C2" and e.seq == 3)]
        with pytest.raises(MetricsError, match=r"'C2'.*seq 4.*3 was expected"):
            EventTable.from_events(log)

    def test_naive_due_is_refused_naming_the_case(self) -> None:
        """A deadline without a zone cannot be compared with instants."""
        log = case(
            "N1",
            report("G1", "A", at("09:00")),
            route("dispatch", at("09:10"), "D1", "grid", "2024-03-04T12:00:00"),
        )
        with pytest.raises(MetricsError, match="'N1'"):
            EventTable.from_events(log).facts()

    def test_case_events_read_in_chunks_give_the_table_other_events_give(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """CaseEvent tuples (transposed in chunks) and plain objects build one table."""
        log = hand_log()
        objects = [SimpleNamespace(**e._asdict()) for e in log]
        mixed = [*log[:-1], objects[-1]]
        monkeypatch.setattr(metric_events, "_CHUNK", 4)  # several chunks and a short last one
        want = EventTable.from_events(objects)
        for events in (log, mixed):
            got = EventTable.from_events(events)
            for f in attrs.fields(EventTable):
                a, b = getattr(got, f.name), getattr(want, f.name)
                if isinstance(a, np.ndarray):
                    assert a.dtype == b.dtype and a.tolist() == b.tolist(), f.name
                else:
                    assert a == b, f.name

    def test_empty_log_gives_one_total_row_of_nans(self) -> None:
        """Zero denominators give NaN, not 0 and not an error."""
        r = compute_metrics(EventTable.from_events([])).to_rows()
        assert len(r) == 1 and r[0]["n_cases"] == 0
        assert math.isnan(r[0]["closure_rate"]) and math.isnan(r[0]["response_s_mean"])

    def test_instants_stay_exact_when_the_zone_hours_are_remembered(self) -> None:
        """Offsets kept per wall-clock hour across tables: DST gap and fold hours still exact."""
        berlin = ZoneInfo("Europe/Berlin")
        walls = [
            datetime(2024, 3, 31, 1, 59, 59, 999_999),  # just before the spring gap
            datetime(2024, 3, 31, 2, 30),  # inside the gap (does not exist)
            datetime(2024, 3, 31, 3, 0, 1),
            datetime(2024, 10, 27, 2, 30),  # the autumn fold, first pass
            datetime(2024, 10, 27, 2, 30, fold=1),  # second pass
            datetime(2024, 10, 27, 3, 15),
        ]
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        for _ in range(3):  # the first build fills the per-hour offsets, later ones read them
            for i, wall in enumerate(walls):
                when = wall.replace(tzinfo=berlin)
                events = case(f"D{i}", report("G1", "K", when), ("verify", when, "W"))
                got = EventTable.from_events(events).at_us.tolist()
                assert got == [(when - epoch) // timedelta(microseconds=1)] * 2


class TestRates:
    def test_totals_match_the_hand_computation(self) -> None:
        """结案率 3/4, 按期结案率 1/4, 返工率 1/3, accurate dispatch 3/4, 推诿 1/4."""
        r = compute_metrics(EventTable.from_events(hand_log())).to_rows()[0]
        assert r["n_cases"] == 5
        assert (r["n_due"], r["n_closed"], r["n_on_time"]) == (4, 3, 1)
        assert r["closure_rate"] == pytest.approx(0.75)
        assert r["on_time_rate"] == pytest.approx(0.25)
        assert r["rework_rate"] == pytest.approx(1 / 3)
        assert r["n_rework_events"] == 1
        assert (r["n_dispatched"], r["n_accurate_dispatch"]) == (4, 3)
        assert r["accurate_dispatch_rate"] == pytest.approx(0.75)
        assert (r["n_passes"], r["n_passed_cases"]) == (1, 1)
        assert r["passing_rate"] == pytest.approx(0.25)
        assert (r["n_open"], r["n_ended"]) == (1, 1)
        assert r["n_state_closed"] == 3 and r["n_state_cancelled"] == 1

    def test_response_and_resolution_mean_and_percentiles(self) -> None:
        """Response 1200/1800/3600 s, resolution 7200/10800/14400 s (linear percentiles)."""
        r = compute_metrics(EventTable.from_events(hand_log())).to_rows()[0]
        assert r["response_s_mean"] == pytest.approx(2200)
        assert r["response_s_p50"] == pytest.approx(1800)
        assert r["response_s_p90"] == pytest.approx(3240)
        assert r["response_s_p95"] == pytest.approx(3420)
        assert r["resolution_s_mean"] == pytest.approx(10800)
        assert r["resolution_s_p50"] == pytest.approx(10800)
        assert r["resolution_s_p90"] == pytest.approx(13680)
        assert r["resolution_s_p95"] == pytest.approx(np.percentile([7200, 10800, 14400], 95))

    def test_share_resolved_per_level(self) -> None:
        """小事不出社区: two of three closed cases at community level, one at a department."""
        r = compute_metrics(EventTable.from_events(hand_log())).to_rows()[0]
        assert r["share_community"] == pytest.approx(2 / 3)
        assert r["share_department"] == pytest.approx(1 / 3)
        assert r["share_grid"] == 0.0 and r["share_unknown"] == 0.0
        assert r["share_within_community"] == pytest.approx(2 / 3)
        assert r["share_within_street"] == pytest.approx(2 / 3)

    def test_working_time_with_a_simple_calendar(self) -> None:
        """With work only 10:00-12:00, C1 responds in 0 s and resolves in 1 h of work."""
        r = compute_metrics(EventTable.from_events(hand_log()), calendar=toy_cumulative)
        row1 = r.to_rows()[0]
        # response work: C1 0, C2 0 (sign at 10:00), C3 0 (09:20) -> all 0
        assert row1["response_work_s_mean"] == 0.0
        # resolution work: C1 3600 (10-11), C2 7200 (10-12), C3 7200 (10-12, 12-13 off)
        assert row1["resolution_work_s_mean"] == pytest.approx(6000)
        assert row1["resolution_work_s_p50"] == pytest.approx(7200)

    def test_working_time_with_the_clock_calendar(self) -> None:
        """A gridcore.clock calendar is accepted as is; 24x7 equals wall time."""
        clock = pytest.importorskip("gridcore.clock")
        r = compute_metrics(EventTable.from_events(hand_log()), calendar=clock.RoundTheClock())
        row1 = r.to_rows()[0]
        assert row1["resolution_work_s_mean"] == pytest.approx(row1["resolution_s_mean"])
        assert row1["response_work_s_p90"] == pytest.approx(row1["response_s_p90"])

    def test_as_of_evaluates_the_log_as_it_stood(self) -> None:
        """At 11:30 C1 is closed, C2's deadline (11:00) has passed, C3/C4 are due."""
        r = compute_metrics(EventTable.from_events(hand_log()), as_of=at("11:30")).to_rows()[0]
        assert (r["n_closed"], r["n_due"]) == (1, 4)
        assert r["closure_rate"] == pytest.approx(0.25)


class TestGrouping:
    def test_by_grid(self) -> None:
        """G1 closes both on due, one on time; G2 closes one of two due."""
        t = compute_metrics(EventTable.from_events(hand_log()), by="grid")
        assert t["grid"].tolist() == ["G1", "G2"]
        g1, g2 = row(t, grid="G1"), row(t, grid="G2")
        assert (g1["closure_rate"], g1["on_time_rate"], g1["rework_rate"]) == (1.0, 0.5, 0.5)
        assert (g2["n_cases"], g2["n_due"], g2["closure_rate"]) == (3, 2, 0.5)
        assert g2["accurate_dispatch_rate"] == 0.5 and g2["passing_rate"] == 0.5
        assert g2["on_time_rate"] == 0.0 and g2["rework_rate"] == 0.0

    def test_by_person_department_and_first_department(self) -> None:
        """Person = first handler; department = owner at close; cases without one go to ""."""
        table = EventTable.from_events(hand_log())
        people = compute_metrics(table, by="person")
        assert dict(zip(people["person"], people["n_cases"], strict=True)) == {
            "": 2,
            "P1": 2,
            "P2": 1,
        }
        dept = compute_metrics(table, by="department")
        assert dict(zip(dept["department"], dept["n_cases"], strict=True)) == {
            "": 1,
            "D1": 2,
            "D2": 2,
        }
        first = compute_metrics(table, by="first_department")
        assert row(first, first_department="D1")["accurate_dispatch_rate"] == pytest.approx(2 / 3)

    def test_by_area_at_two_levels(self) -> None:
        """Area codes come from a grid -> ancestor mapping supplied by the caller."""
        community = {"G1": "CM1", "G2": "CM2"}
        street = {"G1": "ST1", "G2": "ST1"}
        table = EventTable.from_events(hand_log(), area_of=community)
        by_comm = compute_metrics(table, by="area")
        assert by_comm["area"].tolist() == ["CM1", "CM2"]
        by_street = compute_metrics(table, by="area", area_of=street).to_rows()
        total = compute_metrics(table).to_rows()[0]
        assert len(by_street) == 1
        assert by_street[0]["closure_rate"] == total["closure_rate"]

    def test_area_without_mapping_or_unknown_grid_is_refused(self) -> None:
        """A grid missing from the mapping is named."""
        table = EventTable.from_events(hand_log())
        with pytest.raises(ConfigError, match="area_of"):
            compute_metrics(table, by="area")
        with pytest.raises(UnknownItemError, match="'G2'"):
            compute_metrics(table, by="area", area_of={"G1": "CM1"})

    def test_by_category_leaf_and_ancestor(self) -> None:
        """Leaves A and B, both under X."""
        table = EventTable.from_events(hand_log())
        leaf = compute_metrics(table, by="category")
        assert dict(zip(leaf["category"], leaf["n_cases"], strict=True)) == {"A": 3, "B": 2}
        up = compute_metrics(table, by="category", category_of=lambda c: "X")
        assert up["n_cases"].tolist() == [5]

    def test_by_period_uses_local_days(self) -> None:
        """A report at 01:00 Shanghai time belongs to that local day, not the UTC one."""
        log = case("D1", report("G1", "A", at("23:30", day=4))) + case(
            "D2", report("G1", "A", at("01:00", day=5))
        )
        table = EventTable.from_events(log)
        days = compute_metrics(table, by="day")
        assert days["day"].tolist() == ["2024-03-04", "2024-03-05"]
        weeks = compute_metrics(table, by="week")
        assert weeks["week"].tolist() == ["2024-W10"]
        months = compute_metrics(table, by=("month", "grid"))
        assert months.to_rows()[0]["month"] == "2024-03"
        assert months.to_rows()[0]["grid"] == "G1"

    def test_two_keys_give_one_row_per_combination(self) -> None:
        """by=(grid, category) has the combinations present, ordered by key."""
        t = compute_metrics(EventTable.from_events(hand_log()), by=("grid", "category"))
        keys = list(zip(t["grid"], t["category"], strict=True))
        assert keys == [("G1", "A"), ("G2", "A"), ("G2", "B")]
        assert sum(t["n_cases"]) == 5

    def test_group_with_nothing_due_has_nan_rates(self) -> None:
        """G2/A holds only the cancelled case: every rate there is NaN."""
        t = compute_metrics(EventTable.from_events(hand_log()), by=("grid", "category"))
        r = row(t, grid="G2", category="A")
        assert r["n_due"] == 0
        for name in ("closure_rate", "on_time_rate", "rework_rate", "accurate_dispatch_rate"):
            assert math.isnan(r[name])

    def test_unknown_group_key_is_refused(self) -> None:
        """The message lists the keys accepted."""
        with pytest.raises(ConfigError, match=r"'street'.*grid"):
            compute_metrics(EventTable.from_events(hand_log()), by="street")


class TestCompositeScores:
    def test_department_weights_computed_by_hand(self) -> None:
        """G1: 0.3*100 + 0.3*50 + 0.3*50 + 0.1*(2/3*100)."""
        t = compute_metrics(EventTable.from_events(hand_log()), by="grid")
        scores = composite_scores(t, DEPARTMENT_WEIGHTS)
        assert scores[0] == pytest.approx(30 + 15 + 15 + 10 * 2 / 3)
        # G2: closure 50, on time 0, no rework 100, volume 100
        assert scores[1] == pytest.approx(15 + 0 + 30 + 10)
        assert t.with_column("score", scores)["score"][1] == scores[1]

    def test_weights_that_do_not_sum_to_one_are_refused(self) -> None:
        """0.3 + 0.3 + 0.3 is not 1."""
        with pytest.raises(ConfigError, match="sum to"):
            ScoreWeights({"closure": 0.3, "on_time": 0.3, "no_rework": 0.3})

    def test_unknown_metric_in_weights_is_refused(self) -> None:
        """The unknown name is given back."""
        with pytest.raises(ConfigError, match="'speed'"):
            composite_scores(compute_metrics(EventTable.from_events(hand_log())), {"speed": 1.0})

    def test_negative_weight_is_refused(self) -> None:
        """Weights live in [0, 1] even when they sum to 1."""
        with pytest.raises(GridcoreError, match=r"'closure' = 1.5.*\[0, 1\]"):
            ScoreWeights({"closure": 1.5, "volume": -0.5})

    def test_weights_within_tolerance_are_accepted(self) -> None:
        """A sum off by float rounding is still 1."""
        w = ScoreWeights({"closure": 0.1, "on_time": 0.2, "no_rework": 0.7 + 1e-12})
        assert set(w.weights) == {"closure", "on_time", "no_rework"}


def test_rows_hold_plain_python_values() -> None:
    """to_rows() loads straight into a table: str, int and float only."""
    rows = compute_metrics(EventTable.from_events(hand_log()), by="grid").to_rows()
    for r in rows:
        for v in r.values():
            assert type(v) in (str, int, float)


def test_timedelta_helper_sanity() -> None:
    """The hand log's instants are in Shanghai time."""
    assert at("09:00").utcoffset() == timedelta(hours=8)


class TestWithTheCaseDesk:
    """Logs written by gridcore.cases' own `CaseLog`, not built by hand."""

    @staticmethod
    def desk_log() -> tuple[Any, list[CaseEvent]]:
        from gridcore.cases import Actor, CaseLog, DeskRole, FixedDeadlines
        from gridcore.categories import Stage
        from gridcore.clock import RoundTheClock
        from gridcore.ids import AreaCode, CategoryCode

        policy = FixedDeadlines(
            RoundTheClock(), {Stage.SIGN_FOR: timedelta(hours=1), Stage.HANDLE: timedelta(hours=3)}
        )
        log = CaseLog(policy)
        rep = Actor(PersonId("R"), DeskRole.REPORTER)
        desk = Actor(PersonId("DESK"), DeskRole.DISPATCHER)
        chk = Actor(PersonId("CHK"), DeskRole.CHECKER)
        h1 = Actor(PersonId("H1"), DeskRole.HANDLER, "D1")
        h2 = Actor(PersonId("H2"), DeskRole.HANDLER, "D2")
        t = at("09:00")
        for k in range(6):
            cid = CaseId(f"K{k}")
            step = iter(range(1, 100))

            def now() -> datetime:
                return t + timedelta(minutes=20 * next(step))  # noqa: B023

            log.report(cid, rep, t, grid=AreaCode(f"G{k % 2}"), category=CategoryCode("leak"))
            log.act(cid, "verify", desk, now())
            log.act(cid, "register", desk, now())
            log.act(cid, "dispatch", desk, now(), payload={"to": "D1", "level": "community"})
            log.act(cid, "sign_for", h1, now())
            holder = h1
            if k == 1:  # 转办 to another department
                log.act(cid, "transfer", h1, now(), "not ours", {"to": "D2", "level": "street"})
                log.act(cid, "sign_for", h2, now())
                holder = h2
            log.act(cid, "start", holder, now())
            log.act(cid, "handle", holder, now())
            if k == 2:  # 返工
                log.act(cid, "rework", chk, now(), "not fixed")
                log.act(cid, "handle", holder, now())
            if k == 5:
                continue  # left handled, not closed
            log.act(cid, "close", chk, now())
        return log, list(log.all_events())

    def test_metrics_agree_with_the_replayed_cases(self) -> None:
        """Rework, transfers, first handler and state match what `CaseLog` holds."""
        log, events = self.desk_log()
        f = EventTable.from_events(events).facts()
        for i, cid in enumerate(f.case_ids):
            c = log.case(CaseId(cid))
            assert f.rework[i] == c.extra.rework_count
            assert f.passes[i] == c.extra.transfer_count + c.extra.return_count
            assert f.person_names[f.handler[i]] == c.first_handler
            assert f.state_names[f.final_state[i]] == c.state
            assert f.owner_names[f.owner[i]] == c.owner
        r = compute_metrics(f).to_rows()[0]
        assert (r["n_closed"], r["n_reworked"], r["n_passed_cases"]) == (5, 1, 1)
        assert r["accurate_dispatch_rate"] == pytest.approx(5 / 6)
        assert r["share_community"] == pytest.approx(4 / 5)
        assert r["share_street"] == pytest.approx(1 / 5)


class TestCaseFactsConcat:
    def test_concat_of_chunks_equals_the_whole_log(self) -> None:
        """Facts built chunk by chunk and concatenated give the whole log's metrics."""
        log = hand_log()
        whole = compute_metrics(EventTable.from_events(log).facts(at("13:00")), by="grid")
        first = [e for e in log if e.case_id in ("C1", "C3")]
        rest = [e for e in log if e.case_id not in ("C1", "C3")]
        parts = [EventTable.from_events(x).facts(at("13:00")) for x in (first, rest)]
        folded = CaseFacts.concat(parts)
        assert folded.case_ids == parts[0].case_ids + parts[1].case_ids
        got = compute_metrics(folded, by="grid")
        for g in ("G1", "G2"):
            assert row(got, grid=g) == row(whole, grid=g)

    def test_concat_of_nothing_is_empty_and_of_one_is_itself(self) -> None:
        """No parts: an empty table; one part: that part."""
        f = EventTable.from_events(hand_log()).facts()
        assert len(CaseFacts.concat([])) == 0
        assert compute_metrics(CaseFacts.concat([])).to_rows()[0]["n_cases"] == 0
        assert CaseFacts.concat([f]) is f

    def test_a_case_in_two_parts_is_refused(self) -> None:
        """The same case id twice would count it twice: refused, naming it."""
        f = EventTable.from_events(hand_log()).facts()
        with pytest.raises(MetricsError, match=repr(f.case_ids[0])):
            CaseFacts.concat([f, f])

    def test_mixing_parts_with_and_without_areas_is_refused(self) -> None:
        """Areas in some parts only: refused."""
        log = hand_log()
        a = EventTable.from_events([e for e in log if e.case_id == "C1"], area_of={"G1": "A1"})
        b = EventTable.from_events([e for e in log if e.case_id == "C2"])
        with pytest.raises(MetricsError, match="areas"):
            CaseFacts.concat([a.facts(), b.facts()])


def test_compute_metrics_reads_events_directly() -> None:
    """Events (e.g. `CaseLog.all_events()`) give the same table as their EventTable."""
    log = hand_log()
    table = EventTable.from_events(log)
    # repr: NaN rates compare equal as text, not as floats.
    assert repr(compute_metrics(log).to_rows()) == repr(compute_metrics(table).to_rows())
    cut = compute_metrics(log, as_of=at("10:00")).to_rows()
    assert repr(cut) == repr(compute_metrics(table, as_of=at("10:00")).to_rows())
