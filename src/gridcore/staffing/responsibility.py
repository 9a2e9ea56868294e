"""Responsibility (责任): the direct, first and supervising responsible persons of a grid.

A vacant post falls back up the hierarchy to the nearest ancestor whose holder answers.
`ResponsibilityIndex.direct` is the hot path (the routing index and the simulation ask it
once per case): an answer is cached with the interval in which no assignment on its path
starts or ends; tests/unit/test_staffing.py holds it equal to `responsible(...).direct`.
"""

from __future__ import annotations

import math
from datetime import datetime

import attrs

from gridcore.errors import StaffingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing.policy import POLICIES, StaffingPolicy, get_policy
from gridcore.staffing.roles import Duty, Role
from gridcore.staffing.roster import Periods, Roster, _ts


@attrs.frozen
class Responsible:
    """Who answers in one slot of a responsibility chain.

    `home` is the area where the policy places the role (the grid, or its
    community/street); `vacant` is True when nobody holds the role there.
    `fell_back_to` is the ancestor whose holder answers instead, or None.
    `person` is None when nobody holds the role at home or above.
    """

    role: Role
    person: PersonId | None
    home: AreaCode
    vacant: bool
    fell_back_to: AreaCode | None

    @property
    def area(self) -> AreaCode | None:
        """The area whose holder answers (None when nobody does)."""
        if self.person is None:
            return None
        return self.fell_back_to if self.fell_back_to is not None else self.home


@attrs.frozen
class Responsibility:
    """The direct, first and supervising responsible persons of a grid for a duty at an instant."""

    grid: AreaCode
    duty: Duty | Role
    at: datetime
    direct: Responsible
    first: Responsible | None
    supervising: Responsible | None

    @property
    def slots(self) -> tuple[Responsible, ...]:
        """The slots the policy defines, direct first."""
        return tuple(s for s in (self.direct, self.first, self.supervising) if s is not None)

    @property
    def vacant(self) -> bool:
        """True if any slot is vacant at its home area (even if a fallback answers)."""
        return any(s.vacant for s in self.slots)

    @property
    def fell_back_to(self) -> AreaCode | None:
        """The area the direct slot fell back to, if it did."""
        return self.direct.fell_back_to


_SlotPlan = tuple[Role, int, dict[AreaCode, Periods]]


