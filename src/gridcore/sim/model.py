"""The grid model: incidents, workers, duties and escalation as SimPy processes."""

from __future__ import annotations

import numpy as np

from gridcore.errors import SimulationError
from gridcore.sim.results import ReplicationResult
from gridcore.sim.scenario import Scenario

__all__ = ["run_grid_replication"]


def run_grid_replication(
    scenario: Scenario, replication: int, seed: np.random.SeedSequence
) -> ReplicationResult:
    """Run one replication of the full grid model."""
    raise SimulationError(
        f"scenario {scenario.name!r}: the grid model is not available yet; "
        "use a [queue_only] scenario"
    )
