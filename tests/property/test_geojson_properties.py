"""GeoJSON round trips are lossless on random synthetic cities and random path-scheme trees."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.hierarchy import FIRE, Area, Hierarchy
from gridcore.io import hierarchy_from_geojson, hierarchy_to_geojson, read_geojson, write_geojson
from gridcore.synth import CitySpec, build_city


@st.composite
def city_specs(draw: st.DrawFn) -> CitySpec:
    districts = draw(st.integers(1, 2))
    streets = draw(st.integers(districts, 4))
    communities = draw(st.integers(streets, 8))
    grids = draw(st.integers(communities, 40))
    lo = draw(st.integers(1, 250))
    hi = draw(st.integers(lo, 400))
    return CitySpec(
        "p",
        grids=grids,
        districts=districts,
        streets=streets,
        communities=communities,
        households_min=lo,
        households_max=hi,
        compounds_per_grid=draw(st.integers(0, 2)),
    )


@settings(max_examples=25, deadline=None)
@given(city_specs(), st.integers(0, 2**31 - 1))
def test_synthetic_city_round_trips_through_a_file(spec: CitySpec, seed: int) -> None:
    """write_geojson then read_geojson gives equal areas, version and retired codes."""
    h = build_city(spec, seed)
    with tempfile.TemporaryDirectory() as d:
        h2 = read_geojson(write_geojson(h, Path(d) / "c.geojson"))
    assert h2.version == h.version and h2.retired == h.retired
    assert all(a == b for a, b in zip(h.areas, h2.areas, strict=True))


names = st.text("abcXYZ019_-", min_size=1, max_size=6)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 500), min_size=1, max_size=4), min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(["lamps", "manholes", "cameras"]), st.integers(0, 50)),
    st.text(min_size=1, max_size=12),
)
def test_path_scheme_tree_round_trips_in_memory(
    shape: list[list[int]], components: dict[str, int], name: str
) -> None:
    """A fire-scheme tree without polygons, with components and Unicode names, round-trips."""
    areas = [Area("B", name, "big_grid")]
    for m, smalls in enumerate(shape):
        mc = f"B/M{m}"
        areas.append(Area(mc, f"{name}-{m}", "medium_grid", "B"))
        for k, hh in enumerate(smalls):
            areas.append(
                Area(
                    f"{mc}/S{k}",
                    f"小网格{k}",
                    "small_grid",
                    mc,
                    households=hh,
                    components=components,
                )
            )
    h = Hierarchy.build(areas, FIRE)
    h2 = hierarchy_from_geojson(hierarchy_to_geojson(h))
    assert h2.scheme == FIRE
    assert all(a == b for a, b in zip(h.areas, h2.areas, strict=True))
    assert h2.total_households == h.total_households
