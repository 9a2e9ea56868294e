# ruff: noqa: RUF009  (the field defaults are attrs fields made by `key_field`)
"""The tables of a scenario (`run`, `city`, `staffing`, `duties`, `incidents`, `times`,
`routing`, `escalation`, `categories.CODE`, `surges`, `queue_only`) and the bounds on
the numbers that size a run.

Every key is a `key_field`: its default, its documentation (`reference()`), its
converter and, when the value is not plain TOML, its dumper. Durations are minutes of
simulated time unless a key says otherwise.
"""

from __future__ import annotations

from datetime import date

import attrs

from gridcore.escalation import EscalationRule
from gridcore.sim.scenario.convert import (
    dump_escalation_rules,
    dump_owner_rules,
    key_field,
    one_of,
    optional,
    to_bool,
    to_date,
    to_escalation_rules,
    to_float,
    to_floats,
    to_int,
    to_owner_rules,
    to_periods,
    to_policy,
    to_str,
    to_strs,
    to_times,
    to_timezone,
    to_working_periods,
)
from gridcore.sim.scenario.dist import Dist, dump_dist, exp_, to_dist

__all__ = [
    "DEFAULT_CATEGORY_WEIGHTS",
    "MAX_ARRIVALS",
    "MAX_DAYS",
    "MAX_GRIDS",
    "MAX_INCIDENTS_PER_HOUSEHOLD",
    "MAX_QUEUE_DAYS",
    "MAX_RATE",
    "MAX_SURGE",
    "CategoryConfig",
    "CityConfig",
    "DutyConfig",
    "EscalationConfig",
    "IncidentConfig",
    "QueueOnly",
    "RoutingConfig",
    "RunConfig",
    "StaffingConfig",
    "Surge",
    "TimesConfig",
]

# Bounds on the numbers that set how much work a run is (docs/simulation.md, "Bounds"):
# beyond them a run would not end in useful time or would exhaust the memory.
MAX_DAYS = 3660.0
"""The longest grid-model horizon (run.days + run.warmup_days): ten years."""
MAX_QUEUE_DAYS = 1_000_000.0
"""The longest horizon of any run (a queue-only run is bounded by its arrivals)."""
MAX_GRIDS = 300_000
"""The most grids a city may be cut into (city.grids)."""
MAX_RATE = 1000.0
"""The highest incident rate per 1,000 households a day."""
MAX_SURGE = 100_000.0
"""The largest surge factor (the incidents a household bound holds the product)."""
MAX_INCIDENTS_PER_HOUSEHOLD = 100.0
"""Expected incidents a household over the whole run, at most (see `check_cross`)."""
MAX_ARRIVALS = 10_000_000
"""Expected arrivals of a queue-only run over the whole run, at most."""


@attrs.frozen
class RunConfig:
    """How long, how often and with which seed to run."""

    days: float = key_field(
        30.0, "simulated days after the warm-up", to_float(0.0, MAX_QUEUE_DAYS, open_lo=True)
    )
    warmup_days: float = key_field(
        0.0, "days simulated first and left out of the results", to_float(0.0, MAX_QUEUE_DAYS)
    )
    seed: int = key_field(
        0, "base seed; replication i uses SeedSequence(seed).spawn(n)[i]", to_int(0)
    )
    replications: int = key_field(2, "independent replications", to_int(1, 10_000))
    start: date = key_field(
        date(2025, 3, 3), "the first simulated day (a Monday)", to_date, lambda d: d.isoformat()
    )
    timezone: str = key_field("Asia/Shanghai", "time zone of the simulated instants", to_timezone)


@attrs.frozen
class CityConfig:
    """Which city: a synthetic preset (gridcore.synth) or a GeoJSON file."""

    preset: str = key_field("yichang", "a gridcore.synth preset name", to_str)
    geojson: str = key_field("", "a GeoJSON hierarchy file; overrides the preset when set", to_str)
    seed: int = key_field(0, "seed of the synthetic city", to_int(0))
    grids: int = key_field(
        0,
        "grid count (0: the preset's); the same households cut into more/fewer grids",
        to_int(0, MAX_GRIDS),
    )


