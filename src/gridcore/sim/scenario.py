# ruff: noqa: RUF009  (the field defaults are attrs fields made by `_f`)
"""Scenarios: what a simulation run is, as one immutable value loaded from TOML or JSON.

A scenario is a set of tables (`run`, `city`, `staffing`, `duties`, `incidents`,
`times`, `routing`, `escalation`, `categories`, `surges`, `queue_only`); every key has a documented
default (`reference()` lists them), so a file only names what differs. A bad file gets
a `ScenarioError` naming the dotted key, the value and what was expected. Named what-if
overlays (`OVERLAYS`) and `apply_overrides(scenario, {"dotted.key": value})` derive
variants; `PRESETS` holds one scenario per place of DOMAIN.md section 5.

Durations are minutes of simulated time unless a key says otherwise.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import attrs

from gridcore.categories import Stage
from gridcore.errors import FileFormatError, GridcoreError, ScenarioError
from gridcore.escalation import TOP_LEVEL, EscalationRule, Response, Trigger

__all__ = [
    "DEFAULT_CATEGORY_WEIGHTS",
    "DIST_KINDS",
    "MAX_ARRIVALS",
    "MAX_DAYS",
    "MAX_GRIDS",
    "MAX_INCIDENTS_PER_HOUSEHOLD",
    "MAX_QUEUE_DAYS",
    "MAX_RATE",
    "MAX_SURGE",
    "OVERLAYS",
    "PRESETS",
    "CategoryConfig",
    "CityConfig",
    "Dist",
    "DutyConfig",
    "EscalationConfig",
    "IncidentConfig",
    "QueueOnly",
    "RoutingConfig",
    "RunConfig",
    "Scenario",
    "StaffingConfig",
    "Surge",
    "TimesConfig",
    "apply_overlay",
    "apply_overrides",
    "clock_minutes",
    "load_scenario",
    "preset_scenario",
    "reference",
    "scenario_from_dict",
]

T = TypeVar("T")
Conv = Callable[[str, object, str], Any]
Dump = Callable[[Any], Any]

DIST_KINDS = ("exponential", "lognormal", "fixed", "empirical")
"""Distribution kinds a duration may follow."""

# Bounds on the numbers that set how much work a run is (docs/simulation.md, "Bounds"):
# beyond them a run would not end in useful time or would exhaust the memory.
MAX_DAYS = 3660.0
"""The longest grid-model horizon (run.days + run.warmup_days): ten years."""
MAX_QUEUE_DAYS = 1_000_000.0
"""The longest horizon of any run (a queue-only run is bounded by its arrivals)."""
MAX_GRIDS = 100_000
"""The most grids a city may be cut into (city.grids)."""
MAX_RATE = 1000.0
"""The highest incident rate per 1,000 households a day."""
MAX_SURGE = 100_000.0
"""The largest surge factor (the incidents a household bound holds the product)."""
MAX_INCIDENTS_PER_HOUSEHOLD = 100.0
"""Expected incidents a household over the whole run, at most (see `_check_cross`)."""
MAX_ARRIVALS = 10_000_000
"""Expected arrivals of a queue-only run over the whole run, at most."""


# ---------------------------------------------------------------------------------------------
# Converters: (dotted key, raw value, source) -> typed value, or ScenarioError naming the key.


def _int(lo: int, hi: int | None = None) -> Conv:
    def conv(key: str, v: object, src: str) -> int:
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            raise ScenarioError(key, v, f"an integer {rng}", src)
        return v

    return conv


def _float(lo: float, hi: float | None = None, *, open_lo: bool = False) -> Conv:
    def conv(key: str, v: object, src: str) -> float:
        op = ">" if open_lo else ">="
        rng = f"{op} {lo}" if hi is None else f"in {'(' if open_lo else '['}{lo:g}, {hi:g}]"
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ScenarioError(key, v, f"a number {rng}", src)
        x = float(v)
        bad = x <= lo if open_lo else x < lo
        if not math.isfinite(x) or bad or (hi is not None and x > hi):
            raise ScenarioError(key, v, f"a number {rng}", src)
        return x

    return conv


def _bool(key: str, v: object, src: str) -> bool:
    if not isinstance(v, bool):
        raise ScenarioError(key, v, "true or false", src)
    return v


def _str(key: str, v: object, src: str) -> str:
    if not isinstance(v, str):
        raise ScenarioError(key, v, "a string", src)
    return v


def _choice(*options: str) -> Conv:
    def conv(key: str, v: object, src: str) -> str:
        if v not in options:
            raise ScenarioError(key, v, f"one of {list(options)}", src)
        return str(v)

    return conv


def _timezone(key: str, v: object, src: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    what = "an IANA time zone name such as 'Asia/Shanghai'"
    if not isinstance(v, str) or not v:
        raise ScenarioError(key, v, what, src)
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScenarioError(key, v, what, src) from None
    return v


def _policy(key: str, v: object, src: str) -> str:
    from gridcore.staffing import POLICIES

    names = sorted(POLICIES)
    if not isinstance(v, str) or (v and v not in POLICIES):
        raise ScenarioError(key, v, f"'' (the city preset's) or one of {names}", src)
    return v


def _date(key: str, v: object, src: str) -> date:
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    raise ScenarioError(key, v, "a date as YYYY-MM-DD", src)


def _floats(n: int | None, lo: float = 0.0) -> Conv:
    def conv(key: str, v: object, src: str) -> tuple[float, ...]:
        what = f"a list of {n if n else 'one or more'} numbers >= {lo}"
        if not isinstance(v, list | tuple) or (n is not None and len(v) != n) or not v:
            raise ScenarioError(key, v, what, src)
        out = []
        for x in v:
            if isinstance(x, bool) or not isinstance(x, int | float) or not lo <= x < math.inf:
                raise ScenarioError(key, v, what, src)
            out.append(float(x))
        if not math.fsum(out) > 0:
            raise ScenarioError(key, v, what + " with a positive sum", src)
        return tuple(out)

    return conv


def clock_minutes(text: str) -> int:
    """Minutes since midnight of a clock time "HH:MM" ("8:30" too; "24:00" is 1440).

    The one parser of the scenario's clock times (working periods, patrol starts, on-call
    periods); ValueError for anything else.

    >>> clock_minutes("08:30"), clock_minutes("24:00")
    (510, 1440)
    """
    hh, mm = text.split(":")
    h, m = int(hh), int(mm)
    if not (0 <= h <= 24 and 0 <= m < 60 and h * 60 + m <= 1440):
        raise ValueError(text)
    return h * 60 + m


def _times(key: str, v: object, src: str) -> tuple[str, ...]:
    what = 'a list of clock times like "08:30"'
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ScenarioError(key, v, what, src)
    try:
        mins = [clock_minutes(x) for x in v]
    except ValueError:
        raise ScenarioError(key, v, what, src) from None
    if mins != sorted(mins):
        raise ScenarioError(key, v, what + " in increasing order", src)
    return tuple(v)


def _periods(key: str, v: object, src: str) -> tuple[str, ...]:
    what = 'a non-empty list of increasing, non-overlapping periods like "08:30-12:00"'
    if not isinstance(v, list | tuple) or not v or not all(isinstance(x, str) for x in v):
        raise ScenarioError(key, v, what, src)
    last = -1
    try:
        for p in v:
            a, b = (clock_minutes(t) for t in p.split("-"))
            if a <= last or b <= a:
                raise ValueError(p)
            last = b
    except ValueError:
        raise ScenarioError(key, v, what, src) from None
    return tuple(v)


def _strs(key: str, v: object, src: str) -> tuple[str, ...]:
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) and x for x in v):
        raise ScenarioError(key, v, "a list of non-empty strings", src)
    return tuple(v)


def _owner_rules(key: str, v: object, src: str) -> tuple[tuple[str, str, str], ...]:
    what = 'a list of tables {area = "CODE", category = "CODE", owner = "NAME"}'
    if not isinstance(v, list | tuple):
        raise ScenarioError(key, v, what, src)
    out = []
    for i, item in enumerate(v):
        if isinstance(item, list | tuple) and len(item) == 3:
            item = dict(zip(("area", "category", "owner"), item, strict=True))
        if not isinstance(item, Mapping) or set(item) != {"area", "category", "owner"}:
            raise ScenarioError(f"{key}[{i}]", item, what, src)
        vals = tuple(item[k] for k in ("area", "category", "owner"))
        if not all(isinstance(x, str) and x for x in vals):
            raise ScenarioError(f"{key}[{i}]", item, what + " with non-empty strings", src)
        out.append((str(vals[0]), str(vals[1]), str(vals[2])))
    return tuple(out)


def _dump_owner_rules(v: tuple[tuple[str, str, str], ...]) -> list[dict[str, str]]:
    return [{"area": a, "category": c, "owner": o} for a, c, o in v]


_RULE_KEYS = (
    "name", "trigger", "response", "threshold", "supervision", "stages", "top", "after",
)  # fmt: skip


def _escalation_rules(key: str, v: object, src: str) -> str | tuple[EscalationRule, ...]:
    """ "default" (`gridcore.escalation.default_rules()`) or a list of rule tables."""
    what = (
        '"default" or a list of tables {name, trigger, response, threshold = 0, '
        'supervision = 1, stages = [], top = "department", after = ""} (the fields of '
        "gridcore.escalation.EscalationRule)"
    )
    if v == "default":
        return "default"
    if isinstance(v, tuple) and all(isinstance(r, EscalationRule) for r in v):
        return v
    if not isinstance(v, list | tuple):
        raise ScenarioError(key, v, what, src)
    out: list[EscalationRule] = []
    for i, item in enumerate(v):
        at = f"{key}[{i}]"
        if isinstance(item, EscalationRule):
            out.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ScenarioError(at, item, what, src)
        extra = sorted(set(item) - set(_RULE_KEYS))
        if extra:
            raise ScenarioError(
                f"{at}.{extra[0]}", item[extra[0]], f"one of {list(_RULE_KEYS)}", src
            )
        for req in ("name", "trigger", "response"):
            if req not in item:
                raise ScenarioError(f"{at}.{req}", None, "a value (required)", src)
        name = _str(f"{at}.name", item["name"], src)
        trig = _choice(*(t.value for t in Trigger))(f"{at}.trigger", item["trigger"], src)
        resp = _choice(*(r.value for r in Response))(f"{at}.response", item["response"], src)
        threshold = _int(0)(f"{at}.threshold", item.get("threshold", 0), src)
        sup = _int(1, 3)(f"{at}.supervision", item.get("supervision", 1), src)
        stages_raw = item.get("stages", [])
        stage_names = [s.value for s in Stage]
        if not isinstance(stages_raw, list | tuple) or any(
            x not in stage_names for x in stages_raw
        ):
            raise ScenarioError(
                f"{at}.stages", stages_raw, f"a list of stages among {stage_names}", src
            )
        top = _str(f"{at}.top", item.get("top", TOP_LEVEL), src)
        after = item.get("after", "")
        if not isinstance(after, str):
            raise ScenarioError(f"{at}.after", after, "the name of another rule, or empty", src)
        try:
            rule = EscalationRule(
                name, trig, resp, threshold, sup, frozenset(stages_raw), top=top, after=after
            )
        except GridcoreError as exc:
            raise ScenarioError(at, dict(item), f"a valid rule ({exc})", src) from None
        if any(r.name == rule.name for r in out):
            raise ScenarioError(f"{at}.name", name, "a name not used by another rule", src)
        out.append(rule)
    return tuple(out)


def _dump_escalation_rules(v: str | tuple[EscalationRule, ...]) -> str | list[dict[str, Any]]:
    if isinstance(v, str):
        return v
    return [
        {
            "name": r.name,
            "trigger": r.trigger.value,
            "response": r.response.value,
            "threshold": r.threshold,
            "supervision": r.supervision,
            "stages": sorted(s.value for s in r.stages),
            "top": r.top,
            "after": r.after,
        }
        for r in v
    ]


def _opt(conv: Conv) -> Conv:
    def wrapped(key: str, v: object, src: str) -> Any:
        return None if v is None else conv(key, v, src)

    return wrapped


# ---------------------------------------------------------------------------------------------
# Distributions


@attrs.frozen
class Dist:
    """A duration distribution in minutes: exponential, lognormal, fixed or empirical.

    `mean_minutes` is the mean for every kind (for `empirical`, the mean of `values`);
    `sigma` is the lognormal shape (the standard deviation of the log).
    """

    kind: str = "exponential"
    mean_minutes: float = 60.0
    sigma: float = 0.8
    values: tuple[float, ...] = ()

    def to_value(self) -> dict[str, Any]:
        """The table that loads back into this distribution."""
        if self.kind == "empirical":
            return {"dist": "empirical", "values": list(self.values)}
        if self.kind == "lognormal":
            return {"dist": "lognormal", "mean_minutes": self.mean_minutes, "sigma": self.sigma}
        return {"dist": self.kind, "mean_minutes": self.mean_minutes}


def exp_(mean: float) -> Dist:
    """An exponential distribution with the given mean in minutes."""
    return Dist("exponential", mean)


def _dist(key: str, v: object, src: str) -> Dist:
    what = (
        "a number (an exponential mean in minutes) or a table "
        '{dist = "exponential"|"lognormal"|"fixed"|"empirical", mean_minutes = ..., '
        "sigma = ... (lognormal), values = [...] (empirical)}"
    )
    if isinstance(v, Dist):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return Dist("exponential", _float(0.0, open_lo=True)(key, v, src))
    if not isinstance(v, Mapping):
        raise ScenarioError(key, v, what, src)
    extra = set(v) - {"dist", "mean_minutes", "sigma", "values"}
    if extra:
        k = sorted(extra)[0]
        raise ScenarioError(f"{key}.{k}", v[k], "one of dist, mean_minutes, sigma, values", src)
    kind = _choice(*DIST_KINDS)(f"{key}.dist", v.get("dist", "exponential"), src)
    if kind == "empirical":
        vals = _floats(None)(f"{key}.values", v.get("values"), src)
        return Dist("empirical", math.fsum(vals) / len(vals), 0.0, vals)
    if "mean_minutes" not in v:
        raise ScenarioError(f"{key}.mean_minutes", None, "a number > 0 (required)", src)
    mean = _float(0.0, open_lo=kind != "fixed")(f"{key}.mean_minutes", v["mean_minutes"], src)
    sigma = _float(0.0, 5.0, open_lo=True)(f"{key}.sigma", v.get("sigma", 0.8), src)
    return Dist(kind, mean, sigma if kind == "lognormal" else 0.8)


def _dump_dist(d: Dist) -> dict[str, Any]:
    return d.to_value()


# ---------------------------------------------------------------------------------------------
# Sections


def _f(default: Any, doc: str, conv: Conv, dump: Dump | None = None) -> Any:
    """An attrs field carrying its documentation, loader and dumper."""
    meta = {"doc": doc, "conv": conv, "dump": dump}
    if isinstance(default, list | dict):
        raise TypeError("use immutable defaults")  # pragma: no cover
    return attrs.field(default=default, metadata=meta)


@attrs.frozen
class RunConfig:
    """How long, how often and with which seed to run."""

    days: float = _f(
        30.0, "simulated days after the warm-up", _float(0.0, MAX_QUEUE_DAYS, open_lo=True)
    )
    warmup_days: float = _f(
        0.0, "days simulated first and left out of the results", _float(0.0, MAX_QUEUE_DAYS)
    )
    seed: int = _f(0, "base seed; replication i uses SeedSequence(seed).spawn(n)[i]", _int(0))
    replications: int = _f(2, "independent replications", _int(1, 10_000))
    start: date = _f(
        date(2025, 3, 3), "the first simulated day (a Monday)", _date, lambda d: d.isoformat()
    )
    timezone: str = _f("Asia/Shanghai", "time zone of the simulated instants", _timezone)


@attrs.frozen
class CityConfig:
    """Which city: a synthetic preset (gridcore.synth) or a GeoJSON file."""

    preset: str = _f("yichang", "a gridcore.synth preset name", _str)
    geojson: str = _f("", "a GeoJSON hierarchy file; overrides the preset when set", _str)
    seed: int = _f(0, "seed of the synthetic city", _int(0))
    grids: int = _f(
        0,
        "grid count (0: the preset's); the same households cut into more/fewer grids",
        _int(0, MAX_GRIDS),
    )


@attrs.frozen
class StaffingConfig:
    """Who works: grid workers per grid and the staff of the levels above."""

    policy: str = _f("", "staffing policy name ('' : the city preset's)", _policy)
    workers_per_grid: float = _f(
        0.0,
        "grid workers a grid (0: from the policy; fractions spread the rest)",
        _float(0.0, 100.0),
    )
    community_staff: int = _f(3, "case handlers per community", _int(1, 1000))
    street_staff: int = _f(
        8, "case handlers per street for every 50 grids in it (at least this many)", _int(1, 10_000)
    )
    department_staff: int = _f(
        3,
        "handlers per department per street for every 50 grids (the street's share)",
        _int(1, 10_000),
    )


@attrs.frozen
class DutyConfig:
    """The grid duty plan: patrols, household visits and component inspections."""

    working_periods: tuple[str, ...] = _f(
        ("08:30-12:00", "14:00-17:30"), "daily working periods of grid workers", _periods, list
    )
    on_call_periods: tuple[str, ...] = _f(
        ("07:00-22:00",),
        "daily periods, every day, in which grid workers take cases (verify reports, sign "
        "for, handle); duties (patrols, visits, inspections) stay in working_periods",
        _periods,
        list,
    )
    holidays: bool = _f(True, "China public holidays and make-up working days apply", _bool)
    patrols_per_day: int = _f(3, "patrols a grid a working day (三个一小时)", _int(0, 24))
    patrol_starts: tuple[str, ...] = _f(
        ("08:30", "11:00", "16:00"),
        "patrol start times (the first patrols_per_day are used; more are spread evenly)",
        _times,
        list,
    )
    patrol_minutes: float = _f(60.0, "length of one patrol", _float(0.0, open_lo=True))
    visit_cycle_days: float = _f(
        60.0, "every household is visited once in this many days", _float(0.0, open_lo=True)
    )
    visit_minutes: float = _f(10.0, "minutes a household visit", _float(0.0))
    inspection_cycle_days: float = _f(
        30.0, "every component is inspected once in this many days", _float(0.0, open_lo=True)
    )
    inspection_minutes: float = _f(1.0, "minutes a component inspection", _float(0.0))
    block_minutes: float = _f(
        60.0,
        "visits/inspections are done in blocks of this length (one event each)",
        _float(1.0),
    )


_HOURS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.6, 1.0, 1.5, 1.8, 1.8, 1.6,
    1.3, 1.4, 1.6, 1.7, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6, 0.4, 0.3,
)  # fmt: skip


@attrs.frozen
class IncidentConfig:
    """How incidents arise and come to light."""

    per_1000_households_per_day: float = _f(
        2.0,
        "incidents a day per 1,000 households (before category weights)",
        _float(0.0, MAX_RATE),
    )
    resident_share: float = _f(
        0.6,
        "share reported by residents; the rest stay latent until a patrol finds them",
        _float(0.0, 1.0),
    )
    report_delay: Dist = _f(
        exp_(60.0), "delay from occurrence to a resident's report", _dist, _dump_dist
    )
    discovery_probability: float = _f(
        0.5, "chance that one patrol pass finds a latent incident", _float(0.0, 1.0)
    )
    severity_growth_days: float = _f(
        3.0,
        "a latent incident gains one severity level per this many days unseen",
        _float(0.0, open_lo=True),
    )
    hour_profile: tuple[float, ...] = _f(
        _HOURS, "relative rate per hour of day (24 values, mean-normalised)", _floats(24), list
    )
    weekday_profile: tuple[float, ...] = _f(
        (1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8),
        "relative rate per weekday, Monday first (7 values, mean-normalised)",
        _floats(7),
        list,
    )
    trace: str | None = _f(
        None,
        "a case log (event JSON lines: its reports) or a CSV (instant, grid or x and y, "
        "category) whose incidents replace the drawn ones, reported exactly when, where and "
        "as what it says; relative to the scenario file",
        _opt(_str),
    )


@attrs.frozen
class TimesConfig:
    """Working times of the case steps (minutes), by step and resolving level."""

    verify: Dist = _f(exp_(15.0), "grid worker verifying a report", _dist, _dump_dist)
    dispatch: Dist = _f(
        Dist("fixed", 10.0), "desk time to register and dispatch", _dist, _dump_dist
    )
    check: Dist = _f(exp_(15.0), "grid worker checking a handled case", _dist, _dump_dist)
    handle_grid: Dist = _f(exp_(45.0), "handling by a grid worker", _dist, _dump_dist)
    handle_community: Dist = _f(
        Dist("lognormal", 180.0, 0.8), "handling by community staff", _dist, _dump_dist
    )
    handle_street: Dist = _f(
        Dist("lognormal", 360.0, 0.8), "handling by street staff", _dist, _dump_dist
    )
    handle_department: Dist = _f(
        Dist("lognormal", 600.0, 0.8), "handling by a department", _dist, _dump_dist
    )
    rework_probability: float = _f(0.05, "chance a check fails (返工)", _float(0.0, 0.9))


@attrs.frozen
class RoutingConfig:
    """How a case beyond the grid reaches its owner."""

    mode: str = _f(
        "relay",
        "relay: level by level (grid > community > street > department); "
        "flattened: straight to the owner (扁平化)",
        _choice("relay", "flattened"),
    )
    forward: Dist = _f(
        Dist("fixed", 60.0), "time one level takes to forward a case (relay)", _dist, _dump_dist
    )
    direct: Dist = _f(
        Dist("fixed", 10.0),
        "time to route a case straight to its owner (flattened)",
        _dist,
        _dump_dist,
    )
    owners: tuple[tuple[str, str, str], ...] = _f(
        (),
        "ownership rules over the defaults (each 大类 to `dept:<大类>` at the city): "
        "[{area, category, owner}], the deepest area wins (gridcore.routing.OwnershipRules)",
        _owner_rules,
        _dump_owner_rules,
    )
    misroute_probability: float = _f(
        0.03,
        "chance that the desk dispatches a case to a wrong owner of the same level; the "
        "wrong owner asks for a return (回退) with a reason and the desk re-dispatches it",
        _float(0.0, 1.0),
    )
    return_delay: Dist = _f(
        Dist("fixed", 30.0),
        "time a wrongly dispatched case takes its wrong owner to request a return (working "
        "time for working-hours categories); the desk approves after times.dispatch",
        _dist,
        _dump_dist,
    )


@attrs.frozen
class EscalationConfig:
    """The escalation rules the model sweeps with (`gridcore.escalation.due_escalations`)."""

    check_minutes: float = _f(
        60.0,
        "minutes between escalation sweeps (due_escalations over the open cases whose "
        "deadline light may have changed)",
        _float(1.0),
    )
    rules: str | tuple[EscalationRule, ...] = _f(
        "default",
        '"default" (gridcore.escalation.default_rules()) or a list of rule tables '
        "[{name, trigger, response, threshold, supervision, stages, top, after}]; [] turns "
        "escalation off",
        _escalation_rules,
        _dump_escalation_rules,
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

    code: str = _f("", "the category code (the table's name)", _str)
    weight: float | None = _f(
        None,
        "relative incident rate (default: DEFAULT_CATEGORY_WEIGHTS, else 1.0)",
        _opt(_float(0.0)),
    )
    handle: Dist | None = _f(
        None, "handling time (default: by resolving level)", _opt(_dist), _dump_dist
    )
    resident_share: float | None = _f(
        None,
        "share reported by residents (default: incidents.resident_share)",
        _opt(_float(0.0, 1.0)),
    )


@attrs.frozen
class Surge:
    """A factor on some categories' rates for a period (`[[surges]]`)."""

    categories: tuple[str, ...] = _f(
        (), "category codes or code prefixes (G04 = every G04xx)", _strs, list
    )
    factor: float = _f(3.0, "rate multiplier", _float(0.0, MAX_SURGE))
    start_day: float = _f(0.0, "first day (counted after the warm-up)", _float(0.0, MAX_DAYS))
    days: float = _f(30.0, "length in days", _float(0.0, MAX_DAYS, open_lo=True))


