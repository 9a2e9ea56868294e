"""Seeded synthetic cities."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gridcore.errors import ConfigError, UnknownItemError
from gridcore.synth import PRESETS, CitySpec, build_city


def test_same_seed_gives_the_same_city() -> None:
    """Reproducible: same spec and seed, same codes, households and polygons."""
    a = build_city("xiling", seed=5)
    b = build_city("xiling", seed=5)
    assert a.grids == b.grids
    assert all(x == y for x, y in zip(a.areas, b.areas, strict=True))
    c = build_city("xiling", seed=6)
    assert not np.array_equal(a.grid_households(), c.grid_households())


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_have_their_published_sizes(name: str) -> None:
    """Each preset has the grid and community counts of DOMAIN.md section 5."""
    spec = PRESETS[name]
    h = build_city(name, seed=1)
    assert len(h.grids) == spec.grids
    assert len(h.at_level("community")) == spec.communities
    hh = h.grid_households()
    assert hh.min() >= spec.households_min and hh.max() <= spec.households_max


def test_yichang_has_112_communities_and_1110_grids() -> None:
    """Yichang: 112 communities, 1,110 grids."""
    h = build_city("yichang", seed=0)
    assert len(h.at_level("community")) == 112
    assert len(h.grids) == 1110


def test_grids_tile_the_territory_without_gap_or_overlap() -> None:
    """The union of the grids is the city box and their areas add up to it."""
    h = build_city(CitySpec("t", grids=300, districts=2, streets=6, communities=30), seed=3)
    polys = h.grid_polygons()
    city = h.area(h.roots[0]).polygon
    assert shapely.is_valid(polys).all()
    assert float(shapely.area(polys).sum()) == pytest.approx(city.area, rel=1e-9)
    assert shapely.union_all(polys).symmetric_difference(city).area < 1e-6 * city.area
    for comm in h.at_level("community"):
        inner = shapely.union_all(polys[h.grid_positions_under(comm)])
        assert inner.symmetric_difference(h.area(comm).polygon).area < 1e-6 * city.area


def test_bad_specs_are_refused() -> None:
    """Counts must nest and fit the code layout."""
    with pytest.raises(ConfigError):
        CitySpec(grids=10, communities=20)
    with pytest.raises(ConfigError):
        CitySpec(grids=1000, districts=1, streets=1, communities=1)
    with pytest.raises(ConfigError):
        CitySpec(grids=0)
    with pytest.raises(UnknownItemError, match="preset"):
        build_city("atlantis")


@pytest.mark.parametrize(
    ("name", "people"), [("shuanghu", 24), ("yubei", 18_900), ("tianjin-pilot", 60)]
)
def test_synthetic_city_is_staffed_by_its_policy(name: str, people: int) -> None:
    """Presets come staffed: Shuanghu 24 workers, Yubei 18,900, Tianjin three a grid."""
    from gridcore.staffing import check_policy
    from gridcore.synth import DEFAULT_START, synthetic_city

    city = synthetic_city(name, seed=2)
    assert len(city.roster.people) == people
    assert check_policy(city.hierarchy, city.roster, city.policy, DEFAULT_START) == []
