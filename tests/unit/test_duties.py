"""Duties as data and compliance from an activity log, on small hand-counted cases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridcore.duties import (
    FIVE_MUST_VISIT,
    PLAN_TEMPLATES,
    THREE_ONE_HOUR,
    Activity,
    ActivityKind,
    DutyError,
    DutyPlan,
    InspectionDuty,
    PatrolDuty,
    PatrolWindow,
    VisitDuty,
    VisitRule,
    compliance,
    duty_plan,
)
from gridcore.hierarchy import Area
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing import POLICIES, Assignment, Person, Role, Roster

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 1, tzinfo=SH)
D = timedelta(days=1)
H = timedelta(hours=1)
G = AreaCode("50010100100101")
G2 = AreaCode("50010100100102")
P = PersonId("P1")
Q = PersonId("P2")


def _area(code: str = G, households: int = 10) -> Area:
    return Area(
        code,
        "g",
        "grid",
        AreaCode(code[:12]),
        households=households,
        components={"manholes": 4, "street_lamps": 6, "shopfronts": 50},
    )


def _patrol(day: int, hour: float, minutes: int = 60, who: PersonId = P, grid: str = G) -> Activity:
    s = T0 + day * D + timedelta(hours=hour)
    return Activity(who, AreaCode(grid), "patrol", s, s + timedelta(minutes=minutes))


def _visit(day: int, households: tuple[int, ...], who: PersonId = P) -> Activity:
    s = T0 + day * D + 9 * H
    return Activity(who, G, ActivityKind.VISIT, s, s + H, households)


class TestDutiesAsData:
    def test_three_one_hour_is_three_daily_one_hour_patrols(self) -> None:
        """三个一小时: morning, noon, evening, an hour each."""
        assert [w.name for w in THREE_ONE_HOUR.windows] == ["morning", "noon", "evening"]
        assert THREE_ONE_HOUR.length == H

    def test_five_must_visit_kinds(self) -> None:
        """五必访: five listed kinds of household."""
        assert len(FIVE_MUST_VISIT) == 5

    def test_every_built_in_policy_has_a_duty_template(self) -> None:
        """A grid's plan follows from its policy."""
        assert set(PLAN_TEMPLATES) == set(POLICIES)

    def test_overlapping_windows_are_refused(self) -> None:
        """Windows of one patrol duty do not overlap."""
        with pytest.raises(DutyError, match="overlap"):
            PatrolDuty(
                (
                    PatrolWindow("a", time(6), time(9)),
                    PatrolWindow("b", time(8), time(10)),
                )
            )

    def test_window_ending_before_it_starts_is_refused(self) -> None:
        """A window is a non-empty span of the day."""
        with pytest.raises(DutyError, match="not after start"):
            PatrolWindow("x", time(9), time(8))

    def test_zero_day_visit_cycle_is_refused(self) -> None:
        """Cycles are whole days, at least one."""
        with pytest.raises(DutyError, match="every_days = 0"):
            VisitDuty(0)

    def test_unknown_time_zone_is_refused(self) -> None:
        """The patrol zone names a real time zone."""
        with pytest.raises(DutyError, match="Mars/Olympus"):
            PatrolDuty(THREE_ONE_HOUR.windows, tz="Mars/Olympus")


class TestDutyPlan:
    def test_full_duty_plan_inspects_street_components(self) -> None:
        """Components counted are the inspected kinds only (not shopfronts)."""
        plan = duty_plan("full_duty", _area())
        assert plan.role is Role.FULL_DUTY
        assert plan.components == 10
        assert plan.patrol == THREE_ONE_HOUR
        assert plan.visit == VisitDuty(60)

    def test_special_households_default_to_disjoint_runs(self) -> None:
        """Each must-visit kind gets its own households."""
        plan = duty_plan("three_per_grid", _area(households=300))
        seen: set[int] = set()
        for rule in FIVE_MUST_VISIT:
            hs = plan.special(rule.kind)
            assert len(hs) == 6
            assert not seen & set(hs)
            seen |= set(hs)

    def test_special_households_out_of_range_are_refused(self) -> None:
        """Listed households are numbers of the grid's households."""
        with pytest.raises(DutyError, match=r"0\.\.9"):
            duty_plan("three_per_grid", _area(), {"hardship": [10]})

    def test_special_kind_not_in_the_duty_is_refused(self) -> None:
        """Listed kinds must be kinds the visit duty names."""
        with pytest.raises(DutyError, match="'pets'"):
            duty_plan("three_per_grid", _area(), {"pets": [1]})


