"""Checks of a scenario that involve two keys, the bounds on a run's work among them."""

from __future__ import annotations

from gridcore.errors import ScenarioError
from gridcore.sim.scenario.sections import (
    MAX_ARRIVALS,
    MAX_DAYS,
    MAX_INCIDENTS_PER_HOUSEHOLD,
)
from gridcore.sim.scenario.value import Scenario

__all__ = ["check_cross"]


def check_cross(s: Scenario, src: str) -> None:
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
