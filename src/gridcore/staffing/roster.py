"""People, assignments and the `Roster` that indexes them by (area, role) and by person.

Instants are timezone-aware datetimes (or, on the fast paths, their POSIX timestamps);
periods are half-open `[start, end)`, `end=None` meaning open-ended.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from gridcore.errors import StaffingError, UnknownItemError
from gridcore.ids import AreaCode, DepartmentId, PersonId
from gridcore.staffing.roles import Role


def _aware(name: str, optional: bool = False) -> Any:
    def check(inst: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
        if value is None and optional:
            return
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise StaffingError(
                f"{type(inst).__name__} {name} = {value!r}: expected a timezone-aware datetime"
            )

    return check


def _roles(value: object) -> frozenset[Role]:
    """Roles from role values (typed to `object`: checked here)."""
    what = f"a list of roles among {[r.value for r in Role]}"
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise StaffingError(f"person roles = {value!r}: expected {what}")
    try:
        return frozenset(Role(r) for r in value)
    except (ValueError, TypeError) as exc:
        raise StaffingError(f"person roles: {exc}; expected {what}") from None


def _role(value: object) -> Role:
    try:
        return Role(value)  # type: ignore[arg-type]  # checked: bad values raise
    except (ValueError, TypeError):
        raise StaffingError(f"role {value!r}: expected one of {[r.value for r in Role]}") from None


def _nonempty(kind: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise StaffingError(f"{kind} = {value!r}: expected a non-empty string")


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
        _nonempty("person id", self.id)
        if not isinstance(self.name, str):
            raise StaffingError(f"person {self.id!r}: name = {self.name!r}, expected a string")
        if (
            isinstance(self.capacity, bool)
            or not isinstance(self.capacity, int)
            or self.capacity < 1
        ):
            raise StaffingError(
                f"person {self.id!r}: capacity = {self.capacity!r}, expected a whole number >= 1"
            )
        if self.department is not None:
            _nonempty(f"person {self.id!r}: department", self.department)

    def may_hold(self, role: Role) -> bool:
        """True if the person may hold `role`."""
        return not self.roles or role in self.roles


@attrs.frozen
class Assignment:
    """A person holding a role in an area for the half-open period [start, end)."""

    person: PersonId
    role: Role = attrs.field(converter=_role)
    area: AreaCode
    start: datetime = attrs.field(validator=_aware("start"))
    end: datetime | None = attrs.field(default=None, validator=_aware("end", optional=True))

    def __attrs_post_init__(self) -> None:
        _nonempty("assignment person", self.person)
        _nonempty(f"assignment of {self.person!r}: area", self.area)
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


class Periods:
    """The assignments of one (area, role) or one person, sorted by start, for bisection.

    An index owned by its `Roster` (read it, never change it): `starts` and `ends` are
    POSIX timestamps (`inf`: open-ended), `maxend` their running maximum, `changes` every
    instant at which the set of holders can change.
    """

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
        """The assignments that hold at timestamp `ts`, by start."""
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
        for x in self.people:
            if not isinstance(x, Person):
                raise StaffingError(f"roster people: {x!r}, expected a Person")
        for y in self.assignments:
            if not isinstance(y, Assignment):
                raise StaffingError(f"roster assignments: {y!r}, expected an Assignment")
        if policy is not None and not isinstance(policy, str):
            raise StaffingError(f"roster policy = {policy!r}: expected a policy name or None")
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
        self._by_key = {k: Periods(v) for k, v in keyed.items()}
        self._by_person = {k: Periods(v) for k, v in per_person.items()}

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

    def holders_ts(self, area: str, role: Role, ts: float) -> tuple[Assignment, ...]:
        """`holders` at the POSIX timestamp `ts` of an aware instant (converted once by the
        caller that asks about many areas at one instant)."""
        slots = self._by_key.get((AreaCode(area), role))
        return () if slots is None else slots.at(ts)

    def periods(self) -> Mapping[tuple[AreaCode, Role], Periods]:
        """The assignments of every (area, role) ever assigned, as a read-only view."""
        return MappingProxyType(self._by_key)

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