class TestActivity:
    def test_activity_ending_before_it_starts_is_refused(self) -> None:
        """The error names the person and the grid."""
        with pytest.raises(DutyError, match="'P1' in '50010100100101'"):
            Activity(P, G, "patrol", T0, T0 - H)

    def test_naive_instants_are_refused(self) -> None:
        """Activities carry timezone-aware instants."""
        with pytest.raises(DutyError, match="timezone-aware"):
            Activity(P, G, "patrol", datetime(2024, 1, 1), datetime(2024, 1, 1, 1))


class TestPatrolCompliance:
    def test_full_patrols_cover_every_window(self) -> None:
        """Three one-hour patrols a day for two days: 6 of 6."""
        plan = duty_plan("full_duty", _area())
        acts = [_patrol(d, h) for d in range(2) for h in (7, 12, 18)]
        rep = compliance([plan], acts, T0, T0 + 2 * D)
        g = rep.grids[G]
        assert (g.patrols_done, g.patrols_due) == (6, 6)
        assert g.missed_patrols == ()
        assert rep.people[P].patrols_done == 6

    def test_short_patrol_does_not_count(self) -> None:
        """A 40-minute patrol is not one of 三个一小时."""
        plan = duty_plan("full_duty", _area())
        rep = compliance([plan], [_patrol(0, 7, minutes=40)], T0, T0 + D)
        assert rep.grids[G].patrols_done == 0
        assert rep.grids[G].patrols_due == 3

    def test_two_patrols_in_one_window_count_once_and_missed_are_named(self) -> None:
        """Patrols are counted per window; the missed windows are listed by day and name."""
        plan = duty_plan("full_duty", _area())
        rep = compliance([plan], [_patrol(0, 7), _patrol(0, 9)], T0, T0 + D)
        g = rep.grids[G]
        assert g.patrols_done == 1
        assert g.missed_patrols == ((T0.date(), "noon"), (T0.date(), "evening"))
        assert g.patrol_coverage == pytest.approx(1 / 3)

    def test_patrol_outside_windows_or_period_does_not_count(self) -> None:
        """A patrol at 03:00 or after the period is not credited."""
        plan = duty_plan("full_duty", _area())
        rep = compliance([plan], [_patrol(0, 3), _patrol(1, 7)], T0, T0 + D)
        assert rep.grids[G].patrols_done == 0
        assert rep.unplanned == 1

    def test_windows_are_in_local_time(self) -> None:
        """A patrol logged in UTC is placed in its Shanghai window."""
        plan = duty_plan("full_duty", _area())
        s = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)  # 07:30 on 1 March in Shanghai
        act = Activity(P, G, "patrol", s, s + H)
        rep = compliance([plan], [act], T0, T0 + D)
        assert rep.grids[G].patrols_done == 1

    def test_partial_day_windows_are_not_due(self) -> None:
        """Only windows wholly inside the period are due."""
        plan = duty_plan("full_duty", _area())
        rep = compliance([plan], [], T0 + 12 * H, T0 + D)
        assert rep.grids[G].patrols_due == 1  # the evening only


