"""Staffing properties: vacancies found exactly, CSV round trips, fallback keeps the top."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.ids import AreaCode, DepartmentId, PersonId
from gridcore.io.staff_csv import read_roster_csv, write_roster_csv
from gridcore.staffing import (
    THREE_PER_GRID,
    VACANCY_KINDS,
    YUBEI,
    Assignment,
    Duty,
    Person,
    ResponsibilityIndex,
    Role,
    Roster,
    check_policy,
    staff_city,
)
from gridcore.synth import build_city

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CITY = build_city("tianjin-pilot", seed=5)
ROSTER = staff_city(CITY, THREE_PER_GRID, seed=5, start=T0)
SMALL = build_city("xiling", seed=5)
SMALL_ROSTER = staff_city(SMALL, YUBEI, seed=5, start=T0, staff_total=800)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, len(ROSTER.assignments) - 1), max_size=25))
def test_policy_check_finds_exactly_the_vacancies_removed(removed: set[int]) -> None:
    """Removing assignments makes exactly their (area, role) posts vacant, nothing else."""
    gone = [ROSTER.assignments[i] for i in removed]
    r = ROSTER.with_changes(remove=gone)
    found = check_policy(CITY, r, THREE_PER_GRID, T0)
    assert all(v.kind in VACANCY_KINDS for v in found)
    assert {(v.area, v.role) for v in found} == {(a.area, a.role) for a in gone}
    assert len(found) == len(gone)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, len(ROSTER.assignments) - 1), max_size=25), st.integers(1, 30))
def test_ended_assignments_are_found_as_expired(ended: set[int], days: int) -> None:
    """Ending assignments before the check names each of their holders."""
    r = ROSTER
    for i in ended:
        r = r.end_assignment(ROSTER.assignments[i], T0 + timedelta(days=days))
    found = check_policy(CITY, r, THREE_PER_GRID, T0 + timedelta(days=days))
    assert {(v.area, v.role, v.person) for v in found} == {
        (ROSTER.assignments[i].area, ROSTER.assignments[i].role, ROSTER.assignments[i].person)
        for i in ended
    }


@settings(max_examples=30, deadline=None)
@given(
    st.sets(st.integers(0, len(SMALL_ROSTER.assignments) - 1), max_size=60),
    st.sampled_from([*Duty, Role.ASSISTANT, Role.VOLUNTEER_PATROL]),
    st.integers(0, len(SMALL.grids) - 1),
)
def test_fallback_returns_a_person_when_the_top_has_one(
    removed: set[int], duty: Duty | Role, grid_i: int
) -> None:
    """With every role held at the city, any vacancy below still yields a person."""
    city = SMALL.roots[0]
    tops = [Person(PersonId(f"TOP-{r.value}"), "top", capacity=1) for r in Role]
    top_asg = [Assignment(p.id, r, city, T0) for p, r in zip(tops, Role, strict=True)]
    r = SMALL_ROSTER.with_changes(
        remove=[SMALL_ROSTER.assignments[i] for i in removed], add_people=tops, add=top_asg
    )
    resp = ResponsibilityIndex(SMALL, r, YUBEI).responsible(SMALL.grids[grid_i], duty, T0)
    for slot in resp.slots:
        assert slot.person is not None
        if slot.vacant:
            assert slot.fell_back_to is not None
            assert slot.fell_back_to in SMALL.ancestors(slot.home)
        else:
            assert slot.fell_back_to is None
            held = {a.person for a in r.holders(slot.home, slot.role, T0)}
            assert slot.person in held


_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [
            UTC,
            *(timezone(timedelta(minutes=m)) for m in (-300, 330, 480, 525)),
        ]
    ),
)


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    n = draw(st.integers(1, 6))
    people = [
        Person(
            PersonId(f"P{i}-{draw(st.text('abcxyz-', max_size=3))}"),
            draw(_text),
            frozenset(draw(st.sets(st.sampled_from(list(Role)), max_size=3))),
            draw(st.integers(1, 9)),
            draw(st.one_of(st.none(), st.text("abcdef", min_size=1).map(DepartmentId))),
        )
        for i in range(n)
    ]
    asg = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(_instants)
        end = draw(st.one_of(st.none(), st.integers(1, 10**9).map(lambda s: timedelta(seconds=s))))
        asg.append(
            Assignment(
                draw(st.sampled_from(people)).id,
                draw(st.sampled_from(list(Role))),
                AreaCode(draw(st.text("0123456789/", min_size=1, max_size=14))),
                start,
                None if end is None else start + end,
            )
        )
    return Roster(people, asg, policy="yubei")


@settings(max_examples=60, deadline=None)
@given(rosters())
def test_csv_round_trip_is_lossless(roster: Roster) -> None:
    """Whatever is written reads back equal, offsets included."""
    with tempfile.TemporaryDirectory() as d:
        p, a = Path(d) / "people.csv", Path(d) / "assignments.csv"
        write_roster_csv(roster, p, a)
        back = read_roster_csv(p, a, policy="yubei")
    assert back == roster
    for x, y in zip(back.assignments, roster.assignments, strict=True):
        assert x.start.utcoffset() == y.start.utcoffset()
