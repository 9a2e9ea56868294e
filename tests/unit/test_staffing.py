"""Staff, roles, policies, policy checks, responsibility chains, workload and synthetic staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from gridcore.errors import GridcoreError, StaffingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing import (
    DUTY_ZH,
    FULL_DUTY,
    POLICIES,
    ROLE_ZH,
    SIX_DUTIES,
    THREE_PER_GRID,
    TWO_PER_GRID,
    VACANCY_KINDS,
    VOLUNTEERS,
    YUBEI,
    Assignment,
    Chain,
    Duty,
    LevelRequirement,
    Person,
    Requirement,
    ResponsibilityIndex,
    Role,
    Roster,
    StaffingPolicy,
    Violation,
    ViolationKind,
    check_policy,
    get_policy,
    responsible,
    staff_city,
    workload,
)
from gridcore.synth import build_city

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def tianjin() -> Hierarchy:
    return build_city("tianjin-pilot", seed=3)


@pytest.fixture(scope="module")
def yichang() -> Hierarchy:
    return build_city("yichang", seed=2)


@pytest.fixture(scope="module")
def tianjin_roster(tianjin: Hierarchy) -> Roster:
    return staff_city(tianjin, THREE_PER_GRID, seed=1, start=T0)


def _kinds(violations: list[Violation]) -> list[ViolationKind]:
    return [v.kind for v in violations]


class TestRoles:
    def test_there_are_eight_volunteer_kinds(self) -> None:
        """The eight volunteer kinds of Yichang are roles."""
        assert len(VOLUNTEERS) == 8
        assert len(set(VOLUNTEERS)) == 8

    def test_every_role_and_duty_has_a_chinese_name(self) -> None:
        """Names in code trace back to practice."""
        assert set(ROLE_ZH) == set(Role)
        assert ROLE_ZH[Role.ASSISTANT] == "网格协管员"
        assert ROLE_ZH[Role.FULL_DUTY] == "专职网格员"
        assert set(DUTY_ZH) == set(Duty)
        assert len(SIX_DUTIES) == 6


class TestPersonAndAssignment:
    def test_person_without_id_is_refused(self) -> None:
        """A person needs an id."""
        with pytest.raises(StaffingError, match="id is empty"):
            Person(PersonId(""), "nobody")

    def test_person_with_zero_capacity_is_refused(self) -> None:
        """Capacity counts assignments and must be at least one."""
        with pytest.raises(StaffingError, match="capacity = 0"):
            Person(PersonId("P1"), "x", capacity=0)

    def test_person_with_unknown_role_is_refused(self) -> None:
        """Roles are checked when the person is made."""
        with pytest.raises(StaffingError, match="roles"):
            Person(PersonId("P1"), "x", frozenset({"astronaut"}))

    def test_person_without_roles_may_hold_any_role(self) -> None:
        """An empty role set means any role."""
        assert Person(PersonId("P1"), "x").may_hold(Role.MANAGER)
        assert not Person(PersonId("P1"), "x", frozenset({Role.ASSISTANT})).may_hold(Role.MANAGER)

    def test_naive_start_is_refused(self) -> None:
        """Instants must be timezone-aware."""
        with pytest.raises(StaffingError, match="timezone-aware"):
            Assignment(PersonId("P1"), Role.ASSISTANT, AreaCode("1"), datetime(2024, 1, 1))

    def test_end_not_after_start_is_refused(self) -> None:
        """An assignment's period is not empty."""
        with pytest.raises(StaffingError, match="not after start"):
            Assignment(PersonId("P1"), Role.ASSISTANT, AreaCode("1"), T0, T0)

    def test_assignment_is_half_open(self) -> None:
        """An assignment holds at its start and not at its end."""
        a = Assignment(PersonId("P1"), Role.ASSISTANT, AreaCode("1"), T0, T0 + DAY)
        assert a.active(T0)
        assert not a.active(T0 + DAY)
        assert not a.active(T0 - DAY)

    def test_role_given_as_string_is_converted(self) -> None:
        """Roles read from files arrive as strings."""
        a = Assignment(PersonId("P1"), "manager", AreaCode("1"), T0)
        assert a.role is Role.MANAGER