class TestVisitCompliance:
    def test_every_household_within_the_window(self) -> None:
        """60-day cycle over 60 days: each household once."""
        plan = duty_plan("full_duty", _area())
        acts = [_visit(3, (0, 1, 2, 3)), _visit(40, (4, 5, 6, 4))]
        rep = compliance([plan], acts, T0, T0 + 60 * D)
        g = rep.grids[G]
        assert (g.visits_done, g.visits_due) == (7, 10)
        assert g.unvisited == (7, 8, 9)
        assert rep.people[P].visits_done == 7

    def test_partial_trailing_window_is_neither_due_nor_counted(self) -> None:
        """Days 60-89 of a 90-day period are a partial window."""
        plan = duty_plan("full_duty", _area())
        rep = compliance([plan], [_visit(70, tuple(range(10)))], T0, T0 + 90 * D)
        g = rep.grids[G]
        assert (g.visits_done, g.visits_due) == (0, 10)

    def test_three_visits_asked_counts_up_to_three(self) -> None:
        """三登门: each household three times in the cycle."""
        area = _area(households=2)
        plan = DutyPlan(G, Role.ASSISTANT, 2, 0, visit=VisitDuty(30, visits=3))
        assert plan.households == area.households
        acts = [_visit(d, (0,)) for d in range(5)] + [_visit(1, (1,))]
        rep = compliance([plan], acts, T0, T0 + 30 * D)
        g = rep.grids[G]
        assert (g.visits_done, g.visits_due) == (4, 6)
        assert g.unvisited == (1,)

    def test_listed_households_are_visited_more_often(self) -> None:
        """五必访: listed households are due monthly on top of the regular cycle."""
        duty = VisitDuty(60, special=(VisitRule("hardship", 30),))
        plan = DutyPlan(G, Role.FULL_DUTY, 10, 0, visit=duty, special_households={"hardship": [2]})
        acts = [_visit(1, (2,)), _visit(31, (2,)), _visit(32, (3,))]
        rep = compliance([plan], acts, T0, T0 + 60 * D)
        g = rep.grids[G]
        assert (g.special_visits_done, g.special_visits_due) == (2, 2)
        assert (g.visits_done, g.visits_due) == (2, 10)

    def test_unknown_household_number_is_refused(self) -> None:
        """The error names the grid and the numbers allowed."""
        plan = duty_plan("full_duty", _area())
        with pytest.raises(DutyError, match=r"household number 10, expected 0\.\.9"):
            compliance([plan], [_visit(1, (10,))], T0, T0 + 60 * D)


class TestInspectionCompliance:
    def test_components_inspected_are_capped_per_window(self) -> None:
        """Weekly inspections: 10 components a week, extra inspections do not count."""
        plan = duty_plan("full_duty", _area())
        s = T0 + 9 * H
        acts = [
            Activity(P, G, "inspection", s, s + H, components=7),
            Activity(Q, G, "inspection", s + D, s + D + H, components=7),
            Activity(P, G, "inspection", s + 8 * D, s + 8 * D + H, components=4),
        ]
        rep = compliance([plan], acts, T0, T0 + 14 * D)
        g = rep.grids[G]
        assert (g.inspections_done, g.inspections_due) == (14, 20)
        assert rep.people[P].inspections_done == 11
        assert rep.people[Q].inspections_done == 7


class TestReport:
    def test_roster_gives_each_person_their_dues(self) -> None:
        """The plan's role holder answers for the grid's dues."""
        plans = [duty_plan("full_duty", _area(G)), duty_plan("full_duty", _area(G2))]
        roster = Roster(
            [Person(P, "a"), Person(Q, "b")],
            [Assignment(P, Role.FULL_DUTY, G, T0), Assignment(Q, Role.FULL_DUTY, G2, T0)],
        )
        acts = [_patrol(0, h) for h in (7, 12, 18)] + [_patrol(0, 7, who=Q, grid=G2)]
        rep = compliance({p.grid: p for p in plans}, acts, T0, T0 + D, roster=roster)
        assert rep.people[P].patrol_coverage == 1.0
        assert rep.people[Q].patrols_due == 3
        assert rep.people[Q].patrol_coverage == pytest.approx(1 / 3)
        assert rep.people[Q].grids == (G2,)
        total = rep.total()
        assert (total.patrols_done, total.patrols_due) == (4, 6)

    def test_activity_in_a_grid_without_plan_is_not_counted(self) -> None:
        """Unplanned activities are counted apart."""
        plan = duty_plan("full_duty", _area())
        rep = compliance([plan], [_patrol(0, 7, grid="x")], T0, T0 + D)
        assert rep.unplanned == 1
        assert rep.grids[G].patrols_done == 0

    def test_empty_period_is_refused(self) -> None:
        """The period must have a positive length."""
        with pytest.raises(DutyError, match="not after start"):
            compliance([], [], T0, T0)

    def test_two_plans_for_one_grid_are_refused(self) -> None:
        """Plans are one per grid."""
        plan = duty_plan("full_duty", _area())
        with pytest.raises(DutyError, match="two plans"):
            compliance([plan, plan], [], T0, T0 + D)

    def test_nothing_due_is_full_coverage(self) -> None:
        """A grid with no duties due is not penalised."""
        plan = DutyPlan(G, Role.FULL_DUTY, 10, 0, inspection=InspectionDuty(30))
        rep = compliance([plan], [], T0, T0 + D)
        assert rep.grids[G].coverage == 1.0
        assert rep.coverage == 1.0
