"""What a scenario runs on: its city, roster, routing index, calendars and category rates.

Built from the scenario alone and cached per process (building a city or a roster takes
seconds, a street's run needs them every time). The simulation model reads them; so does
the results folder (`city.geojson`), which is why they live here and not in the model.
Not a hot path: each is built once per process and scenario.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np

from gridcore.categories import Category, Taxonomy, default_taxonomy
from gridcore.clock import (
    CalendarSet,
    CountryHolidays,
    NoHolidays,
    RoundTheClock,
    WorkingHoursCalendar,
)
from gridcore.errors import SimulationError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.sim.scenario import Scenario, clock_period

if TYPE_CHECKING:
    from gridcore.routing import RoutingIndex
    from gridcore.staffing import ResponsibilityIndex, Roster

__all__ = [
    "Staff",
    "calendars_for",
    "category_rates",
    "city_for",
    "default_owner_rules",
    "duty_of",
    "partitions",
    "routing_index_for",
    "staff_for",
]


@lru_cache(maxsize=4)
def _city(preset: str, geojson: str, seed: int, grids: int) -> Hierarchy:
    if geojson:
        from gridcore.io.geojson import read_geojson

        return read_geojson(geojson)
    from gridcore.synth import CitySpec, build_city, preset_spec

    spec = preset_spec(preset)
    if grids and grids != spec.grids:
        scale = spec.grids / grids
        lo = max(1, round(spec.households_min * scale))
        hi = max(lo, round(spec.households_max * scale))
        communities = min(spec.communities, grids)
        streets = min(spec.streets, communities)
        spec = attrs.evolve(
            spec,
            grids=grids,
            households_min=lo,
            households_max=hi,
            communities=max(communities, math.ceil(grids / 99)),
            streets=streets,
            districts=min(spec.districts, streets),
        )
    assert isinstance(spec, CitySpec)
    return build_city(spec, seed=seed)


def calendars_for(scenario: Scenario) -> tuple[WorkingHoursCalendar, CalendarSet]:
    """The scenario's working calendar and its calendar set (cached per process)."""
    d = scenario.duties
    return _calendars(scenario.run.timezone, d.holidays, d.working_periods)


@lru_cache(maxsize=8)
def _calendars(
    tz: str, holidays: bool, periods: tuple[str, ...]
) -> tuple[WorkingHoursCalendar, CalendarSet]:
    """The working calendar and the calendar set (cached: loading holidays is slow)."""
    hol = CountryHolidays() if holidays else NoHolidays()
    spans = tuple(
        (time(*divmod(a, 60)), time(*divmod(b, 60))) for a, b in (clock_period(p) for p in periods)
    )
    working = WorkingHoursCalendar(periods=spans, holidays=hol, tz=ZoneInfo(tz))
    return working, CalendarSet.of(working, RoundTheClock())


def city_for(scenario: Scenario) -> Hierarchy:
    """The hierarchy a scenario runs on (cached per process)."""
    c = scenario.city
    return _city(c.preset, c.geojson, c.seed, c.grids)


def default_owner_rules(h: Hierarchy, tax: Taxonomy) -> tuple[tuple[str, str, str], ...]:
    """Each 大类 to the department `dept:<大类>` at every top-level area (the city)."""
    top = h.at_level(h.scheme.level_names[0])
    return tuple((str(a), str(c.code), f"dept:{c.code}") for a in top for c in tax.roots())


@lru_cache(maxsize=8)
def _index_for(
    preset: str, geojson: str, seed: int, grids: int, owners: tuple[tuple[str, str, str], ...]
) -> RoutingIndex:
    """The routing index with the ownership rules: defaults, then the scenario's overrides."""
    from gridcore.routing import OwnershipRule, OwnershipRules, RoutingIndex

    h = _city(preset, geojson, seed, grids)
    tax = default_taxonomy()
    overridden = {(a, c) for a, c, _ in owners}
    merged = [r for r in default_owner_rules(h, tax) if (r[0], r[1]) not in overridden]
    merged += owners
    rules = OwnershipRules(OwnershipRule(a, c, o) for a, c, o in merged)
    return RoutingIndex.build(h, rules=rules, taxonomy=tax)


def routing_index_for(scenario: Scenario) -> RoutingIndex:
    """The `gridcore.routing.RoutingIndex` a scenario locates and routes with (cached)."""
    c = scenario.city
    return _index_for(c.preset, c.geojson, c.seed, c.grids, scenario.routing.owners)