class TestRoster:
    def _roster(self) -> Roster:
        people = [Person(PersonId("P1"), "a", capacity=3), Person(PersonId("P2"), "b")]
        g = AreaCode("g1")
        return Roster(
            people,
            [
                Assignment(PersonId("P1"), Role.ASSISTANT, g, T0, T0 + 10 * DAY),
                Assignment(PersonId("P2"), Role.ASSISTANT, g, T0 + 10 * DAY),
                Assignment(PersonId("P1"), Role.MANAGER, g, T0 + 5 * DAY, T0 + 20 * DAY),
            ],
        )

    def test_duplicate_person_is_refused(self) -> None:
        """Person ids are unique in a roster."""
        p = Person(PersonId("P1"), "a")
        with pytest.raises(StaffingError, match="appears twice"):
            Roster([p, p])

    def test_assignment_of_unknown_person_is_refused(self) -> None:
        """Every assignment names a person of the roster."""
        a = Assignment(PersonId("P9"), Role.ASSISTANT, AreaCode("g"), T0)
        with pytest.raises(StaffingError, match="'P9' is not in the roster"):
            Roster([Person(PersonId("P1"), "a")], [a])

    def test_holders_follow_the_periods(self) -> None:
        """Who holds a role changes at the boundary of periods."""
        r = self._roster()
        g = AreaCode("g1")
        assert r.holders(g, Role.ASSISTANT, T0 - DAY) == ()
        assert [a.person for a in r.holders(g, Role.ASSISTANT, T0)] == ["P1"]
        assert [a.person for a in r.holders(g, Role.ASSISTANT, T0 + 10 * DAY)] == ["P2"]
        assert [a.person for a in r.holders(g, Role.ASSISTANT, T0 + 999 * DAY)] == ["P2"]
        assert r.holders(g, Role.MANAGER, T0 + 20 * DAY) == ()
        assert r.holders("other", Role.MANAGER, T0) == ()

    def test_overlapping_holders_are_all_found(self) -> None:
        """Two holders of one post at once are both returned, by start."""
        people = [Person(PersonId(f"P{i}"), "x") for i in range(4)]
        g = AreaCode("g")
        asg = [
            Assignment(PersonId("P0"), Role.VOLUNTEER_PATROL, g, T0, T0 + 100 * DAY),
            Assignment(PersonId("P1"), Role.VOLUNTEER_PATROL, g, T0 + DAY, T0 + 2 * DAY),
            Assignment(PersonId("P2"), Role.VOLUNTEER_PATROL, g, T0 + 3 * DAY),
            Assignment(PersonId("P3"), Role.VOLUNTEER_PATROL, g, T0 + 4 * DAY, T0 + 5 * DAY),
        ]
        r = Roster(people, asg)
        got = r.holders(g, Role.VOLUNTEER_PATROL, T0 + 4 * DAY)
        assert [a.person for a in got] == ["P0", "P2", "P3"]
        got = r.holders(g, Role.VOLUNTEER_PATROL, T0 + 6 * DAY)
        assert [a.person for a in got] == ["P0", "P2"]

    def test_assignments_of_a_person_at_an_instant(self) -> None:
        """A person's assignments are looked up by instant."""
        r = self._roster()
        assert len(r.assignments_of("P1")) == 2
        assert [a.role for a in r.assignments_of("P1", T0 + 6 * DAY)] == [
            Role.ASSISTANT,
            Role.MANAGER,
        ]
        assert r.assignments_of("P2", T0) == ()
        with pytest.raises(UnknownItemError, match="person 'P7'"):
            r.assignments_of("P7", T0)

    def test_naive_instant_is_refused(self) -> None:
        """Lookups need timezone-aware instants."""
        with pytest.raises(StaffingError, match="timezone-aware"):
            self._roster().holders("g1", Role.ASSISTANT, datetime(2024, 1, 1))

    def test_end_assignment_gives_a_new_roster(self) -> None:
        """Ending an assignment leaves the original roster unchanged."""
        r = self._roster()
        a = r.assignments[1]
        r2 = r.end_assignment(a, T0 + 30 * DAY)
        assert r2.holders("g1", Role.ASSISTANT, T0 + 30 * DAY) == ()
        assert r.holders("g1", Role.ASSISTANT, T0 + 30 * DAY) == (a,)

    def test_removing_an_absent_assignment_is_refused(self) -> None:
        """A refused change names the assignment."""
        r = self._roster()
        stray = Assignment(PersonId("P1"), Role.CHIEF, AreaCode("g1"), T0)
        with pytest.raises(StaffingError, match="chief in 'g1'"):
            r.with_changes(remove=[stray])

    def test_rosters_compare_by_content(self) -> None:
        """Two rosters with the same people and assignments are equal."""
        assert self._roster() == self._roster()


