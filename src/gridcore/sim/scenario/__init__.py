"""Scenarios: what a simulation run is, as one immutable value loaded from TOML or JSON.

A scenario is a set of tables (`run`, `city`, `staffing`, `duties`, `incidents`,
`times`, `routing`, `escalation`, `categories`, `surges`, `queue_only`); every key has a documented
default (`reference()` lists them), so a file only names what differs. A bad file gets
a `ScenarioError` naming the dotted key, the value and what was expected. Named what-if
overlays (`OVERLAYS`) and `apply_overrides(scenario, {"dotted.key": value})` derive
variants; `PRESETS` holds one scenario per place of DOMAIN.md section 5.

Durations are minutes of simulated time unless a key says otherwise.

One concept a module, re-exported here:

- `convert`: the converters of raw values, among them `clock_minutes` and `clock_period`,
  the one parser of clock times ("HH:MM") and periods ("HH:MM-HH:MM");
- `dist`: `Dist`, a duration distribution;
- `sections`: the tables (`RunConfig` ... `QueueOnly`) and the bounds on a run's work;
- `value`: `Scenario`, its dump and `reference()`;
- `validation`: the checks that involve two keys;
- `loading`: `scenario_from_dict`, `load_scenario`, `apply_overrides`;
- `presets`: `OVERLAYS`, `apply_overlay`, `PRESETS`, `preset_scenario`.
"""

from __future__ import annotations

from gridcore.sim.scenario.convert import clock_minutes, clock_period
from gridcore.sim.scenario.dist import DIST_KINDS, Dist
from gridcore.sim.scenario.dist import exp_ as exp_  # public before the split
from gridcore.sim.scenario.loading import apply_overrides, load_scenario, scenario_from_dict
from gridcore.sim.scenario.presets import OVERLAYS, PRESETS, apply_overlay, preset_scenario
from gridcore.sim.scenario.sections import (
    DEFAULT_CATEGORY_WEIGHTS,
    MAX_ARRIVALS,
    MAX_DAYS,
    MAX_GRIDS,
    MAX_INCIDENTS_PER_HOUSEHOLD,
    MAX_QUEUE_DAYS,
    MAX_RATE,
    MAX_SURGE,
    CategoryConfig,
    CityConfig,
    DutyConfig,
    EscalationConfig,
    IncidentConfig,
    QueueOnly,
    RoutingConfig,
    RunConfig,
    StaffingConfig,
    Surge,
    TimesConfig,
)
from gridcore.sim.scenario.value import Scenario, reference

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
    "clock_period",
    "load_scenario",
    "preset_scenario",
    "reference",
    "scenario_from_dict",
]