@attrs.frozen
class QueueOnly:
    """One grid as an M/M/c queue: c workers, Poisson arrivals, exponential handling.

    With `trace` set, arrivals and service times are read from that CSV file
    (`arrival_minutes,service_minutes`) instead of drawn.
    """

    workers: int = _f(1, "servers c", _int(1, 10_000))
    arrivals_per_hour: float = _f(0.5, "Poisson arrival rate", _float(0.0, open_lo=True))
    mean_handling_minutes: float = _f(
        60.0, "mean exponential service time", _float(0.0, open_lo=True)
    )
    trace: str = _f(
        "",
        "a CSV file (arrival_minutes,service_minutes) whose customers replace the drawn "
        "ones; relative to the scenario file",
        _str,
    )

    @property
    def utilisation(self) -> float:
        """Offered load per server, lambda / (c mu)."""
        return self.arrivals_per_hour * self.mean_handling_minutes / 60.0 / self.workers


_SECTIONS: dict[str, type] = {
    "run": RunConfig,
    "city": CityConfig,
    "staffing": StaffingConfig,
    "duties": DutyConfig,
    "incidents": IncidentConfig,
    "times": TimesConfig,
    "routing": RoutingConfig,
    "escalation": EscalationConfig,
}


@attrs.frozen
class Scenario:
    """A complete simulation input; every part has defaults (see `reference()`)."""

    name: str = "scenario"
    run: RunConfig = RunConfig()
    city: CityConfig = CityConfig()
    staffing: StaffingConfig = StaffingConfig()
    duties: DutyConfig = DutyConfig()
    incidents: IncidentConfig = IncidentConfig()
    times: TimesConfig = TimesConfig()
    routing: RoutingConfig = RoutingConfig()
    escalation: EscalationConfig = EscalationConfig()
    categories: tuple[CategoryConfig, ...] = ()
    surges: tuple[Surge, ...] = ()
    queue_only: QueueOnly | None = None

    def category(self, code: str) -> CategoryConfig:
        """The settings of a category (defaults when the scenario does not name it)."""
        for c in self.categories:
            if c.code == code:
                return c
        return CategoryConfig(code=code)

    def category_weight(self, code: str) -> float:
        """A category's relative incident rate: the scenario's, the default table's, or 1."""
        w = self.category(code).weight
        return DEFAULT_CATEGORY_WEIGHTS.get(code, 1.0) if w is None else w

    def to_dict(self) -> dict[str, Any]:
        """A JSON/TOML-ready mapping that `scenario_from_dict` loads back to an equal value."""
        out: dict[str, Any] = {"name": self.name}
        for sec in _SECTIONS:
            out[sec] = _dump(getattr(self, sec))
        out["categories"] = {c.code: _dump(c, skip=("code",)) for c in self.categories}
        out["surges"] = [_dump(s) for s in self.surges]
        if self.queue_only is not None:
            out["queue_only"] = _dump(self.queue_only)
        return out