@attrs.frozen
class StaffingConfig:
    """Who works: grid workers per grid and the staff of the levels above."""

    policy: str = key_field("", "staffing policy name ('' : the city preset's)", to_policy)
    workers_per_grid: float = key_field(
        0.0,
        "grid workers a grid (0: from the policy; fractions spread the rest)",
        to_float(0.0, 100.0),
    )
    community_staff: int = key_field(3, "case handlers per community", to_int(1, 1000))
    street_staff: int = key_field(
        8,
        "case handlers per street for every 50 grids in it (at least this many)",
        to_int(1, 10_000),
    )
    department_staff: int = key_field(
        3,
        "handlers per department per street for every 50 grids (the street's share)",
        to_int(1, 10_000),
    )


@attrs.frozen
class DutyConfig:
    """The grid duty plan: patrols, household visits and component inspections."""

    working_periods: tuple[str, ...] = key_field(
        ("08:30-12:00", "14:00-17:30"),
        "daily working periods of grid workers (ending by 23:59)",
        to_working_periods,
        list,
    )
    on_call_periods: tuple[str, ...] = key_field(
        ("07:00-22:00",),
        "daily periods, every day, in which grid workers take cases (verify reports, sign "
        "for, handle); duties (patrols, visits, inspections) stay in working_periods",
        to_periods,
        list,
    )
    holidays: bool = key_field(
        True, "China public holidays and make-up working days apply", to_bool
    )
    patrols_per_day: int = key_field(3, "patrols a grid a working day (三个一小时)", to_int(0, 24))
    patrol_starts: tuple[str, ...] = key_field(
        ("08:30", "11:00", "16:00"),
        "patrol start times (the first patrols_per_day are used; more are spread evenly)",
        to_times,
        list,
    )
    patrol_minutes: float = key_field(60.0, "length of one patrol", to_float(0.0, open_lo=True))
    visit_cycle_days: float = key_field(
        60.0, "every household is visited once in this many days", to_float(0.0, open_lo=True)
    )
    visit_minutes: float = key_field(10.0, "minutes a household visit", to_float(0.0))
    inspection_cycle_days: float = key_field(
        30.0, "every component is inspected once in this many days", to_float(0.0, open_lo=True)
    )
    inspection_minutes: float = key_field(1.0, "minutes a component inspection", to_float(0.0))
    block_minutes: float = key_field(
        60.0,
        "visits/inspections are done in blocks of this length (one event each)",
        to_float(1.0),
    )


_HOURS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.6, 1.0, 1.5, 1.8, 1.8, 1.6,
    1.3, 1.4, 1.6, 1.7, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6, 0.4, 0.3,
)  # fmt: skip


@attrs.frozen
class IncidentConfig:
    """How incidents arise and come to light."""

    per_1000_households_per_day: float = key_field(
        2.0,
        "incidents a day per 1,000 households (before category weights)",
        to_float(0.0, MAX_RATE),
    )
    resident_share: float = key_field(
        0.6,
        "share reported by residents; the rest stay latent until a patrol finds them",
        to_float(0.0, 1.0),
    )
    report_delay: Dist = key_field(
        exp_(60.0), "delay from occurrence to a resident's report", to_dist, dump_dist
    )
    discovery_probability: float = key_field(
        0.5, "chance that one patrol pass finds a latent incident", to_float(0.0, 1.0)
    )
    severity_growth_days: float = key_field(
        3.0,
        "a latent incident gains one severity level per this many days unseen",
        to_float(0.0, open_lo=True),
    )
    hour_profile: tuple[float, ...] = key_field(
        _HOURS, "relative rate per hour of day (24 values, mean-normalised)", to_floats(24), list
    )
    weekday_profile: tuple[float, ...] = key_field(
        (1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8),
        "relative rate per weekday, Monday first (7 values, mean-normalised)",
        to_floats(7),
        list,
    )
    trace: str | None = key_field(
        None,
        "a case log (event JSON lines: its reports) or a CSV (instant, grid or x and y, "
        "category, optional channel) whose incidents replace the drawn ones, reported "
        "exactly when, where, as what and through the channel it says (patrol: found and "
        "verified on the spot; others: a public report); relative to the scenario file",
        optional(to_str),
    )


