"""What-if simulation of grid governance with SimPy (the only package that imports SimPy).

Stable entry points: `run_replication`, `run_scenario`, `compare` (gridcore.sim.run),
`Scenario`, `load_scenario`, `preset_scenario`, `apply_overlay`, `apply_overrides`
(gridcore.sim.scenario) and the results folder (gridcore.sim.results, docs/simulation.md).
"""

from __future__ import annotations

from gridcore.sim.results import Comparison, ReplicationResult, ScenarioResult, read_summary
from gridcore.sim.run import compare, run_replication, run_scenario
from gridcore.sim.scenario import (
    OVERLAYS,
    PRESETS,
    Scenario,
    apply_overlay,
    apply_overrides,
    load_scenario,
    preset_scenario,
)

__all__ = [
    "OVERLAYS",
    "PRESETS",
    "Comparison",
    "ReplicationResult",
    "Scenario",
    "ScenarioResult",
    "apply_overlay",
    "apply_overrides",
    "compare",
    "load_scenario",
    "preset_scenario",
    "read_summary",
    "run_replication",
    "run_scenario",
]
