"""Named what-if overlays (`OVERLAYS`) and one preset scenario per place (`PRESETS`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from gridcore.errors import ScenarioError
from gridcore.sim.scenario.loading import apply_overrides
from gridcore.sim.scenario.sections import CityConfig
from gridcore.sim.scenario.value import Scenario, dump_section

__all__ = ["OVERLAYS", "PRESETS", "apply_overlay", "preset_scenario"]


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
                *(dump_section(x) for x in s.surges),
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
    names = (
        "yichang", "yubei", "shuanghu", "tianjin-pilot", "xiling", "shibanxi",
        "chongqing-scale",
    )  # fmt: skip
    return {n: Scenario(name=n, city=CityConfig(preset=n)) for n in names}


PRESETS: dict[str, Scenario] = _presets()
"""One scenario per place of DOMAIN.md section 5 (defaults everywhere but the city)."""


def preset_scenario(name: str) -> Scenario:
    """The preset scenario for a place; ScenarioError listing the presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ScenarioError("preset", name, f"one of {sorted(PRESETS)}") from None