@attrs.frozen
class TimesConfig:
    """Working times of the case steps (minutes), by step and resolving level."""

    verify: Dist = key_field(exp_(15.0), "grid worker verifying a report", to_dist, dump_dist)
    dispatch: Dist = key_field(
        Dist("fixed", 10.0), "desk time to register and dispatch", to_dist, dump_dist
    )
    check: Dist = key_field(exp_(15.0), "grid worker checking a handled case", to_dist, dump_dist)
    handle_grid: Dist = key_field(exp_(45.0), "handling by a grid worker", to_dist, dump_dist)
    handle_community: Dist = key_field(
        Dist("lognormal", 180.0, 0.8), "handling by community staff", to_dist, dump_dist
    )
    handle_street: Dist = key_field(
        Dist("lognormal", 360.0, 0.8), "handling by street staff", to_dist, dump_dist
    )
    handle_department: Dist = key_field(
        Dist("lognormal", 600.0, 0.8), "handling by a department", to_dist, dump_dist
    )
    rework_probability: float = key_field(0.05, "chance a check fails (返工)", to_float(0.0, 0.9))


@attrs.frozen
class RoutingConfig:
    """How a case beyond the grid reaches its owner."""

    mode: str = key_field(
        "relay",
        "relay: level by level (grid > community > street > department); "
        "flattened: straight to the owner (扁平化)",
        one_of("relay", "flattened"),
    )
    forward: Dist = key_field(
        Dist("fixed", 60.0), "time one level takes to forward a case (relay)", to_dist, dump_dist
    )
    direct: Dist = key_field(
        Dist("fixed", 10.0),
        "time to route a case straight to its owner (flattened)",
        to_dist,
        dump_dist,
    )
    owners: tuple[tuple[str, str, str], ...] = key_field(
        (),
        "ownership rules over the defaults (each 大类 to `dept:<大类>` at the city): "
        "[{area, category, owner}], the deepest area wins (gridcore.routing.OwnershipRules)",
        to_owner_rules,
        dump_owner_rules,
    )
    misroute_probability: float = key_field(
        0.03,
        "chance that the desk dispatches a case to a wrong owner of the same level; the "
        "wrong owner asks for a return (回退) with a reason and the desk re-dispatches it",
        to_float(0.0, 1.0),
    )
    return_delay: Dist = key_field(
        Dist("fixed", 30.0),
        "time a wrongly dispatched case takes its wrong owner to request a return (working "
        "time for working-hours categories); the desk approves after times.dispatch",
        to_dist,
        dump_dist,
    )


@attrs.frozen
class EscalationConfig:
    """The escalation rules the model sweeps with (`gridcore.escalation.due_escalations`)."""

    check_minutes: float = key_field(
        60.0,
        "minutes between escalation sweeps (due_escalations over the open cases whose "
        "deadline light may have changed)",
        to_float(1.0),
    )
    rules: str | tuple[EscalationRule, ...] = key_field(
        "default",
        '"default" (gridcore.escalation.default_rules()) or a list of rule tables '
        "[{name, trigger, response, threshold, supervision, stages, top, after}]; [] turns "
        "escalation off",
        to_escalation_rules,
        dump_escalation_rules,
    )

    def rule_set(self) -> tuple[EscalationRule, ...]:
        """The rules as `EscalationRule` values ("default" resolved)."""
        if isinstance(self.rules, str):
            from gridcore.escalation import default_rules

            return default_rules()
        return self.rules


