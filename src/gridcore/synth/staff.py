"""Seeded synthetic staff: `staff_city` fills every post a staffing policy asks for.

It lives with the synthetic cities (it invents people, as `build_city` invents grids);
`gridcore.staffing` re-exports it, importing only this module, which reads the staffing
submodules it needs (never the `gridcore.staffing` package itself), so neither package
needs the other to be initialised first.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from gridcore.errors import StaffingError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing.policy import StaffingPolicy, get_policy
from gridcore.staffing.roles import Role
from gridcore.staffing.roster import Assignment, Person, Roster, _ts

__all__ = ["staff_city"]

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