class ResponsibilityIndex:
    """Precomputed paths and home levels, so `responsible` costs a few dict lookups and bisects.

    Build once per (hierarchy, roster, policy); the routing index and the
    simulation ask it once per case.
    """

    __slots__ = (
        "_answers",
        "_by_role",
        "_home_up",
        "_paths",
        "_plans",
        "hierarchy",
        "policy",
        "roster",
    )

    def __init__(
        self, hierarchy: Hierarchy, roster: Roster, policy: StaffingPolicy | str | None = None
    ) -> None:
        self.hierarchy = hierarchy
        self.roster = roster
        if policy is None:
            if roster.policy is None:
                raise StaffingError(
                    "responsibility: no policy given and the roster names none; "
                    f"expected one of {sorted(POLICIES)} or a StaffingPolicy"
                )
            policy = roster.policy
        self.policy = get_policy(policy)
        # Path from the grid upwards, grid first: the order a vacancy falls back in.
        self._paths: dict[AreaCode, tuple[AreaCode, ...]] = {}
        leaf = hierarchy.scheme.leaf_level
        depth = len(hierarchy.scheme.levels) - 1
        ancestors = [hierarchy.grid_ancestor_codes(lv) for lv in hierarchy.scheme.level_names]
        for i, g in enumerate(hierarchy.grids):
            self._paths[g] = tuple(ancestors[d][i] for d in range(depth, -1, -1))
        # Levels above the leaf at which each role's home sits.
        self._home_up: dict[Role, int] = {}
        for role in Role:
            home = self.policy.home_level(role, leaf)
            self._home_up[role] = depth - hierarchy.scheme.depth(home)
        # One area -> periods map per role: saves hashing an enum on every lookup.
        self._by_role: dict[Role, dict[AreaCode, Periods]] = {r: {} for r in Role}
        for (area, role), slots in roster.periods().items():
            self._by_role[role][area] = slots
        self._plans: dict[object, tuple[Duty | Role, tuple[_SlotPlan | None, ...]]] = {}
        self._answers: dict[
            tuple[str, object], tuple[float, float, PersonId | None, AreaCode | None]
        ] = {}

    def _plan(self, duty: Duty | Role | str) -> tuple[Duty | Role, tuple[_SlotPlan | None, ...]]:
        plan = self._plans.get(duty)
        if plan is None:
            chain = self.policy.chain(duty)
            key: Duty | Role = duty if isinstance(duty, Duty | Role) else _duty_or_role(duty)
            plan = (
                key,
                tuple(
                    None if r is None else (r, self._home_up[r], self._by_role[r])
                    for r in (chain.direct, chain.first, chain.supervising)
                ),
            )
            self._plans[duty] = plan
        return plan

    @staticmethod
    def _slot(path: tuple[AreaCode, ...], plan: _SlotPlan, ts: float) -> Responsible:
        role, up, areas = plan
        up = min(up, len(path) - 1)
        for k in range(up, len(path)):
            slots = areas.get(path[k])
            if slots is None:
                continue
            held = slots.at(ts)
            if held:
                return Responsible(
                    role, held[0].person, path[up], k != up, None if k == up else path[k]
                )
        return Responsible(role, None, path[up], True, None)

    def direct(
        self, grid: str, duty: Duty | Role | str, at: datetime | float
    ) -> tuple[PersonId | None, AreaCode | None]:
        """The direct responsible person for `duty` in `grid` at `at` and, after a vacancy,
        the ancestor area whose holder answers (None when the post is filled).

        The same answer as `responsible(...).direct`, without building the records:
        the routing index and the simulation ask this once per case. `at` may also
        be the POSIX timestamp of an aware instant (a float), for callers that ask
        many times at one instant and convert it once.
        """
        # The hot path: an answer holds until some assignment on its path starts or
        # ends, so it is cached with that interval and most calls are one dict hit
        # (only known grids are ever cached, so a hit needs no other check).
        key = (grid, duty)
        hit = self._answers.get(key)
        if hit is not None and isinstance(at, float) and hit[0] <= at < hit[1]:
            return hit[2], hit[3]
        path = self._paths.get(grid)  # type: ignore[call-overload]
        if path is None:  # raises the right error (before looking at `at`)
            return self.responsible(grid, duty, at).direct.person, None  # type: ignore[arg-type]
        ts: float = at if isinstance(at, float) else _ts(at)
        if hit is not None and hit[0] <= ts < hit[1]:
            return hit[2], hit[3]
        plan = self._plans.get(duty)
        if plan is None:
            plan = self._plan(duty)
        role_plan = plan[1][0]
        assert role_plan is not None
        areas = role_plan[2]
        n = len(path)
        up = role_plan[1] if role_plan[1] < n else n - 1
        t0, t1 = -math.inf, math.inf
        answer: tuple[PersonId | None, AreaCode | None] = (None, None)
        for k in range(up, n):
            slots = areas.get(path[k])
            if slots is None:
                continue
            lo, hi = slots.steady(ts)
            t0, t1 = max(t0, lo), min(t1, hi)
            held = slots.at(ts)
            if held:
                answer = (held[0].person, None if k == up else path[k])
                break
        self._answers[key] = (t0, t1, answer[0], answer[1])
        return answer

    def responsible(self, grid: str, duty: Duty | Role | str, at: datetime) -> Responsibility:
        """The direct, first and supervising responsible persons of `grid` for `duty` at `at`."""
        path = self._paths.get(AreaCode(grid))
        if path is None:
            if grid in self.hierarchy:
                raise StaffingError(
                    f"responsibility: area {grid!r} is a {self.hierarchy.level_of(grid)!r}, "
                    f"expected a {self.hierarchy.scheme.leaf_level!r}"
                )
            raise UnknownItemError("grid", grid, f"hierarchy v{self.hierarchy.version}")
        ts = _ts(at)
        key, (direct, first, sup) = self._plan(duty)
        assert direct is not None
        slot = self._slot
        return Responsibility(
            path[0],
            key,
            at,
            slot(path, direct, ts),
            None if first is None else slot(path, first, ts),
            None if sup is None else slot(path, sup, ts),
        )


def _duty_or_role(value: str) -> Duty | Role:
    try:
        return Duty(value)
    except ValueError:
        return Role(value)


_INDEX_CACHE: dict[
    tuple[int, int, int], tuple[Hierarchy, Roster, StaffingPolicy, ResponsibilityIndex]
] = {}


def responsible(
    hierarchy: Hierarchy,
    roster: Roster,
    grid: str,
    duty_or_role: Duty | Role | str,
    at: datetime,
    *,
    policy: StaffingPolicy | str | None = None,
) -> Responsibility:
    """The direct, first and supervising responsible persons of `grid` for a duty at `at`.

    `policy` maps duties to roles (default: the roster's policy). A vacant post
    falls back up the hierarchy to the nearest ancestor whose holder answers,
    and the answer says so. The index behind it is built on first use and
    reused while the same hierarchy, roster and policy are asked.
    """
    pol = get_policy(policy if policy is not None else roster.policy or "")
    key = (id(hierarchy), id(roster), id(pol))
    hit = _INDEX_CACHE.get(key)
    if hit is None or hit[0] is not hierarchy or hit[1] is not roster or hit[2] is not pol:
        # A few entries only: callers usually ask about one city at a time.
        if len(_INDEX_CACHE) >= 8:
            _INDEX_CACHE.clear()
        hit = (hierarchy, roster, pol, ResponsibilityIndex(hierarchy, roster, pol))
        _INDEX_CACHE[key] = hit
    return hit[3].responsible(grid, duty_or_role, at)