class TestPolicies:
    def test_the_four_built_in_policies_are_named(self) -> None:
        """Presets name policies by these keys."""
        assert set(POLICIES) == {"full_duty", "three_per_grid", "two_per_grid", "yubei"}
        assert get_policy("yubei") is YUBEI
        with pytest.raises(UnknownItemError, match="staffing policy 'nine'"):
            get_policy("nine")

    def test_three_per_grid_asks_assistant_manager_supervisor(self) -> None:
        """Tianjin: 协管员, 管理员, 督导员 in every grid."""
        assert {r.role for r in THREE_PER_GRID.grid} == {
            Role.ASSISTANT,
            Role.MANAGER,
            Role.SUPERVISOR,
        }
        chain = THREE_PER_GRID.chain(Duty.ORDER)
        assert chain == Chain(Role.ASSISTANT, Role.MANAGER, Role.SUPERVISOR)

    def test_full_duty_worker_answers_for_the_six_duties(self) -> None:
        """Yichang: one worker a grid does all six duties."""
        assert [r.role for r in FULL_DUTY.grid] == [Role.FULL_DUTY]
        for d in SIX_DUTIES:
            assert FULL_DUTY.chain(d).direct is Role.FULL_DUTY

    def test_a_duty_or_role_may_be_named_by_string(self) -> None:
        """Strings are resolved to a duty first, then a role."""
        assert FULL_DUTY.chain("civil_affairs") == FULL_DUTY.chain(Duty.CIVIL)
        assert THREE_PER_GRID.chain("manager").direct is Role.MANAGER
        with pytest.raises(UnknownItemError, match="duty or role 'juggling'"):
            THREE_PER_GRID.chain("juggling")

    def test_policy_with_zero_count_is_refused(self) -> None:
        """A requirement asks for at least one holder."""
        with pytest.raises(StaffingError, match="count = 0"):
            StaffingPolicy("p", "", (Requirement(Role.ASSISTANT, 0),), Chain(Role.ASSISTANT))

    def test_policy_with_unknown_level_is_refused_when_checked(self, tianjin: Hierarchy) -> None:
        """A level requirement names a level of the hierarchy's scheme."""
        pol = StaffingPolicy(
            "p",
            "",
            (Requirement(Role.ASSISTANT),),
            Chain(Role.ASSISTANT),
            levels=(LevelRequirement("township", Role.CHIEF),),
        )
        roster = staff_city(tianjin, THREE_PER_GRID, seed=0, start=T0)
        with pytest.raises(StaffingError, match="level 'township'"):
            check_policy(tianjin, roster, pol, T0)


