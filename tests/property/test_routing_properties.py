"""Properties of the routing index: it agrees with the brute-force reference everywhere."""

from __future__ import annotations

import attrs
import numpy as np
import shapely
import shapely.affinity
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gridcore.hierarchy import Hierarchy
from gridcore.routing import RoutingIndex, brute_force_locate, reference_locate
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


def rebuild_with(h: Hierarchy, polys: np.ndarray) -> Hierarchy:
    """The same hierarchy with its grids' polygons replaced (areas above keep none)."""
    by_code = dict(zip(h.grids, polys, strict=True))
    areas = [attrs.evolve(a, polygon=by_code.get(a.code)) for a in h.areas]
    return Hierarchy.build(areas, h.scheme)


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
    ref, _ = reference_locate(polys, xs, ys)
    np.testing.assert_array_equal(got, ref)
    _, count = brute_force_locate(polys, xs, ys)
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


@settings(max_examples=25, deadline=None)
@given(
    city=cities(),
    angle=st.sampled_from([0.0, 17.0, 45.0, 121.5]),
    snap=st.sampled_from([0.0, 0.5, 3.0, 40.0]),
    seed=st.integers(0, 2**16),
)
def test_locate_and_locate_many_agree_on_border_and_snapped_points(
    city: tuple[CitySpec, int], angle: float, snap: float, seed: int
) -> None:
    """Vertices and edge points of the outer border, points just outside and random points:
    single, batched and reference answers agree, snapped or not, and so do the distances."""
    spec, city_seed = city
    h = build_city(spec, seed=city_seed)
    # a rotated territory has slanted outer borders (shared vertices rotate identically)
    polys = np.asarray(
        [shapely.affinity.rotate(p, angle, origin=(0, 0)) for p in h.grid_polygons()],
        dtype=object,
    )
    index = RoutingIndex.build(rebuild_with(h, polys), snap=snap)
    rng = np.random.default_rng(seed)
    outline = shapely.get_coordinates(shapely.boundary(shapely.union_all(polys)))
    t = rng.uniform(0, 1, len(outline) - 1)
    on_edges = outline[:-1] + t[:, None] * (outline[1:] - outline[:-1])
    away = rng.normal(0, 1, (len(outline), 2)) * rng.choice(
        [0.01, 1.0, 10.0, 100.0], (len(outline), 1)
    )
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    rnd = np.column_stack([rng.uniform(x0 - 50, x1 + 50, 300), rng.uniform(y0 - 50, y1 + 50, 300)])
    pts = np.concatenate([outline, on_edges, outline + away, rnd])
    xs, ys = pts[:, 0], pts[:, 1]
    got = index.locate_many(xs, ys)
    detail = index.locate_many_detail(xs, ys)
    ref, ref_dist = reference_locate(polys, xs, ys, snap=snap)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(detail.positions, ref)
    held = ref >= 0
    np.testing.assert_array_equal(detail.distances[held], ref_dist[held])
    assert (detail.distances[~held] > snap).all()
    np.testing.assert_array_equal(got[: len(outline)] >= 0, True)  # every outer vertex
    for i in rng.choice(len(xs), size=min(len(xs), 200), replace=False).tolist():
        x, y = float(xs[i]), float(ys[i])
        assert index.locate_position(x, y) == ref[i]
        loc = index.locate_detail(x, y)
        assert loc.position == ref[i] and loc.distance == detail.distances[i]
        assert loc.snapped == bool(detail.snapped[i])
