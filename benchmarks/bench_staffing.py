"""responsible() per call on the yubei preset (3,311 grids, 18,900 staff) vs a linear scan.

Run: .venv/bin/pytest benchmarks/bench_staffing.py --benchmark-only
Each timed round answers the same 200 seeded (grid, duty) questions.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing import (
    YUBEI,
    Duty,
    ResponsibilityIndex,
    Role,
    Roster,
    StaffingPolicy,
    responsible,
    staff_city,
)
from gridcore.synth import build_city

T0 = datetime(2024, 1, 1, tzinfo=UTC)
AT = datetime(2024, 6, 1, tzinfo=UTC)
N = 200


@pytest.fixture(scope="module")
def city() -> tuple[Hierarchy, Roster, list[tuple[AreaCode, Duty | Role]]]:
    h = build_city("yubei", seed=1)
    roster = staff_city(h, YUBEI, seed=1, start=T0, staff_total=18_900)
    assert len(roster.people) == 18_900
    rng = np.random.default_rng(7)
    choices: list[Duty | Role] = [*Duty, Role.ASSISTANT]
    grids = rng.integers(0, len(h.grids), size=N)
    duties = rng.integers(0, len(choices), size=N)
    questions = [(h.grids[int(g)], choices[int(d)]) for g, d in zip(grids, duties, strict=True)]
    return h, roster, questions


def naive_responsible(
    h: Hierarchy, roster: Roster, policy: StaffingPolicy, grid: str, duty: Duty | Role
) -> tuple[PersonId | None, ...]:
    """Baseline: walk up from the role's home area, scanning every assignment at each step."""
    chain = policy.chain(duty)
    out: list[PersonId | None] = []
    for role in (chain.direct, chain.first, chain.supervising):
        if role is None:
            continue
        home = h.ancestor_at(grid, policy.home_level(role, h.scheme.leaf_level))
        found: PersonId | None = None
        for area in (home, *h.ancestors(home)):
            for a in roster.assignments:
                if a.area == area and a.role == role and a.active(AT):
                    found = a.person
                    break
            if found is not None:
                break
        out.append(found)
    return tuple(out)


def _persons(idx: ResponsibilityIndex, qs: list[tuple[AreaCode, Duty | Role]]) -> list[object]:
    return [tuple(s.person for s in idx.responsible(g, d, AT).slots) for g, d in qs]


def test_responsible_indexed(benchmark, city) -> None:  # type: ignore[no-untyped-def]
    """Indexed: precomputed paths, per-(area, role) periods, bisect on time."""
    h, roster, qs = city
    idx = ResponsibilityIndex(h, roster, YUBEI)
    got = benchmark(_persons, idx, qs)
    assert all(p is not None for ps in got for p in ps)
    assert got[:10] == [naive_responsible(h, roster, YUBEI, g, d) for g, d in qs[:10]]


def test_responsible_function(benchmark, city) -> None:  # type: ignore[no-untyped-def]
    """The module function, which reuses a cached index for the same inputs."""
    h, roster, qs = city

    def run() -> int:
        return sum(
            responsible(h, roster, g, d, AT, policy=YUBEI).direct.person is not None for g, d in qs
        )

    assert benchmark(run) == N


def test_responsible_naive_baseline(benchmark, city) -> None:  # type: ignore[no-untyped-def]
    """Baseline: a linear scan over the 18,900 assignments for each slot."""
    h, roster, qs = city
    got = benchmark.pedantic(
        lambda: [naive_responsible(h, roster, YUBEI, g, d) for g, d in qs], rounds=3, iterations=1
    )
    assert len(got) == N
    assert all(p is not None for ps in got for p in ps)
