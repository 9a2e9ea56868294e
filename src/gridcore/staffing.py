"""Staff, roles and responsibility (人员、角色、责任): who answers for a grid, and when.

A `Roster` holds people and their assignments (a person, a role, an area, a
period). A `StaffingPolicy` is data: the roles each grid (and each level above)
must have, how many areas one person may hold, where each role may sit, and which
roles answer for each duty. `check_policy` lists every way a roster falls short
of a policy at an instant; `responsible` names the direct, first and supervising
responsible persons of a grid for a duty, falling back up the hierarchy when a
post is vacant. Instants are timezone-aware datetimes; periods are half-open
`[start, end)`, `end=None` meaning open-ended.

>>> from datetime import datetime, timezone
>>> from gridcore.synth import build_city
>>> h = build_city("shuanghu", seed=1)
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> roster = staff_city(h, "two_per_grid", seed=1, start=t0)
>>> len(roster.people)
24
>>> check_policy(h, roster, TWO_PER_GRID, t0)
[]
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from gridcore.errors import StaffingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, DepartmentId, PersonId

__all__ = [
    "DUTY_ZH",
    "FULL_DUTY",
    "LEAF",
    "POLICIES",
    "ROLE_ZH",
    "SIX_DUTIES",
    "THREE_PER_GRID",
    "TWO_PER_GRID",
    "VACANCY_KINDS",
    "VOLUNTEERS",
    "YUBEI",
    "Assignment",
    "Chain",
    "Duty",
    "GridLoad",
    "LevelRequirement",
    "Person",
    "PersonLoad",
    "Requirement",
    "Responsibility",
    "ResponsibilityIndex",
    "Responsible",
    "Role",
    "Roster",
    "StaffingPolicy",
    "Violation",
    "ViolationKind",
    "Workload",
    "check_policy",
    "get_policy",
    "responsible",
    "staff_city",
    "workload",
]


class Role(StrEnum):
    """A role a person holds in an area (DOMAIN.md section 2)."""

    ASSISTANT = "assistant"
    """网格协管员: the direct responsible person; finds and reports problems."""
    MANAGER = "manager"
    """网格管理员: the first responsible person; verifies, mediates, handles."""
    SUPERVISOR = "supervisor"
    """网格督导员: a street official who checks and urges."""
    CHIEF = "chief"
    """网格长: grid chief, leading backbone volunteers (Jiangsu)."""
    FULL_DUTY = "full_duty_worker"
    """专职网格员: one full-time worker per grid doing the six duties (Yichang)."""
    VOLUNTEER_INFORMATION = "volunteer_information"
    VOLUNTEER_SANITATION = "volunteer_sanitation"
    VOLUNTEER_PATROL = "volunteer_patrol"
    VOLUNTEER_MEDIATION = "volunteer_mediation"
    VOLUNTEER_LABOUR = "volunteer_labour"
    VOLUNTEER_ELDERLY_CARE = "volunteer_elderly_care"
    VOLUNTEER_FAMILY_PLANNING = "volunteer_family_planning"
    VOLUNTEER_COUNSELLING = "volunteer_counselling"
    OFFICER = "department_officer"
    """职能部门工作人员: an officer of a functional department."""


ROLE_ZH: Mapping[Role, str] = MappingProxyType(
    {
        Role.ASSISTANT: "网格协管员",
        Role.MANAGER: "网格管理员",
        Role.SUPERVISOR: "网格督导员",
        Role.CHIEF: "网格长",
        Role.FULL_DUTY: "专职网格员",
        Role.VOLUNTEER_INFORMATION: "信息员",
        Role.VOLUNTEER_SANITATION: "保洁员",
        Role.VOLUNTEER_PATROL: "巡防员",
        Role.VOLUNTEER_MEDIATION: "调解员",
        Role.VOLUNTEER_LABOUR: "劳动保障协理员",
        Role.VOLUNTEER_ELDERLY_CARE: "助老员",
        Role.VOLUNTEER_FAMILY_PLANNING: "计生员",
        Role.VOLUNTEER_COUNSELLING: "心理咨询员",
        Role.OFFICER: "部门工作人员",
    }
)
"""The Chinese name of each role."""

VOLUNTEERS: tuple[Role, ...] = tuple(r for r in Role if r.name.startswith("VOLUNTEER_"))
"""The eight kinds of volunteers that support grid workers (Yichang)."""


class Duty(StrEnum):
    """A line of work a grid answers for: the six duties of a full-duty worker (Yichang)."""

    INFORMATION = "information_collection"
    ORDER = "comprehensive_order"
    LABOUR = "labour_security"
    CIVIL = "civil_affairs"
    FAMILY_PLANNING = "family_planning"
    CITY_MANAGEMENT = "city_management"


DUTY_ZH: Mapping[Duty, str] = MappingProxyType(
    {
        Duty.INFORMATION: "信息采集",
        Duty.ORDER: "综合治理",
        Duty.LABOUR: "劳动保障",
        Duty.CIVIL: "民政服务",
        Duty.FAMILY_PLANNING: "计划生育",
        Duty.CITY_MANAGEMENT: "城市管理",
    }
)
"""The Chinese name of each duty."""

SIX_DUTIES: tuple[Duty, ...] = tuple(Duty)
"""一格一员、综合履职: the six duties one full-duty worker does."""

LEAF = "@leaf"
"""In a policy, the name that stands for the scheme's leaf level (grid, household group...)."""


