"""`check_policy`: every way a roster falls short of a staffing policy at an instant."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from gridcore.errors import StaffingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing.policy import StaffingPolicy, get_policy
from gridcore.staffing.roles import LEAF, Role
from gridcore.staffing.roster import Assignment, Roster, _ts


class ViolationKind(StrEnum):
    """What is wrong with a roster against a policy."""

    VACANT = "vacant"
    """A required post has fewer holders than asked, and nobody held it before."""
    EXPIRED = "expired"
    """A required post is short because an assignment to it has ended."""
    OVER_CAPACITY = "over_capacity"
    """A person holds more assignments than their capacity or the role's capacity."""
    UNKNOWN_AREA = "unknown_area"
    """An assignment to an area the hierarchy does not hold."""
    ROLE_NOT_ALLOWED = "role_not_allowed"
    """A role held at a level the policy does not allow, or by a person not allowed it."""


VACANCY_KINDS = frozenset({ViolationKind.VACANT, ViolationKind.EXPIRED})
"""The kinds that mean a post is not filled."""


@attrs.frozen
class Violation:
    """One finding of `check_policy`, naming the area, role and person concerned."""

    kind: ViolationKind
    area: AreaCode | None
    role: Role | None
    person: PersonId | None
    detail: str

    def __str__(self) -> str:
        parts = [self.kind.value]
        if self.area is not None:
            parts.append(f"area {self.area}")
        if self.role is not None:
            parts.append(f"role {self.role.value}")
        if self.person is not None:
            parts.append(f"person {self.person}")
        return f"{', '.join(parts)}: {self.detail}"


def check_policy(
    hierarchy: Hierarchy, roster: Roster, policy: StaffingPolicy | str, at: datetime
) -> list[Violation]:
    """Every way the roster falls short of the policy at `at`, in a stable order.

    Vacancies first (in hierarchy order), then per assignment: unknown areas,
    roles not allowed at a level or for a person; then people over capacity.
    """
    policy = get_policy(policy)
    ts = _ts(at, "check instant")
    out = _vacancies(hierarchy, roster, policy, at, ts)
    active = [a for a in roster.assignments if a.active(at)]
    _misplaced(hierarchy, roster, policy, active, out)
    _over_capacity(roster, policy, active, out)
    return out


def _vacancies(
    hierarchy: Hierarchy, roster: Roster, policy: StaffingPolicy, at: datetime, ts: float
) -> list[Violation]:
    """Required posts with fewer holders than asked, in hierarchy order (vacant or expired)."""
    out: list[Violation] = []
    for req in policy.requirements(hierarchy.scheme.leaf_level):
        try:
            codes = hierarchy.at_level(req.level)
        except UnknownItemError:
            raise StaffingError(
                f"policy {policy.name!r}: level {req.level!r} is not in scheme "
                f"{hierarchy.scheme.name!r} {hierarchy.scheme.level_names}"
            ) from None
        for code in codes:
            held = roster.holders_ts(code, req.role, ts)
            if len(held) >= req.count:
                continue
            missing = req.count - len(held)
            ended = roster.last_ended(code, req.role, at)
            if ended is not None:
                assert ended.end is not None
                out.append(
                    Violation(
                        ViolationKind.EXPIRED,
                        code,
                        req.role,
                        ended.person,
                        f"{missing} of {req.count} {req.role.value} post(s) open since the "
                        f"assignment of {ended.person} ended at {ended.end.isoformat()}",
                    )
                )
            else:
                out.append(
                    Violation(
                        ViolationKind.VACANT,
                        code,
                        req.role,
                        None,
                        f"{missing} of {req.count} {req.role.value} post(s) held by nobody",
                    )
                )
    return out


def _misplaced(
    hierarchy: Hierarchy,
    roster: Roster,
    policy: StaffingPolicy,
    active: list[Assignment],
    out: list[Violation],
) -> None:
    """Active assignments in an unknown area, at a level the policy does not allow for
    their role, or held by a person not allowed the role (appended to `out`)."""
    leaf = hierarchy.scheme.leaf_level
    for a in active:
        if a.area not in hierarchy:
            out.append(
                Violation(
                    ViolationKind.UNKNOWN_AREA,
                    a.area,
                    a.role,
                    a.person,
                    f"assigned to area {a.area!r}, which hierarchy v{hierarchy.version} "
                    "does not hold",
                )
            )
            continue
        allowed = policy.allowed.get(a.role)
        level = hierarchy.level_of(a.area)
        if allowed is not None and level not in allowed and not (LEAF in allowed and level == leaf):
            names = sorted(leaf if x == LEAF else x for x in allowed)
            out.append(
                Violation(
                    ViolationKind.ROLE_NOT_ALLOWED,
                    a.area,
                    a.role,
                    a.person,
                    f"{a.role.value} held at level {level!r}, expected one of {names}",
                )
            )
        if not roster.person(a.person).may_hold(a.role):
            allowed_roles = sorted(r.value for r in roster.person(a.person).roles)
            out.append(
                Violation(
                    ViolationKind.ROLE_NOT_ALLOWED,
                    a.area,
                    a.role,
                    a.person,
                    f"{a.person} may hold only {allowed_roles}",
                )
            )


def _over_capacity(
    roster: Roster, policy: StaffingPolicy, active: list[Assignment], out: list[Violation]
) -> None:
    """People holding more than their capacity, or more of one role than the policy
    allows, in order of their first active assignment (appended to `out`)."""
    per_person: dict[PersonId, list[Assignment]] = {}
    for a in active:
        per_person.setdefault(a.person, []).append(a)
    for pid, mine in per_person.items():
        person = roster.person(pid)
        if len(mine) > person.capacity:
            out.append(
                Violation(
                    ViolationKind.OVER_CAPACITY,
                    None,
                    None,
                    pid,
                    f"holds {len(mine)} assignments, capacity {person.capacity}",
                )
            )
        counts: dict[Role, int] = {}
        for a in mine:
            counts[a.role] = counts.get(a.role, 0) + 1
        for role, n in counts.items():
            cap = policy.capacity.get(role)
            if cap is not None and n > cap:
                out.append(
                    Violation(
                        ViolationKind.OVER_CAPACITY,
                        None,
                        role,
                        pid,
                        f"holds {role.value} in {n} areas, policy allows {cap}",
                    )
                )
