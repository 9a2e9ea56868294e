"""Workload (工作量): households and components per worker, per grid and per person."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType

import attrs
import numpy as np

from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.staffing.roles import Role
from gridcore.staffing.roster import Roster


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