# -- people and assignments ------------------------------------------------------------------


def _aware(name: str) -> Any:
    def check(inst: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
        if value is None:
            return
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise StaffingError(
                f"{type(inst).__name__} {name} = {value!r}: expected a timezone-aware datetime"
            )

    return check


def _roles(value: Iterable[Role | str]) -> frozenset[Role]:
    try:
        return frozenset(Role(r) for r in value)
    except ValueError as exc:
        raise StaffingError(
            f"person roles: {exc}; expected one of {[r.value for r in Role]}"
        ) from None


@attrs.frozen
class Person:
    """A member of staff, a volunteer or an officer.

    `roles` lists the roles the person may hold (empty: any role). `capacity`
    is the most assignments the person may hold at one instant.
    """

    id: PersonId
    name: str
    roles: frozenset[Role] = attrs.field(default=frozenset(), converter=_roles)
    capacity: int = 1
    department: DepartmentId | None = None

    def __attrs_post_init__(self) -> None:
        if not self.id:
            raise StaffingError(f"person {self.name!r}: id is empty, expected a non-empty id")
        if self.capacity < 1:
            raise StaffingError(f"person {self.id!r}: capacity = {self.capacity}, expected >= 1")

    def may_hold(self, role: Role) -> bool:
        """True if the person may hold `role`."""
        return not self.roles or role in self.roles


@attrs.frozen
class Assignment:
    """A person holding a role in an area for the half-open period [start, end)."""

    person: PersonId
    role: Role = attrs.field(converter=Role)
    area: AreaCode
    start: datetime = attrs.field(validator=_aware("start"))
    end: datetime | None = attrs.field(default=None, validator=_aware("end"))

    def __attrs_post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise StaffingError(
                f"assignment of {self.person!r} as {self.role.value} in {self.area!r}: "
                f"end {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )

    def active(self, at: datetime) -> bool:
        """True if the assignment holds at `at`."""
        return self.start <= at and (self.end is None or at < self.end)


def _ts(at: datetime, what: str = "instant") -> float:
    if at.utcoffset() is None:
        raise StaffingError(f"{what} {at!r}: expected a timezone-aware datetime")
    return at.timestamp()


class _Slots:
    """Assignments of one key, sorted by start, with a running maximum of ends for bisection."""

    __slots__ = ("changes", "ends", "items", "maxend", "starts")

    def __init__(self, items: list[Assignment]) -> None:
        items.sort(key=lambda a: (a.start, a.person))
        self.items = tuple(items)
        self.starts = [a.start.timestamp() for a in items]
        self.ends = [math.inf if a.end is None else a.end.timestamp() for a in items]
        # every instant at which the set of holders can change
        self.changes = sorted({*self.starts, *(e for e in self.ends if e != math.inf)})
        run = -math.inf
        self.maxend: list[float] = []
        for e in self.ends:
            run = max(run, e)
            self.maxend.append(run)

    def steady(self, ts: float) -> tuple[float, float]:
        """The interval [t0, t1) around `ts` in which the holders do not change."""
        changes = self.changes
        i = bisect_right(changes, ts)
        return (changes[i - 1] if i else -math.inf), (changes[i] if i < len(changes) else math.inf)

    def at(self, ts: float) -> tuple[Assignment, ...]:
        i = bisect_right(self.starts, ts) - 1
        if i < 0:
            return ()
        # Common case: one holder at a time, the latest-started one is the answer.
        ends = self.ends
        if ends[i] > ts and (i == 0 or self.maxend[i - 1] <= ts):
            return (self.items[i],)
        maxend, items = self.maxend, self.items
        out: list[Assignment] = []
        while i >= 0 and maxend[i] > ts:
            if ends[i] > ts:
                out.append(items[i])
            i -= 1
        out.reverse()
        return tuple(out)

    def last_ended(self, ts: float) -> Assignment | None:
        """The assignment that ended last at or before `ts`, if any."""
        best: Assignment | None = None
        best_end = -math.inf
        for a, s, e in zip(self.items, self.starts, self.ends, strict=True):
            if s > ts:
                break
            if e <= ts and e > best_end:
                best, best_end = a, e
        return best


class Roster:
    """An immutable collection of people and their assignments, with fast lookups.

    `holders(area, role, at)` bisects a per-(area, role) list of periods;
    `assignments_of(person, at)` does the same per person.
    """

    __slots__ = ("_by_key", "_by_person", "_people", "assignments", "people", "policy")

    people: tuple[Person, ...]
    assignments: tuple[Assignment, ...]
    policy: str | None

    def __init__(
        self,
        people: Iterable[Person],
        assignments: Iterable[Assignment] = (),
        *,
        policy: str | None = None,
    ) -> None:
        self.people = tuple(people)
        self.assignments = tuple(assignments)
        self.policy = policy
        self._people: dict[PersonId, Person] = {}
        for p in self.people:
            if p.id in self._people:
                raise StaffingError(f"person id {p.id!r} appears twice ({p.name!r})")
            self._people[p.id] = p
        keyed: dict[tuple[AreaCode, Role], list[Assignment]] = {}
        per_person: dict[PersonId, list[Assignment]] = {}
        for a in self.assignments:
            if a.person not in self._people:
                raise StaffingError(
                    f"assignment as {a.role.value} in {a.area!r}: person {a.person!r} "
                    "is not in the roster"
                )
            keyed.setdefault((a.area, a.role), []).append(a)
            per_person.setdefault(a.person, []).append(a)
        self._by_key = {k: _Slots(v) for k, v in keyed.items()}
        self._by_person = {k: _Slots(v) for k, v in per_person.items()}

    def __repr__(self) -> str:
        return (
            f"Roster(people={len(self.people)}, assignments={len(self.assignments)}, "
            f"policy={self.policy!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Roster):
            return NotImplemented
        return (
            self.people == other.people
            and self.assignments == other.assignments
            and self.policy == other.policy
        )

    __hash__ = None  # type: ignore[assignment]

    def person(self, person_id: str) -> Person:
        """The person with this id; UnknownItemError if absent."""
        try:
            return self._people[PersonId(person_id)]
        except KeyError:
            raise UnknownItemError("person", person_id, "roster") from None

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._people

    def holders(self, area: str, role: Role, at: datetime) -> tuple[Assignment, ...]:
        """Assignments of `role` in `area` that hold at `at`, by start."""
        slots = self._by_key.get((AreaCode(area), role))
        if slots is None:
            return ()
        return slots.at(_ts(at))

    def _holders_ts(self, area: str, role: Role, ts: float) -> tuple[Assignment, ...]:
        slots = self._by_key.get((AreaCode(area), role))
        return () if slots is None else slots.at(ts)

    def history(self, area: str, role: Role) -> tuple[Assignment, ...]:
        """Every assignment of `role` in `area`, by start."""
        slots = self._by_key.get((AreaCode(area), role))
        return () if slots is None else slots.items

    def last_ended(self, area: str, role: Role, at: datetime) -> Assignment | None:
        """The assignment of `role` in `area` that ended last at or before `at`."""
        slots = self._by_key.get((AreaCode(area), role))
        return None if slots is None else slots.last_ended(_ts(at))

    def assignments_of(self, person: str, at: datetime | None = None) -> tuple[Assignment, ...]:
        """The person's assignments holding at `at` (all of them, by start, if `at` is None)."""
        self.person(person)
        slots = self._by_person.get(PersonId(person))
        if slots is None:
            return ()
        return slots.items if at is None else slots.at(_ts(at))

    def active(self, at: datetime) -> tuple[Assignment, ...]:
        """Every assignment holding at `at`, in roster order."""
        _ts(at)
        return tuple(a for a in self.assignments if a.active(at))

    def keys(self) -> tuple[tuple[AreaCode, Role], ...]:
        """Every (area, role) that has ever been assigned."""
        return tuple(self._by_key)

    def with_changes(
        self,
        *,
        add_people: Iterable[Person] = (),
        add: Iterable[Assignment] = (),
        remove: Iterable[Assignment] = (),
    ) -> Roster:
        """A new roster with people and assignments added and assignments removed.

        Refused (StaffingError, nothing changed) if an assignment to remove is absent.
        """
        gone = list(remove)
        kept = list(self.assignments)
        for a in gone:
            try:
                kept.remove(a)
            except ValueError:
                raise StaffingError(
                    f"assignment of {a.person!r} as {a.role.value} in {a.area!r} from "
                    f"{a.start.isoformat()} is not in the roster"
                ) from None
        return Roster([*self.people, *add_people], [*kept, *add], policy=self.policy)

    def end_assignment(self, assignment: Assignment, at: datetime) -> Roster:
        """A new roster where `assignment` ends at `at`."""
        return self.with_changes(remove=[assignment], add=[attrs.evolve(assignment, end=at)])


# -- policies ---------------------------------------------------------------------------------


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


# -- checking ---------------------------------------------------------------------------------


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
    leaf = hierarchy.scheme.leaf_level
    out: list[Violation] = []
    for req in policy.requirements(leaf):
        try:
            codes = hierarchy.at_level(req.level)
        except UnknownItemError:
            raise StaffingError(
                f"policy {policy.name!r}: level {req.level!r} is not in scheme "
                f"{hierarchy.scheme.name!r} {hierarchy.scheme.level_names}"
            ) from None
        for code in codes:
            held = roster._holders_ts(code, req.role, ts)
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
    active = [a for a in roster.assignments if a.active(at)]
    per_person: dict[PersonId, list[Assignment]] = {}
    for a in active:
        per_person.setdefault(a.person, []).append(a)
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
    return out


# -- responsibility ---------------------------------------------------------------------------


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


_SlotPlan = tuple[Role, int, dict[AreaCode, "_Slots"]]


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
        self._by_role: dict[Role, dict[AreaCode, _Slots]] = {r: {} for r in Role}
        for (area, role), slots in roster._by_key.items():
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


# -- workload ---------------------------------------------------------------------------------


@attrs.frozen
class GridLoad:
    """Households and components of one grid, and per worker assigned to it."""

    grid: AreaCode
    households: int
    components: int
    workers: int

    @property
    def households_per_worker(self) -> float:
        """Households per worker (inf when nobody is assigned)."""
        return self.households / self.workers if self.workers else math.inf

    @property
    def components_per_worker(self) -> float:
        """Components per worker (inf when nobody is assigned)."""
        return self.components / self.workers if self.workers else math.inf


@attrs.frozen
class PersonLoad:
    """Households and components under the areas a person holds."""

    person: PersonId
    areas: tuple[AreaCode, ...]
    households: int
    components: int


@attrs.frozen
class Workload:
    """Workload per grid and per person at an instant."""

    at: datetime
    grids: Mapping[AreaCode, GridLoad]
    people: Mapping[PersonId, PersonLoad]

    def mean_households_per_worker(self) -> float:
        """Households over workers across all staffed grids."""
        hh = sum(g.households for g in self.grids.values() if g.workers)
        workers = sum(g.workers for g in self.grids.values())
        return hh / workers if workers else math.inf


def workload(
    hierarchy: Hierarchy,
    roster: Roster,
    at: datetime,
    roles: Iterable[Role] | None = None,
) -> Workload:
    """Households and components per worker, per grid and per person, at `at`.

    A grid's workers are the distinct people holding `roles` (default: all
    roles) in the grid itself. A person's load sums the households and
    components of every area they hold (an area above the grids counts all its
    grids). Assignments to areas the hierarchy does not hold are skipped.
    """
    wanted = frozenset(Role) if roles is None else frozenset(roles)
    grids = hierarchy.grids
    hh = hierarchy.grid_households()
    comps = np.array(
        [sum(v for _, v in hierarchy.area(g).components) for g in grids], dtype=np.int64
    )
    pos = {g: i for i, g in enumerate(grids)}
    workers: dict[AreaCode, set[PersonId]] = {}
    per_person: dict[PersonId, list[AreaCode]] = {}
    for a in roster.active(at):
        if a.role not in wanted or a.area not in hierarchy:
            continue
        if a.area in pos:
            workers.setdefault(a.area, set()).add(a.person)
        per_person.setdefault(a.person, []).append(a.area)
    cum_hh = np.concatenate(([0], np.cumsum(hh)))
    cum_c = np.concatenate(([0], np.cumsum(comps)))
    grid_loads = {
        g: GridLoad(g, int(hh[i]), int(comps[i]), len(workers.get(g, ())))
        for i, g in enumerate(grids)
    }
    people: dict[PersonId, PersonLoad] = {}
    for pid, areas in per_person.items():
        h_sum = 0
        c_sum = 0
        for code in dict.fromkeys(areas):
            idx = hierarchy.grid_positions_under(code)
            if len(idx):
                # grids under an area are one contiguous run in `grids` order
                lo, hi = int(idx[0]), int(idx[-1]) + 1
                h_sum += int(cum_hh[hi] - cum_hh[lo])
                c_sum += int(cum_c[hi] - cum_c[lo])
        people[pid] = PersonLoad(pid, tuple(dict.fromkeys(areas)), h_sum, c_sum)
    return Workload(at, MappingProxyType(grid_loads), MappingProxyType(people))


# -- synthetic staff --------------------------------------------------------------------------

_SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo",
)  # fmt: skip
_GIVEN = (
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang",
    "Yong", "Yan", "Jie", "Juan", "Tao", "Ming", "Chao", "Xiu", "Xia", "Ping",
)  # fmt: skip


def staff_city(
    hierarchy: Hierarchy,
    policy: StaffingPolicy | str,
    seed: int,
    start: datetime,
    staff_total: int | None = None,
) -> Roster:
    """Seeded people and open assignments from `start` that fill every post of the policy.

    One person per post (ids "P000001", ... in hierarchy order). Staff beyond the
    requirements (to reach `staff_total`, or the policy's `staff_per_grid`) are
    `extra_roles` spread evenly over seeded grids. StaffingError if `staff_total`
    is below the head count the requirements need.
    """
    pol = get_policy(policy)
    _ts(start, "staffing start")
    rng = np.random.default_rng(seed)
    leaf = hierarchy.scheme.leaf_level
    grids = hierarchy.grids
    minimum = pol.min_staff(hierarchy)
    if staff_total is None and pol.staff_per_grid is not None:
        staff_total = max(minimum, round(pol.staff_per_grid * len(grids)))
    if staff_total is not None and staff_total < minimum:
        raise StaffingError(
            f"staff_city: staff_total = {staff_total} for policy {pol.name!r}: expected at "
            f"least {minimum} (one person per required post)"
        )
    posts: list[tuple[AreaCode, Role]] = []
    for req in pol.requirements(leaf):
        for code in hierarchy.at_level(req.level):
            posts.extend([(code, req.role)] * req.count)
    extra = 0 if staff_total is None else staff_total - minimum
    if extra:
        # Even spread: every grid gets floor(extra / grids), a seeded choice of grids one more.
        base, rest = divmod(extra, len(grids))
        counts = np.full(len(grids), base, dtype=np.int64)
        counts[rng.choice(len(grids), size=rest, replace=False)] += 1
        kinds = rng.integers(0, len(pol.extra_roles), size=extra)
        k = 0
        for g, n in zip(grids, counts.tolist(), strict=True):
            for _ in range(n):
                posts.append((g, pol.extra_roles[int(kinds[k])]))
                k += 1
    # Keep posts in hierarchy order so ids follow the map.
    order = {c: i for i, c in enumerate(a.code for a in hierarchy.areas)}
    posts.sort(key=lambda p: order[p[0]])
    sur = rng.integers(0, len(_SURNAMES), size=len(posts))
    giv = rng.integers(0, len(_GIVEN), size=len(posts))
    people: list[Person] = []
    assignments: list[Assignment] = []
    for i, (code, role) in enumerate(posts):
        pid = PersonId(f"P{i + 1:06d}")
        name = f"{_SURNAMES[int(sur[i])]} {_GIVEN[int(giv[i])]}"
        people.append(Person(pid, name, frozenset({role}), pol.capacity.get(role, 1)))
        assignments.append(Assignment(pid, role, code, start))
    return Roster(people, assignments, policy=pol.name)
