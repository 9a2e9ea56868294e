"""The grid model drives the real core: ownership rules, the roster, results for the report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gridcore.categories import default_taxonomy
from gridcore.errors import ScenarioError
from gridcore.io.geojson import read_geojson
from gridcore.sim.model import (
    city_for,
    default_owner_rules,
    routing_index_for,
    run_partition,
    staff_for,
)
from gridcore.sim.run import run_replication, run_scenario
from gridcore.sim.scenario import apply_overrides, preset_scenario


@pytest.fixture(scope="module")
def shuanghu():
    return apply_overrides(
        preset_scenario("shuanghu"),
        {"run.days": 10, "run.warmup_days": 2, "run.replications": 1, "run.seed": 5},
    )


def test_department_owners_come_from_the_ownership_rules(shuanghu) -> None:
    """Default rules give each 大类 to dept:<大类> at the city; an override wins in its area."""
    index = routing_index_for(shuanghu)
    grid = city_for(shuanghu).grids[0]
    assert index.owner(grid, "G0401") == "dept:G04"
    top = default_owner_rules(city_for(shuanghu), default_taxonomy())
    assert all(owner == f"dept:{cat}" for _, cat, owner in top)
    street = city_for(shuanghu).parent(city_for(shuanghu).parent(grid))
    moved = apply_overrides(
        shuanghu, {"routing.owners": [{"area": street, "category": "G04", "owner": "dept:fire"}]}
    )
    assert routing_index_for(moved).owner(grid, "G0401") == "dept:fire"
    assert routing_index_for(moved).owner(grid, "G0801") == "dept:G08"


def test_department_cases_are_dispatched_to_the_rule_owner(shuanghu) -> None:
    """With fire given to dept:fire, the department-level fire cases go there, not dept:G04."""
    street = city_for(shuanghu).parent(city_for(shuanghu).parent(city_for(shuanghu).grids[0]))
    s = apply_overrides(
        shuanghu,
        {
            "routing.owners": [{"area": street, "category": "G04", "owner": "dept:fire"}],
            "routing.mode": "flattened",
            "categories.G0401.weight": 40.0,
        },
    )
    facts = run_partition(s, 0, 0).facts
    assert facts is not None
    owners = {facts.owner_names[k] for k in facts.owner.tolist() if k >= 0}
    assert "dept:fire" in owners and "dept:G04" not in owners


def test_bad_owner_rule_is_refused_naming_the_key() -> None:
    """A rule missing its owner names routing.owners[0]."""
    with pytest.raises(ScenarioError, match=r"routing\.owners\[0\]"):
        apply_overrides(preset_scenario("shuanghu"), {"routing.owners": [{"area": "x"}]})


def test_grid_workers_are_the_rosters_people(shuanghu) -> None:
    """Handlers of grid cases are people of the staff_city roster (ids P......)."""
    staff = staff_for(shuanghu)
    people = {p.id for p in staff.roster.people}
    assert len(people) == 24  # Shuanghu Road: 12 grids, 24 workers
    facts = run_partition(shuanghu, 0, 0).facts
    assert facts is not None
    grid_level = facts.level_names.index("grid")
    handlers = {
        facts.person_names[h]
        for h, lv in zip(facts.handler.tolist(), facts.resolved_level.tolist(), strict=True)
        if lv == grid_level and h >= 0
    }
    assert handlers and handlers <= people


def test_workers_per_grid_sizes_the_roster() -> None:
    """Three workers a grid on Yichang's policy: the roster holds three people a grid."""
    s = apply_overrides(preset_scenario("shibanxi"), {"staffing.workers_per_grid": 3})
    staff = staff_for(s)
    assert all(len(v) == 3 for v in staff.grid_people.values())


def test_the_run_folder_has_cases_levels_and_the_exact_city(shuanghu, tmp_path: Path) -> None:
    """cases.csv per case, levels.csv per level, city.geojson equal to the city run."""
    run_scenario(shuanghu).write(tmp_path)
    with (tmp_path / "cases.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and set(rows[0]) == {
        "replication", "grid", "category", "level", "response_minutes", "resolution_minutes",
        "on_time",
    }  # fmt: skip
    with (tmp_path / "levels.csv").open() as fh:
        levels = list(csv.DictReader(fh))
    assert [r["level"] for r in levels] == ["grid", "community", "street", "department"]
    city = read_geojson(tmp_path / "city.geojson")
    assert city.grids == city_for(shuanghu).grids


def test_the_backlog_covers_the_measured_days_only(shuanghu) -> None:
    """Warm-up days leave no backlog rows: one row per measured day, counted from 0."""
    r = run_replication(shuanghu, 0)
    backlog = next(t for t in r.tables if t.name == "backlog")
    assert [row[0] for row in backlog.rows] == list(range(10))


def test_grid_cases_are_answered_within_hours(shuanghu) -> None:
    """Grid workers on call sign for grid cases within hours, not the next working day."""
    r = run_replication(shuanghu, 0)
    assert 0 < r.metric("response_minutes_grid_mean") < 180
