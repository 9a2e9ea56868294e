"""Properties of the routing index: it agrees with the brute-force reference everywhere."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gridcore.routing import RoutingIndex, brute_force_locate
from gridcore.synth import CitySpec, build_city


@st.composite
def cities(draw: st.DrawFn) -> tuple[CitySpec, int]:
    grids = draw(st.integers(1, 80))
    communities = draw(st.integers(1, max(1, min(grids, 8))))
    communities = max(communities, -(-grids // 99))
    streets = draw(st.integers(1, communities))
    districts = draw(st.integers(1, streets))
    spec = CitySpec("p", grids=grids, districts=districts, streets=streets, communities=communities)
    return spec, draw(st.integers(0, 2**16))


def snapped(polys: np.ndarray) -> bool:
    """True when every vertex lies on the 1 mm lattice, so shared borders are bit-identical.

    (`synth` leaves a one-grid community's box unrounded, which overlaps its
    neighbours' rounded cells by a sliver; such cities are not exact tilings.)
    """
    c = shapely.get_coordinates(polys)
    return bool((np.round(c, 3) == c).all())


@settings(max_examples=25, deadline=None)
@given(
    city=cities(),
    buckets=st.sampled_from([0.05, 1.0, 16.0, 64.0, 200.0]),
    seed=st.integers(0, 2**16),
)
def test_index_agrees_with_reference_on_random_and_boundary_points(
    city: tuple[CitySpec, int], buckets: float, seed: int
) -> None:
    """Random points, vertices and edge points: batch, single and reference agree."""
    spec, city_seed = city
    h = build_city(spec, seed=city_seed)
    polys = h.grid_polygons()
    index = RoutingIndex.build(h, buckets_per_grid=buckets)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    n = 2_000
    xs = rng.uniform(x0 - 1, x1 + 1, n)
    ys = rng.uniform(y0 - 1, y1 + 1, n)
    coords = shapely.get_coordinates(polys)
    t = rng.uniform(0, 1, len(coords) - 1)
    on_edges = coords[:-1] + t[:, None] * (coords[1:] - coords[:-1])
    xs = np.concatenate([xs, coords[:, 0], on_edges[:, 0]])
    ys = np.concatenate([ys, coords[:, 1], on_edges[:, 1]])
    got = index.locate_many(xs, ys)
    ref, count = brute_force_locate(polys, xs, ys)
    np.testing.assert_array_equal(got, ref)
    if snapped(polys):
        assert count.max() <= 1
    pick = rng.choice(len(xs), size=300, replace=False)
    single = [index.locate_position(float(xs[i]), float(ys[i])) for i in pick]
    np.testing.assert_array_equal(single, ref[pick])


@settings(max_examples=25, deadline=None)
@given(city=cities(), seed=st.integers(0, 2**16))
def test_every_vertex_inside_the_territory_has_exactly_one_grid(
    city: tuple[CitySpec, int], seed: int
) -> None:
    """Shared vertices and T-junctions have exactly one grid, except on the right/top border."""
    spec, city_seed = city
    h = build_city(spec, seed=city_seed)
    polys = h.grid_polygons()
    assume(snapped(polys))
    coords = shapely.get_coordinates(polys)
    _, _, x1, y1 = shapely.total_bounds(polys)
    _, count = brute_force_locate(polys, coords[:, 0], coords[:, 1])
    outer = (coords[:, 0] == x1) | (coords[:, 1] == y1)
    assert (count[~outer] == 1).all()
    assert (count[outer] == 0).all()