DEFAULT_CATEGORY_WEIGHTS: dict[str, float] = {
    # resolved in the grid (about 45%): the everyday small matters (小事不出社区)
    "E0101": 8.0, "E0102": 5.0, "E0201": 6.0, "E0501": 5.0, "G0102": 3.0, "G0201": 3.0,
    "G0601": 5.0, "G0701": 5.0, "G0902": 2.0,
    # by the community (about 35%): water leaks are the most frequent (DOMAIN.md 4)
    "C0301": 3.0, "E0103": 3.0, "E0502": 3.0, "E0503": 4.0, "G0202": 1.0, "G0402": 2.0,
    "G0403": 2.0, "G0602": 3.0, "G0702": 2.0, "G0801": 6.0, "G1001": 3.0,
    # by the street (about 13%): big matters stay in the street (大事不出街道)
    "C0104": 1.0, "C0302": 1.5, "C0401": 1.5, "C0402": 1.5, "C0502": 0.5, "E0202": 1.0,
    "E0301": 1.5, "G0301": 1.0, "G0703": 1.0, "G1002": 1.5,
    # by a department (about 7%): facilities, utilities, emergencies
    "C0101": 0.8, "C0102": 0.3, "C0103": 1.0, "C0201": 0.6, "C0202": 0.2, "C0203": 0.1,
    "C0501": 0.1, "C0601": 0.2, "C0602": 0.2, "E0302": 0.5, "E0303": 0.6, "E0401": 0.05,
    "E0402": 0.4, "E0403": 0.2, "G0101": 0.1, "G0302": 0.2, "G0401": 0.1, "G0501": 0.2,
    "G0802": 0.1, "G0901": 0.3,
}  # fmt: skip
"""Relative incident rates of the default taxonomy's categories (see docs/simulation.md)."""


@attrs.frozen
class CategoryConfig:
    """Per-category settings on top of the taxonomy (`[categories.CODE]`)."""

    code: str = key_field("", "the category code (the table's name)", to_str)
    weight: float | None = key_field(
        None,
        "relative incident rate (default: DEFAULT_CATEGORY_WEIGHTS, else 1.0)",
        optional(to_float(0.0)),
    )
    handle: Dist | None = key_field(
        None, "handling time (default: by resolving level)", optional(to_dist), dump_dist
    )
    resident_share: float | None = key_field(
        None,
        "share reported by residents (default: incidents.resident_share)",
        optional(to_float(0.0, 1.0)),
    )


@attrs.frozen
class Surge:
    """A factor on some categories' rates for a period (`[[surges]]`)."""

    categories: tuple[str, ...] = key_field(
        (), "category codes or code prefixes (G04 = every G04xx)", to_strs, list
    )
    factor: float = key_field(3.0, "rate multiplier", to_float(0.0, MAX_SURGE))
    start_day: float = key_field(
        0.0, "first day (counted after the warm-up)", to_float(0.0, MAX_DAYS)
    )
    days: float = key_field(30.0, "length in days", to_float(0.0, MAX_DAYS, open_lo=True))


@attrs.frozen
class QueueOnly:
    """One grid as an M/M/c queue: c workers, Poisson arrivals, exponential handling.

    With `trace` set, arrivals and service times are read from that CSV file
    (`arrival_minutes,service_minutes`) instead of drawn.
    """

    workers: int = key_field(1, "servers c", to_int(1, 10_000))
    arrivals_per_hour: float = key_field(0.5, "Poisson arrival rate", to_float(0.0, open_lo=True))
    mean_handling_minutes: float = key_field(
        60.0, "mean exponential service time", to_float(0.0, open_lo=True)
    )
    trace: str = key_field(
        "",
        "a CSV file (arrival_minutes,service_minutes) whose customers replace the drawn "
        "ones; relative to the scenario file",
        to_str,
    )

    @property
    def utilisation(self) -> float:
        """Offered load per server, lambda / (c mu)."""
        return self.arrivals_per_hour * self.mean_handling_minutes / 60.0 / self.workers
