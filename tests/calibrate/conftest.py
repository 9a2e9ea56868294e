"""Shared inputs of the calibration tests: one small simulated log, written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.cases import event_to_json
from gridcore.io.geojson import write_geojson
from gridcore.sim.inputs import city_for
from gridcore.sim.model import partition_events, partitions
from gridcore.sim.scenario import Scenario, apply_overrides, preset_scenario


def simulated_events(s: Scenario, replication: int = 0) -> list:
    """Every measured event of one replication, street by street."""
    out: list = []
    for j in range(len(partitions(s))):
        _, evs = partition_events(s, replication, j)
        out.extend(evs)
    return out


def write_log(events: list, path: Path) -> Path:
    """The events as JSON lines."""
    path.write_text("".join(event_to_json(e) + "\n" for e in events), encoding="utf-8")
    return path


SMALL = {"run.days": 7, "run.replications": 1, "incidents.per_1000_households_per_day": 4.0}


@pytest.fixture(scope="session")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, Path, Path]:
    """xiling (100 grids), 7 days at 4 incidents a day per 1,000 households: its scenario,
    its events.jsonl and its city.geojson."""
    s = apply_overrides(preset_scenario("xiling"), SMALL)
    d = tmp_path_factory.mktemp("small_log")
    events = write_log(simulated_events(s), d / "events.jsonl")
    city = d / "city.geojson"
    write_geojson(city_for(s), city)
    return s, events, city


@pytest.fixture(scope="session")
def simulate_log():
    """`simulate_log(scenario, replication, path)`: simulate and write events.jsonl."""

    def run(s: Scenario, replication: int, path: Path) -> Path:
        return write_log(simulated_events(s, replication), path)

    return run
