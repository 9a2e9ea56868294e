"""Every shipped example file loads and validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.sim.scenario import load_scenario
from gridcore.sweep import load_sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES.glob("*.toml")), ids=str
)
def test_example_scenario_loads(path: Path) -> None:
    """Each example scenario parses into a Scenario with documented defaults filled in."""
    s = load_scenario(path)
    assert s.to_dict()["run"]["days"] > 0


def test_example_sweep_expands_to_its_grid() -> None:
    """The example sweep is 4 x 2 points with 4 replications each."""
    sweep = load_sweep(EXAMPLES / "sweeps" / "yichang_staffing.toml")
    assert len(sweep.runs()) == 32
