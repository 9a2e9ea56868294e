"""Case desk throughput: actions applied per second with full guards and the event log.

Run: .venv/bin/pytest benchmarks/bench_cases.py --benchmark-only
Each test stores "actions_per_s" (or "events_per_s") in extra_info. The named baseline,
`test_baseline_records_only`, builds the same case and event records with no table, guard
or log, so the ratio shows what the rules and the log cost on top of the records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridcore.cases import (
    Action,
    Actor,
    Assignment,
    Case,
    CaseEvent,
    CaseInfo,
    CaseLog,
    CategoryDeadlines,
    DeskRole,
    FixedDeadlines,
    State,
)
from gridcore.categories import Stage, default_taxonomy
from gridcore.clock import CalendarSet, RoundTheClock
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 9, tzinfo=TZ)
N_CASES = 2000
ACTIONS_PER_CASE = 9
LIMITS = {s: timedelta(hours=2) for s in Stage}

REPORTER = Actor(PersonId("r1"), DeskRole.REPORTER)
DESK = Actor(PersonId("d1"), DeskRole.DISPATCHER)
HANDLER = Actor(PersonId("h1"), DeskRole.HANDLER)
CHECKER = Actor(PersonId("c1"), DeskRole.CHECKER)
EVALUATOR = Actor(PersonId("e1"), DeskRole.EVALUATOR)
DISPATCH_TO = MappingProxyType({"to": "h1", "level": "grid"})
GRID = AreaCode("g1")
CATEGORY = CategoryCode("x")
WORKING_CATEGORY = CategoryCode("C0101")  # manhole cover: working-hours limits


def _inputs(n: int = N_CASES) -> tuple[list[CaseId], list[datetime]]:
    """Case ids and report instants (one a minute, all in working hours)."""
    ids = [CaseId(f"C{i:06d}") for i in range(n)]
    times = [T0 + timedelta(seconds=i) for i in range(n)]
    return ids, times


def _main_loop(
    log: CaseLog, ids: list[CaseId], times: list[datetime], category: CategoryCode = CATEGORY
) -> CaseLog:
    """report, verify, register, dispatch, sign_for, start, handle, close, evaluate."""
    act = log.act
    for cid, t in zip(ids, times, strict=True):
        log.report(cid, REPORTER, t, grid=GRID, category=category)
        act(cid, Action.VERIFY, DESK, t)
        act(cid, Action.REGISTER, DESK, t)
        act(cid, Action.DISPATCH, DESK, t, "", DISPATCH_TO)
        act(cid, Action.SIGN_FOR, HANDLER, t)
        act(cid, Action.START, HANDLER, t)
        act(cid, Action.HANDLE, HANDLER, t)
        act(cid, Action.CLOSE, CHECKER, t)
        act(cid, Action.EVALUATE, EVALUATOR, t)
    return log


def _check(log: CaseLog) -> None:
    assert len(log) == N_CASES
    assert len(log.all_events()) == N_CASES * ACTIONS_PER_CASE
    assert all(c.state is State.EVALUATED for c in log.cases())


def _record_rate(benchmark: Any, key: str, count: int) -> None:
    benchmark.extra_info[key] = round(count / benchmark.stats.stats.mean)


@pytest.mark.parametrize(
    "calendar",
    [
        pytest.param(RoundTheClock(), id="24x7"),
        pytest.param(CalendarSet.standard().get("working"), id="working"),
    ],
)
def test_main_loop_actions_per_second(benchmark: Any, calendar: Any) -> None:
    """The full closed loop through `CaseLog` (guards, deadlines, events, notifications)."""
    policy = FixedDeadlines(calendar, LIMITS)
    ids, times = _inputs()
    _main_loop(CaseLog(policy), ids[:10], times[:10])  # warm the calendar's year tables
    log = benchmark.pedantic(
        _main_loop, setup=lambda: ((CaseLog(policy), ids, times), {}), rounds=7, iterations=1
    )
    _check(log)
    _record_rate(benchmark, "actions_per_s", N_CASES * ACTIONS_PER_CASE)


def test_main_loop_category_deadlines(benchmark: Any) -> None:
    """The same loop with the simulation's policy: `CategoryDeadlines` over the built-in
    taxonomy and `CalendarSet.standard()` (China's working hours), one case a minute over
    ~33 hours, so dispatches fall inside and outside working hours."""
    policy = CategoryDeadlines(default_taxonomy(), CalendarSet.standard())
    ids, _ = _inputs()
    times = [T0 + timedelta(minutes=i) for i in range(N_CASES)]
    _main_loop(CaseLog(policy), ids[:10], times[:10], WORKING_CATEGORY)  # warm the tables
    log = benchmark.pedantic(
        _main_loop,
        setup=lambda: ((CaseLog(policy), ids, times, WORKING_CATEGORY), {}),
        rounds=7,
        iterations=1,
    )
    _check(log)
    assert all(c.due is not None for c in log.cases())
    _record_rate(benchmark, "actions_per_s", N_CASES * ACTIONS_PER_CASE)


def test_replay_events_per_second(benchmark: Any) -> None:
    """Folding every case's events back into its case."""
    ids, times = _inputs()
    log = _main_loop(CaseLog(FixedDeadlines(RoundTheClock(), LIMITS)), ids, times)
    per_case = [log.events(cid) for cid in ids]

    def replay_all() -> list[Case]:
        return [Case.replay(events) for events in per_case]

    cases = benchmark.pedantic(replay_all, rounds=7, iterations=1)
    assert cases == list(log.cases())
    _record_rate(benchmark, "events_per_s", N_CASES * ACTIONS_PER_CASE)


def test_baseline_records_only(benchmark: Any) -> None:
    """Baseline: the same number of case and event records, built with no rules or log."""
    ids, times = _inputs()
    states = list(State)[:ACTIONS_PER_CASE]
    actions = list(Action)[:ACTIONS_PER_CASE]
    empty: MappingProxyType[str, Any] = MappingProxyType({})
    assignment = Assignment()

    def build() -> int:
        n = 0
        for cid, t in zip(ids, times, strict=True):
            info = CaseInfo(CATEGORY, GRID, REPORTER.id, "patrol", t, 0)
            for seq, (state, action) in enumerate(zip(states, actions, strict=True), 1):
                CaseEvent(cid, seq, t, DESK.id, DESK.role, action, state, state, "", empty)
                Case(cid, state, seq, t, t, seq, assignment, info)
                n += 1
        return n

    assert benchmark.pedantic(build, rounds=7, iterations=1) == N_CASES * ACTIONS_PER_CASE
    _record_rate(benchmark, "records_per_s", N_CASES * ACTIONS_PER_CASE)
