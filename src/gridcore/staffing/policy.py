"""Staffing policies as data: the posts every area needs, capacities, and duty chains.

The built-in policies come from the cities in DOMAIN.md (Tianjin, Yichang, Chongqing).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from gridcore.errors import StaffingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.staffing.roles import LEAF, SIX_DUTIES, VOLUNTEERS, Duty, Role


@attrs.frozen
class Requirement:
    """`count` holders of `role` in every leaf grid."""

    role: Role = attrs.field(converter=Role)
    count: int = 1


@attrs.frozen
class LevelRequirement:
    """`count` holders of `role` in every area at `level` (a level name or `LEAF`)."""

    level: str
    role: Role = attrs.field(converter=Role)
    count: int = 1


@attrs.frozen
class Chain:
    """The roles that answer for a duty: direct, first and supervising responsible."""

    direct: Role
    first: Role | None = None
    supervising: Role | None = None


def _proxy(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value))


_DEFAULT_ALLOWED: Mapping[Role, frozenset[str]] = MappingProxyType(
    {
        Role.ASSISTANT: frozenset({LEAF}),
        Role.FULL_DUTY: frozenset({LEAF}),
        Role.MANAGER: frozenset({LEAF, "community"}),
        Role.SUPERVISOR: frozenset({LEAF, "community", "street"}),
        Role.CHIEF: frozenset({LEAF, "community", "street"}),
        **{v: frozenset({LEAF}) for v in VOLUNTEERS},
    }
)


@attrs.frozen(hash=False)
class StaffingPolicy:
    """A staffing model as data.

    `grid`: what every leaf grid needs; `levels`: what areas above need (e.g. a
    supervisor per street); `capacity`: most areas one person may hold in a role;
    `allowed`: levels where a role may sit (roles absent: anywhere; `LEAF` stands
    for the leaf level); `chains`: roles answering for each duty, `default_chain`
    for the others; `extra_roles`: roles used for staff beyond the requirements
    when a head count is asked; `staff_per_grid`: head count per grid to reach by
    default (None: just the requirements).
    """

    name: str
    description: str
    grid: tuple[Requirement, ...]
    default_chain: Chain
    levels: tuple[LevelRequirement, ...] = ()
    chains: Mapping[Duty, Chain] = attrs.field(factory=dict, converter=_proxy)
    capacity: Mapping[Role, int] = attrs.field(factory=dict, converter=_proxy)
    allowed: Mapping[Role, frozenset[str]] = attrs.field(default=_DEFAULT_ALLOWED, converter=_proxy)
    extra_roles: tuple[Role, ...] = VOLUNTEERS
    staff_per_grid: float | None = None

    def __attrs_post_init__(self) -> None:
        reqs: list[Requirement | LevelRequirement] = [*self.grid, *self.levels]
        for r in reqs:
            if r.count < 1:
                raise StaffingError(
                    f"policy {self.name!r}: {r.role.value} count = {r.count}, expected >= 1"
                )
        for role, cap in self.capacity.items():
            if cap < 1:
                raise StaffingError(
                    f"policy {self.name!r}: capacity of {role.value} = {cap}, expected >= 1"
                )
        if not self.extra_roles:
            raise StaffingError(f"policy {self.name!r}: extra_roles is empty, expected a role")

    def chain(self, duty: Duty | Role | str) -> Chain:
        """The roles answering for a duty; a role answers as the direct one."""
        if isinstance(duty, Duty):
            return self.chains.get(duty, self.default_chain)
        if isinstance(duty, Role):
            return attrs.evolve(self.default_chain, direct=duty)
        try:
            return self.chain(Duty(duty))
        except ValueError:
            pass
        try:
            return self.chain(Role(duty))
        except ValueError:
            raise UnknownItemError(
                "duty or role",
                duty,
                f"duties {[d.value for d in Duty]}, roles {[r.value for r in Role]}",
            ) from None

    def home_level(self, role: Role, scheme_leaf: str) -> str:
        """The lowest level where the policy asks for `role` (the leaf if nowhere)."""
        if any(r.role == role for r in self.grid):
            return scheme_leaf
        for r in self.levels:
            if r.role == role:
                return scheme_leaf if r.level == LEAF else r.level
        return scheme_leaf

    def requirements(self, leaf: str) -> tuple[LevelRequirement, ...]:
        """Every requirement as (level, role, count), the leaf ones first."""
        return (
            *(LevelRequirement(leaf, r.role, r.count) for r in self.grid),
            *(
                LevelRequirement(leaf if r.level == LEAF else r.level, r.role, r.count)
                for r in self.levels
            ),
        )

    def min_staff(self, hierarchy: Hierarchy) -> int:
        """Head count that fills every requirement, one person per post."""
        leaf = hierarchy.scheme.leaf_level
        return sum(len(hierarchy.at_level(r.level)) * r.count for r in self.requirements(leaf))


_THREE = Chain(Role.ASSISTANT, Role.MANAGER, Role.SUPERVISOR)

THREE_PER_GRID = StaffingPolicy(
    name="three_per_grid",
    description="Tianjin: an assistant (direct), a manager (first) and a supervisor per grid",
    grid=(Requirement(Role.ASSISTANT), Requirement(Role.MANAGER), Requirement(Role.SUPERVISOR)),
    default_chain=_THREE,
    capacity={Role.ASSISTANT: 1, Role.MANAGER: 2, Role.SUPERVISOR: 6},
)
"""三员: assistant 协管员, manager 管理员, supervisor 督导员 in every grid (Tianjin)."""

FULL_DUTY = StaffingPolicy(
    name="full_duty",
    description="Yichang: one full-duty worker per grid doing the six duties; "
    "a supervisor per street",
    grid=(Requirement(Role.FULL_DUTY),),
    levels=(LevelRequirement("street", Role.SUPERVISOR),),
    default_chain=Chain(Role.FULL_DUTY, Role.FULL_DUTY, Role.SUPERVISOR),
    chains={d: Chain(Role.FULL_DUTY, Role.FULL_DUTY, Role.SUPERVISOR) for d in SIX_DUTIES},
    capacity={Role.FULL_DUTY: 1, Role.SUPERVISOR: 1},
)
"""一格一员、综合履职: one full-duty worker a grid, a supervisor a street (Yichang)."""

TWO_PER_GRID = StaffingPolicy(
    name="two_per_grid",
    description="Shuanghu Road: two workers per grid (a full-duty worker and an assistant)",
    grid=(Requirement(Role.FULL_DUTY), Requirement(Role.ASSISTANT)),
    default_chain=Chain(Role.ASSISTANT, Role.FULL_DUTY, None),
    capacity={Role.FULL_DUTY: 1, Role.ASSISTANT: 1},
)
"""Two workers a grid: 12 grids, 24 workers (Shuanghu Road community, Chongqing)."""

YUBEI = StaffingPolicy(
    name="yubei",
    description="Yubei: a full-duty worker, an assistant and volunteers per grid "
    "(about 5.7 staff a grid), a chief per community, a supervisor per street",
    grid=(
        Requirement(Role.FULL_DUTY),
        Requirement(Role.ASSISTANT),
        Requirement(Role.VOLUNTEER_PATROL),
        Requirement(Role.VOLUNTEER_INFORMATION),
    ),
    levels=(
        LevelRequirement("community", Role.CHIEF),
        LevelRequirement("street", Role.SUPERVISOR),
    ),
    default_chain=Chain(Role.ASSISTANT, Role.FULL_DUTY, Role.CHIEF),
    chains={d: Chain(Role.FULL_DUTY, Role.CHIEF, Role.SUPERVISOR) for d in SIX_DUTIES},
    capacity={Role.FULL_DUTY: 1, Role.ASSISTANT: 1, Role.CHIEF: 1, Role.SUPERVISOR: 1},
    staff_per_grid=18_900 / 3_311,
)
"""About 5.7 staff a grid: 3,311 grids and 18,900 workers (Yubei district, Chongqing)."""

POLICIES: Mapping[str, StaffingPolicy] = MappingProxyType(
    {p.name: p for p in (FULL_DUTY, THREE_PER_GRID, TWO_PER_GRID, YUBEI)}
)
"""The built-in staffing policies by name."""


def get_policy(policy: StaffingPolicy | str) -> StaffingPolicy:
    """A policy itself, or the built-in one with this name."""
    if isinstance(policy, StaffingPolicy):
        return policy
    try:
        return POLICIES[policy]
    except KeyError:
        raise UnknownItemError("staffing policy", policy, f"policies {sorted(POLICIES)}") from None