def _dump(obj: Any, skip: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in attrs.fields(type(obj)):
        if f.name in skip:
            continue
        v = getattr(obj, f.name)
        if v is None:
            continue
        dump = f.metadata.get("dump")
        out[f.name] = dump(v) if dump is not None else v
    return out


S = TypeVar("S")


def _load(cls: type[S], raw: object, prefix: str, src: str) -> S:
    if not isinstance(raw, Mapping):
        raise ScenarioError(prefix, raw, "a table", src)
    fields = {f.name: f for f in attrs.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        f = fields.get(key)
        if f is None:
            raise ScenarioError(f"{prefix}.{key}", value, f"one of the keys {sorted(fields)}", src)
        kwargs[key] = f.metadata["conv"](f"{prefix}.{key}", value, src)
    return cls(**kwargs)


def scenario_from_dict(data: Mapping[str, Any], source: str = "") -> Scenario:
    """Load a scenario from a parsed TOML/JSON mapping; ScenarioError names a bad key."""
    if not isinstance(data, Mapping):
        raise ScenarioError("", data, "a table of scenario sections", source)
    allowed = {"name", "categories", "surges", "queue_only", *_SECTIONS}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            raise ScenarioError(key, value, f"one of the tables {sorted(allowed)}", source)
        if key == "name":
            kwargs["name"] = _str("name", value, source)
        elif key in _SECTIONS:
            kwargs[key] = _load(_SECTIONS[key], value, key, source)
        elif key == "queue_only":
            qo = _load(QueueOnly, value, key, source)
            if not qo.trace and qo.utilisation >= 1.0:
                raise ScenarioError(
                    "queue_only.arrivals_per_hour",
                    qo.arrivals_per_hour,
                    f"a rate below workers * 60 / mean_handling_minutes = "
                    f"{qo.workers * 60.0 / qo.mean_handling_minutes:g} (utilisation "
                    f"{qo.utilisation:.3f} >= 1 never reaches a steady state)",
                    source,
                )
            kwargs[key] = qo
        elif key == "categories":
            if not isinstance(value, Mapping):
                raise ScenarioError(key, value, "a table of [categories.CODE] tables", source)
            cats = []
            for code, table in sorted(value.items()):
                if isinstance(table, Mapping) and "code" in table:
                    raise ScenarioError(
                        f"categories.{code}.code",
                        table["code"],
                        "no key: the table's name is the code",
                        source,
                    )
                c = _load(CategoryConfig, table, f"categories.{code}", source)
                cats.append(attrs.evolve(c, code=str(code)))
            kwargs[key] = tuple(cats)
        else:  # surges
            if not isinstance(value, list | tuple):
                raise ScenarioError(key, value, "an array of [[surges]] tables", source)
            surges = []
            for i, table in enumerate(value):
                s = _load(Surge, table, f"surges[{i}]", source)
                if not s.categories:
                    raise ScenarioError(
                        f"surges[{i}].categories", [], "at least one category code", source
                    )
                surges.append(s)
            kwargs[key] = tuple(surges)
    scenario = Scenario(**kwargs)
    _check_cross(scenario, source)
    return scenario


def _check_cross(s: Scenario, src: str) -> None:
    """Checks that involve two keys (the work bounds among them)."""
    horizon = s.run.days + s.run.warmup_days
    if s.queue_only is None and horizon > MAX_DAYS:
        raise ScenarioError(
            "run.days",
            s.run.days,
            f"run.days + run.warmup_days <= {MAX_DAYS:g} for the grid model",
            src,
        )
    if s.queue_only is not None:
        arrivals = s.queue_only.arrivals_per_hour * 24.0 * horizon
        if arrivals > MAX_ARRIVALS:
            raise ScenarioError(
                "queue_only.arrivals_per_hour",
                s.queue_only.arrivals_per_hour,
                f"at most {MAX_ARRIVALS:,} expected arrivals over the run "
                f"(arrivals_per_hour x 24 x {horizon:g} days = {arrivals:,.0f})",
                src,
            )
    else:
        # an upper bound: as if every surge covered every category for its whole length
        surge_days = sum(max(0.0, x.factor - 1.0) * min(x.days, horizon) for x in s.surges)
        rate = s.incidents.per_1000_households_per_day / 1000
        per_household = rate * (horizon + surge_days)
        if per_household > MAX_INCIDENTS_PER_HOUSEHOLD:
            raise ScenarioError(
                "incidents.per_1000_households_per_day",
                s.incidents.per_1000_households_per_day,
                f"at most {MAX_INCIDENTS_PER_HOUSEHOLD:g} expected incidents a household over "
                f"the run (rate / 1000 x ({horizon:g} days + surge factor-days "
                f"{surge_days:g}) = {per_household:g})",
                src,
            )
    if s.queue_only is None and s.city.geojson == "":
        from gridcore.synth import PRESETS as CITY_PRESETS

        if s.city.preset not in CITY_PRESETS:
            raise ScenarioError("city.preset", s.city.preset, f"one of {sorted(CITY_PRESETS)}", src)
    n_starts = len(s.duties.patrol_starts)
    if s.duties.patrols_per_day > n_starts and n_starts == 0:
        raise ScenarioError("duties.patrol_starts", [], "at least one start time", src)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a .toml or .json file (the name defaults to the file's stem)."""
    from gridcore.io.text import read_text

    p = Path(path)
    text = read_text(p, "a scenario file")
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(str(p), "", "", "valid TOML or JSON", str(exc)) from None
    except RecursionError:
        raise FileFormatError(str(p), "", "", "TOML or JSON nested less deeply") from None
    if isinstance(data, dict) and "name" not in data:
        data = {"name": p.stem, **data}
    return _with_paths_from(scenario_from_dict(data, str(p)), p.parent)


def _with_paths_from(s: Scenario, folder: Path) -> Scenario:
    """Trace paths relative to the scenario file's folder made absolute."""

    def resolved(path: str) -> str:
        return str(folder / path) if path and not Path(path).is_absolute() else path

    if s.queue_only is not None and s.queue_only.trace:
        qo = attrs.evolve(s.queue_only, trace=resolved(s.queue_only.trace))
        s = attrs.evolve(s, queue_only=qo)
    if s.incidents.trace:
        inc = attrs.evolve(s.incidents, trace=resolved(s.incidents.trace))
        s = attrs.evolve(s, incidents=inc)
    return s


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        nxt = node.get(part)
        if nxt is None:
            nxt = {}
            node[part] = nxt
        if not isinstance(nxt, dict):
            raise ScenarioError(key, value, f"a key inside a table ({part!r} is a value)")
        node = nxt
    node[parts[-1]] = value


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of `scenario` with dotted keys set (`{"staffing.workers_per_grid": 3}`).

    A key that names a whole table or array (`"surges"`, `"queue_only"`) replaces it.
    The result is validated like a loaded file.

    >>> s = apply_overrides(Scenario(), {"run.days": 7, "routing.mode": "flattened"})
    >>> (s.run.days, s.routing.mode)
    (7.0, 'flattened')
    """
    data = scenario.to_dict()
    for key, value in overrides.items():
        _set_dotted(data, key, value)
    return scenario_from_dict(data, "overrides")


# ---------------------------------------------------------------------------------------------
# Overlays and presets


def _grids_of(s: Scenario) -> int:
    if s.city.grids:
        return s.city.grids
    from gridcore.synth import PRESETS as CITY_PRESETS

    spec = CITY_PRESETS.get(s.city.preset)
    return spec.grids if spec is not None else 0


OVERLAYS: dict[str, tuple[str, Callable[[Scenario], Mapping[str, Any]]]] = {
    "one_per_grid": (
        "staffing model: one worker a grid (一格一员, Yichang)",
        lambda s: {"staffing.workers_per_grid": 1.0},
    ),
    "three_per_grid": (
        "staffing model: three staff a grid (Tianjin)",
        lambda s: {"staffing.workers_per_grid": 3.0},
    ),
    "small_grids": (
        "grid size: twice as many grids over the same households",
        lambda s: {"city.grids": 2 * _grids_of(s)},
    ),
    "large_grids": (
        "grid size: half as many grids over the same households",
        lambda s: {"city.grids": max(1, _grids_of(s) // 2)},
    ),
    "one_patrol": (
        "patrol frequency: one patrol a day instead of three",
        lambda s: {"duties.patrols_per_day": 1},
    ),
    "flattened": (
        "flattening: cases go straight to the owning department (扁平化)",
        lambda s: {"routing.mode": "flattened"},
    ),
    "epidemic": (
        "epidemic surge: fire, epidemic and health cases x3 for 30 days",
        lambda s: {
            "surges": [
                *(_dump(x) for x in s.surges),
                {
                    "categories": ["G01", "G04", "G06"],
                    "factor": 3.0,
                    "start_day": 0.0,
                    "days": 30.0,
                },
            ]
        },
    ),
}
"""Named what-if overlays: name -> (description, scenario -> overrides)."""


def apply_overlay(scenario: Scenario, name: str) -> Scenario:
    """A copy of `scenario` with the named what-if overlay applied (see `OVERLAYS`)."""
    try:
        _, make = OVERLAYS[name]
    except KeyError:
        raise ScenarioError("overlay", name, f"one of {sorted(OVERLAYS)}") from None
    out = apply_overrides(scenario, make(scenario))
    return attrs.evolve(out, name=f"{scenario.name}+{name}")


def _presets() -> dict[str, Scenario]:
    names = ("yichang", "yubei", "shuanghu", "tianjin-pilot", "xiling", "shibanxi")
    return {n: Scenario(name=n, city=CityConfig(preset=n)) for n in names}


PRESETS: dict[str, Scenario] = _presets()
"""One scenario per place of DOMAIN.md section 5 (defaults everywhere but the city)."""


def preset_scenario(name: str) -> Scenario:
    """The preset scenario for a place; ScenarioError listing the presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ScenarioError("preset", name, f"one of {sorted(PRESETS)}") from None


def reference() -> list[tuple[str, str, str]]:
    """Every scenario key with its default and meaning: (dotted key, default, doc)."""
    rows: list[tuple[str, str, str]] = [("name", '"scenario"', "a label for the results")]
    classes: list[tuple[str, type]] = [
        *_SECTIONS.items(),
        ("categories.CODE", CategoryConfig),
        ("surges[]", Surge),
        ("queue_only", QueueOnly),
    ]
    for prefix, cls in classes:
        for f in attrs.fields(cls):
            if cls is CategoryConfig and f.name == "code":
                continue
            d = f.default
            dump = f.metadata.get("dump")
            shown = dump(d) if (dump is not None and d is not None) else d
            rows.append(
                (f"{prefix}.{f.name}", json.dumps(shown, ensure_ascii=False), f.metadata["doc"])
            )
    return rows