def _policy_name(scenario: Scenario) -> str:
    from gridcore.synth import PRESETS as CITY_PRESETS

    spec = CITY_PRESETS.get(scenario.city.preset)
    return scenario.staffing.policy or (spec.staffing if spec else "full_duty")


@attrs.frozen(eq=False)
class Staff:
    """The real people of a scenario: a `Roster`, its `ResponsibilityIndex`, people per grid."""

    roster: Roster
    responsibility: ResponsibilityIndex
    grid_people: dict[str, tuple[PersonId, ...]]
    min_per_grid: int


@lru_cache(maxsize=8)
def _staff(
    preset: str,
    geojson: str,
    seed: int,
    grids: int,
    policy: str,
    workers_per_grid: float,
    start: date,
    tz: str,
) -> Staff:
    from gridcore.staffing import ResponsibilityIndex, get_policy, staff_city
    from gridcore.synth import PRESETS as CITY_PRESETS

    h = _city(preset, geojson, seed, grids)
    pol = get_policy(policy)
    leaf = h.scheme.leaf_level
    per_grid = sum(r.count for r in pol.requirements(leaf) if r.level == leaf)
    minimum = pol.min_staff(h)
    n = len(h.grids)
    total: int | None
    if workers_per_grid > 0:
        total = minimum - per_grid * n + max(per_grid * n, round(workers_per_grid * n))
    else:
        spec = CITY_PRESETS.get(preset) if not geojson else None
        same_city = spec is not None and (grids in (0, spec.grids)) and spec.staffing == policy
        total = spec.staff_total if same_city and spec is not None else None
    t0 = datetime.combine(start, time(0), ZoneInfo(tz))
    # the same stream as gridcore.synth.synthetic_city: the preset city's own staff
    roster = staff_city(h, pol, seed + 1_000_003, t0, staff_total=total)
    people: dict[str, list[PersonId]] = {str(g): [] for g in h.grids}
    for a in roster.assignments:
        lst = people.get(str(a.area))
        if lst is not None and a.person not in lst:
            lst.append(a.person)
    return Staff(
        roster,
        ResponsibilityIndex(h, roster, pol),
        {g: tuple(v) for g, v in people.items()},
        max(1, per_grid),
    )


def staff_for(scenario: Scenario) -> Staff:
    """The roster a scenario's grid workers come from (`gridcore.staffing.staff_city`)."""
    c, st = scenario.city, scenario.staffing
    return _staff(
        c.preset,
        c.geojson,
        c.seed,
        c.grids,
        _policy_name(scenario),
        st.workers_per_grid,
        scenario.run.start,
        scenario.run.timezone,
    )


# The duty a category falls under (the six duties of a full-duty worker, Yichang): it
# picks the grid's direct responsible person (`ResponsibilityIndex.direct`).
_DUTY_OF_CLASS = {
    "G01": "family_planning",
    "G02": "information_collection",
    "G03": "comprehensive_order",
    "G04": "comprehensive_order",
    "G05": "comprehensive_order",
    "G06": "family_planning",
    "G07": "comprehensive_order",
    "G08": "civil_affairs",
    "G09": "comprehensive_order",
    "G10": "civil_affairs",
}


def duty_of(category: Category) -> str:
    """The grid duty a category belongs to (components and events: city management)."""
    return _DUTY_OF_CLASS.get(category.parent or category.code, "city_management")


def partitions(scenario: Scenario) -> tuple[AreaCode, ...]:
    """The street codes a replication is cut into (one SimPy environment each)."""
    h = city_for(scenario)
    levels = h.scheme.level_names
    level = "street" if "street" in levels else levels[max(0, len(levels) - 3)]
    return h.at_level(level)


def category_rates(
    scenario: Scenario, tax: Taxonomy
) -> tuple[list[Category], np.ndarray[Any, np.dtype[np.float64]]]:
    """The taxonomy's leaves by code, and each one's share of the incidents."""
    leaves = sorted(tax.leaves(), key=lambda c: c.code)
    weights = np.array([scenario.category_weight(c.code) for c in leaves], dtype=np.float64)
    if not weights.sum() > 0:
        raise SimulationError(f"scenario {scenario.name!r}: every category weight is 0")
    return leaves, weights / weights.sum()
