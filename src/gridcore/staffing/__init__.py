"""Staff, roles and responsibility (人员、角色、责任): who answers for a grid, and when.

A `Roster` holds people and their assignments (a person, a role, an area, a
period). A `StaffingPolicy` is data: the roles each grid (and each level above)
must have, how many areas one person may hold, where each role may sit, and which
roles answer for each duty. `check_policy` lists every way a roster falls short
of a policy at an instant; `responsible` names the direct, first and supervising
responsible persons of a grid for a duty, falling back up the hierarchy when a
post is vacant. Instants are timezone-aware datetimes; periods are half-open
`[start, end)`, `end=None` meaning open-ended.

One concept a module: `roles` (roles, duties), `roster` (people, assignments, the
`Roster`), `policy` (policies as data, the built-in ones), `checks` (`check_policy`),
`responsibility` (`responsible`, `ResponsibilityIndex`), `workload`. `staff_city`, which
makes a seeded roster for a synthetic city, lives with the cities in `gridcore.synth`.

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

from gridcore.staffing.checks import VACANCY_KINDS, Violation, ViolationKind, check_policy
from gridcore.staffing.policy import (
    FULL_DUTY,
    POLICIES,
    THREE_PER_GRID,
    TWO_PER_GRID,
    YUBEI,
    Chain,
    LevelRequirement,
    Requirement,
    StaffingPolicy,
    get_policy,
)
from gridcore.staffing.responsibility import (
    Responsibility,
    ResponsibilityIndex,
    Responsible,
    responsible,
)
from gridcore.staffing.roles import DUTY_ZH, LEAF, ROLE_ZH, SIX_DUTIES, VOLUNTEERS, Duty, Role
from gridcore.staffing.roster import Assignment, Periods, Person, Roster
from gridcore.staffing.workload import GridLoad, PersonLoad, Workload, workload
from gridcore.synth.staff import staff_city

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
    "Periods",
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