class TestStaffCity:
    def test_shuanghu_has_24_workers_in_12_grids(self) -> None:
        """Two per grid: 12 grids, 24 workers."""
        h = build_city("shuanghu", seed=1)
        r = staff_city(h, TWO_PER_GRID, seed=1, start=T0, staff_total=24)
        assert len(r.people) == 24
        assert check_policy(h, r, TWO_PER_GRID, T0) == []

    def test_tianjin_pilot_has_three_staff_a_grid(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """Every grid has its assistant, manager and supervisor."""
        assert len(tianjin_roster.people) == 3 * len(tianjin.grids)
        assert check_policy(tianjin, tianjin_roster, THREE_PER_GRID, T0) == []

    def test_yichang_has_one_full_duty_worker_a_grid(self, yichang: Hierarchy) -> None:
        """One worker per grid, plus a supervisor per street."""
        r = staff_city(yichang, "full_duty", seed=1, start=T0)
        workers = [a for a in r.assignments if a.role is Role.FULL_DUTY]
        assert len(workers) == 1110
        assert {a.area for a in workers} == set(yichang.grids)
        assert check_policy(yichang, r, FULL_DUTY, T0) == []

    def test_staff_total_is_reached_exactly(self, yichang: Hierarchy) -> None:
        """Extra staff are volunteers spread over the grids."""
        r = staff_city(yichang, YUBEI, seed=4, start=T0, staff_total=7_000)
        assert len(r.people) == 7_000
        assert check_policy(yichang, r, YUBEI, T0) == []
        extra = [a for a in r.assignments if a.role in VOLUNTEERS]
        assert len(extra) >= 2 * 1110

    def test_yubei_defaults_to_about_5_7_staff_a_grid(self, yichang: Hierarchy) -> None:
        """Without a head count, the policy's staff per grid is used."""
        r = staff_city(yichang, "yubei", seed=4, start=T0)
        assert len(r.people) == round(18_900 / 3_311 * 1110)

    def test_staff_total_below_the_posts_is_refused(self, tianjin: Hierarchy) -> None:
        """A head count that cannot fill every post is refused, naming the minimum."""
        with pytest.raises(StaffingError, match="at least 60"):
            staff_city(tianjin, THREE_PER_GRID, seed=1, start=T0, staff_total=59)

    def test_same_seed_gives_the_same_roster(self, yichang: Hierarchy) -> None:
        """Synthetic staff are reproducible."""
        a = staff_city(yichang, YUBEI, seed=9, start=T0, staff_total=6_000)
        b = staff_city(yichang, YUBEI, seed=9, start=T0, staff_total=6_000)
        c = staff_city(yichang, YUBEI, seed=10, start=T0, staff_total=6_000)
        assert a == b
        assert a != c

    def test_people_are_named_deterministically(self, tianjin_roster: Roster) -> None:
        """Ids run P000001, P000002, ... and the roster names its policy."""
        assert tianjin_roster.people[0].id == "P000001"
        assert tianjin_roster.people[-1].id == f"P{len(tianjin_roster.people):06d}"
        assert tianjin_roster.policy == "three_per_grid"


class TestCheckPolicy:
    def test_removed_post_is_vacant(self, tianjin: Hierarchy, tianjin_roster: Roster) -> None:
        """A post with no holder, ever, is vacant and the finding names area and role."""
        a = tianjin_roster.assignments[4]
        r = tianjin_roster.with_changes(remove=[a])
        (v,) = check_policy(tianjin, r, THREE_PER_GRID, T0)
        assert v.kind is ViolationKind.VACANT
        assert (v.area, v.role, v.person) == (a.area, a.role, None)
        assert a.area in str(v)

    def test_ended_assignment_is_reported_as_expired(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """A post left open by an ended assignment names the person who held it."""
        a = tianjin_roster.assignments[0]
        r = tianjin_roster.end_assignment(a, T0 + DAY)
        assert check_policy(tianjin, r, THREE_PER_GRID, T0) == []
        (v,) = check_policy(tianjin, r, THREE_PER_GRID, T0 + 2 * DAY)
        assert v.kind is ViolationKind.EXPIRED
        assert (v.area, v.role, v.person) == (a.area, a.role, a.person)
        assert v.kind in VACANCY_KINDS

    def test_person_over_capacity_is_reported(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """A person holding more posts than their capacity is named."""
        first = tianjin_roster.assignments[0]
        other_grid = tianjin.grids[1]
        extra = Assignment(first.person, Role.ASSISTANT, other_grid, T0)
        r = tianjin_roster.with_changes(add=[extra])
        found = check_policy(tianjin, r, THREE_PER_GRID, T0)
        over = [v for v in found if v.kind is ViolationKind.OVER_CAPACITY]
        assert {v.person for v in over} == {first.person}
        assert any(v.role is Role.ASSISTANT and "policy allows 1" in v.detail for v in over)

    def test_assignment_to_unknown_area_is_reported(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """An area that the hierarchy does not hold is named."""
        p = Person(PersonId("X1"), "x")
        stray = Assignment(p.id, Role.ASSISTANT, AreaCode("99999999999999"), T0)
        r = tianjin_roster.with_changes(add_people=[p], add=[stray])
        (v,) = check_policy(tianjin, r, THREE_PER_GRID, T0)
        assert v.kind is ViolationKind.UNKNOWN_AREA
        assert (v.area, v.person) == ("99999999999999", "X1")

    def test_role_at_a_level_the_policy_does_not_allow_is_reported(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """An assistant sits in a grid, not a street."""
        p = Person(PersonId("X1"), "x")
        street = tianjin.at_level("street")[0]
        r = tianjin_roster.with_changes(
            add_people=[p], add=[Assignment(p.id, Role.ASSISTANT, street, T0)]
        )
        (v,) = check_policy(tianjin, r, THREE_PER_GRID, T0)
        assert v.kind is ViolationKind.ROLE_NOT_ALLOWED
        assert v.area == street
        assert "'street'" in v.detail

    def test_role_the_person_may_not_hold_is_reported(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """A person limited to some roles is named when holding another."""
        p = Person(PersonId("X1"), "x", frozenset({Role.VOLUNTEER_PATROL}))
        r = tianjin_roster.with_changes(
            add_people=[p], add=[Assignment(p.id, Role.MANAGER, tianjin.grids[0], T0)]
        )
        found = check_policy(tianjin, r, THREE_PER_GRID, T0)
        assert [(v.kind, v.person) for v in found] == [(ViolationKind.ROLE_NOT_ALLOWED, "X1")]

    def test_assignments_not_started_do_not_fill_posts(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """Before the start of every assignment, every post is vacant."""
        found = check_policy(tianjin, tianjin_roster, THREE_PER_GRID, T0 - DAY)
        assert len(found) == 3 * len(tianjin.grids)
        assert set(_kinds(found)) == {ViolationKind.VACANT}


class TestResponsible:
    def test_three_roles_answer_in_a_staffed_grid(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """Direct, first and supervising persons are the grid's own post holders."""
        g = tianjin.grids[2]
        resp = responsible(tianjin, tianjin_roster, g, Duty.ORDER, T0)
        held = {a.role: a.person for a in tianjin_roster.assignments if a.area == g}
        assert resp.direct.person == held[Role.ASSISTANT]
        assert resp.first is not None and resp.first.person == held[Role.MANAGER]
        assert resp.supervising is not None
        assert resp.supervising.person == held[Role.SUPERVISOR]
        assert not resp.vacant
        assert resp.fell_back_to is None

    def test_vacancy_falls_back_to_the_community_and_says_so(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """A vacant grid post is answered by the community's holder of the role."""
        g = tianjin.grids[0]
        community = tianjin.parent(g)
        assert community is not None
        gone = [a for a in tianjin_roster.assignments if a.area == g and a.role is Role.ASSISTANT]
        boss = Person(PersonId("C1"), "community head", capacity=5)
        r = tianjin_roster.with_changes(
            remove=gone,
            add_people=[boss],
            add=[Assignment(boss.id, Role.ASSISTANT, community, T0)],
        )
        resp = responsible(tianjin, r, g, Duty.INFORMATION, T0, policy=THREE_PER_GRID)
        assert resp.direct.person == "C1"
        assert resp.direct.vacant
        assert resp.direct.fell_back_to == community
        assert resp.direct.area == community
        assert resp.fell_back_to == community
        assert resp.vacant

    def test_vacancy_with_nobody_above_names_nobody(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """When nobody holds the role at home or above, the person is None."""
        g = tianjin.grids[0]
        gone = [a for a in tianjin_roster.assignments if a.area == g and a.role is Role.MANAGER]
        r = tianjin_roster.with_changes(remove=gone)
        resp = responsible(tianjin, r, g, "comprehensive_order", T0)
        assert resp.first is not None
        assert resp.first.person is None and resp.first.vacant
        assert resp.first.area is None
        assert resp.duty is Duty.ORDER

    def test_supervisor_of_full_duty_policy_sits_in_the_street(self, yichang: Hierarchy) -> None:
        """The home of a street-level role is the grid's street, and that is no fallback."""
        r = staff_city(yichang, FULL_DUTY, seed=1, start=T0)
        g = yichang.grids[500]
        resp = responsible(yichang, r, g, Duty.CIVIL, T0)
        assert resp.direct.person == resp.first.person  # type: ignore[union-attr]
        assert resp.supervising is not None
        assert resp.supervising.home == yichang.ancestor_at(g, "street")
        assert not resp.supervising.vacant and resp.supervising.fell_back_to is None

    def test_answers_change_over_time(self, tianjin: Hierarchy, tianjin_roster: Roster) -> None:
        """A successor answers after the predecessor's assignment ends."""
        g = tianjin.grids[0]
        (old,) = [a for a in tianjin_roster.assignments if a.area == g and a.role is Role.ASSISTANT]
        new = Person(PersonId("N1"), "successor")
        r = tianjin_roster.end_assignment(old, T0 + 10 * DAY).with_changes(
            add_people=[new], add=[Assignment(new.id, Role.ASSISTANT, g, T0 + 10 * DAY)]
        )
        idx = ResponsibilityIndex(tianjin, r)
        assert idx.responsible(g, Duty.ORDER, T0 + 9 * DAY).direct.person == old.person
        assert idx.responsible(g, Duty.ORDER, T0 + 10 * DAY).direct.person == "N1"

    def test_a_role_answers_as_the_direct_slot(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """Asking for a role gives its holder as the direct person."""
        g = tianjin.grids[0]
        resp = responsible(tianjin, tianjin_roster, g, Role.MANAGER, T0)
        assert resp.direct.role is Role.MANAGER
        assert resp.duty is Role.MANAGER

    def test_unknown_grid_and_non_grid_are_refused(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """Errors name the code and what was expected."""
        with pytest.raises(UnknownItemError, match="grid '123'"):
            responsible(tianjin, tianjin_roster, "123", Duty.ORDER, T0)
        street = tianjin.at_level("street")[0]
        with pytest.raises(StaffingError, match="expected a 'grid'"):
            responsible(tianjin, tianjin_roster, street, Duty.ORDER, T0)

    def test_roster_without_policy_needs_one_given(self, tianjin: Hierarchy) -> None:
        """The duty-to-role map comes from a policy."""
        r = Roster([])
        with pytest.raises(GridcoreError):
            responsible(tianjin, r, tianjin.grids[0], Duty.ORDER, T0)
        with pytest.raises(StaffingError, match="no policy"):
            ResponsibilityIndex(tianjin, r)


class TestWorkload:
    def test_households_per_worker(self, tianjin: Hierarchy, tianjin_roster: Roster) -> None:
        """Each grid has three workers; each person carries one grid."""
        w = workload(tianjin, tianjin_roster, T0)
        g = tianjin.grids[0]
        load = w.grids[g]
        assert load.workers == 3
        assert load.households == tianjin.households(g)
        assert load.households_per_worker == pytest.approx(load.households / 3)
        assert load.components == sum(v for _, v in tianjin.area(g).components)
        first = tianjin_roster.assignments[0]
        assert w.people[first.person].households == tianjin.households(first.area)

    def test_a_person_above_the_grids_carries_all_of_them(self, yichang: Hierarchy) -> None:
        """A street supervisor's load is the street's households."""
        r = staff_city(yichang, FULL_DUTY, seed=1, start=T0)
        sup = next(a for a in r.assignments if a.role is Role.SUPERVISOR)
        w = workload(yichang, r, T0)
        assert w.people[sup.person].households == yichang.households(sup.area)

    def test_grid_without_workers_has_infinite_load(
        self, tianjin: Hierarchy, tianjin_roster: Roster
    ) -> None:
        """An unstaffed grid is reported, not divided by zero."""
        w = workload(tianjin, tianjin_roster, T0 - DAY)
        assert all(g.workers == 0 for g in w.grids.values())
        assert w.grids[tianjin.grids[0]].households_per_worker == float("inf")

    def test_roles_filter_the_workers(self, tianjin: Hierarchy, tianjin_roster: Roster) -> None:
        """Only the roles asked count as workers."""
        w = workload(tianjin, tianjin_roster, T0, roles=[Role.ASSISTANT])
        assert {g.workers for g in w.grids.values()} == {1}
        assert w.mean_households_per_worker() == pytest.approx(
            tianjin.total_households / len(tianjin.grids)
        )


def test_policies_are_frozen_values() -> None:
    """A policy cannot be changed in place."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        THREE_PER_GRID.name = "x"  # type: ignore[misc]


def test_direct_agrees_with_responsible_on_a_staffed_city() -> None:
    """The fast `direct` answer equals `responsible(...).direct` and its fallback, grid by grid."""
    from gridcore.staffing import ResponsibilityIndex
    from gridcore.synth import DEFAULT_START, synthetic_city

    city = synthetic_city("xiling", seed=3)
    # leave a few posts vacant so that fallbacks are exercised
    grids = set(city.hierarchy.grids)
    ended = [a for a in city.roster.assignments if a.area in grids][:7]
    roster = city.roster
    later = DEFAULT_START + timedelta(days=30)
    for a in ended:
        roster = roster.end_assignment(a, later - timedelta(days=1))
    index = ResponsibilityIndex(city.hierarchy, roster, city.policy)
    fell = 0
    for grid in city.hierarchy.grids:
        full = index.responsible(grid, "city_management", later)
        fell += full.direct.vacant
        assert index.direct(grid, "city_management", later) == (
            full.direct.person,
            full.direct.fell_back_to,
        )
    assert fell > 0


def test_direct_cache_never_answers_from_a_stale_interval() -> None:
    """Asked at shuffled instants around starts and ends, `direct` always matches `responsible`."""
    import random

    from gridcore.staffing import ResponsibilityIndex
    from gridcore.synth import DEFAULT_START, synthetic_city

    city = synthetic_city("shibanxi", seed=4)
    grids = set(city.hierarchy.grids)
    roster = city.roster
    posts = [a for a in roster.assignments if a.area in grids][:6]
    for i, a in enumerate(posts):  # vacancies opening on different days
        roster = roster.end_assignment(a, DEFAULT_START + timedelta(days=2 + i))
    index = ResponsibilityIndex(city.hierarchy, roster, city.policy)
    instants = [DEFAULT_START + timedelta(days=d, hours=h) for d in range(10) for h in (0, 12)]
    instants += [DEFAULT_START + timedelta(days=2 + i) for i in range(6)]  # exactly at ends
    rng = random.Random(7)
    asks = [(g, t) for g in sorted(grids) for t in instants]
    rng.shuffle(asks)
    vacant = 0
    for g, t in asks:
        full = index.responsible(g, "city_management", t).direct
        vacant += full.vacant
        assert index.direct(g, "city_management", t) == (full.person, full.fell_back_to)
    assert vacant > 0
