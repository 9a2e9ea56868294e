"""Properties of hierarchies (synthetic cities and hand-built path schemes) and adjustments."""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
import shapely
from hypothesis import HealthCheck, given, settings

from gridcore.adjust import merge_grids, split_grid_in_two
from gridcore.hierarchy import RURAL, Area, Hierarchy
from gridcore.synth import CitySpec, build_city

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cities(draw: st.DrawFn) -> Hierarchy:
    """Small synthetic cities of random shape."""
    districts = draw(st.integers(1, 2))
    streets = draw(st.integers(districts, 3))
    communities = draw(st.integers(streets, 5))
    grids = draw(st.integers(communities, 30))
    spec = CitySpec("p", grids=grids, districts=districts, streets=streets, communities=communities)
    return build_city(spec, seed=draw(st.integers(0, 2**16)))


@st.composite
def rural(draw: st.DrawFn) -> Hierarchy:
    """Hand-built path-scheme hierarchies without polygons (random fan-out per level)."""
    areas: list[Area] = []
    levels = RURAL.level_names

    def grow(code: str, depth: int, parent: str | None) -> None:
        leaf = depth == len(levels) - 1
        hh = draw(st.integers(0, 15)) if leaf else 0
        areas.append(Area(code, code, levels[depth], parent, households=hh))
        if not leaf:
            for k in range(draw(st.integers(1, 3))):
                grow(f"{code}/{k}", depth + 1, code)

    for r in range(draw(st.integers(1, 2))):
        grow(f"r{r}", 0, None)
    return Hierarchy.build(areas, RURAL)


hierarchies = st.one_of(cities(), rural())


@FAST
@given(hierarchies)
def test_every_grid_has_one_chain_to_a_root(h: Hierarchy) -> None:
    """path(g) runs from a root down to g through parents, one level at a time."""
    depth = len(h.scheme.levels)
    for g in h.grids:
        path = h.path(g)
        assert len(path) == depth and path[-1] == g and path[0] in h.roots
        for up, down in itertools.pairwise(path):
            assert h.parent(down) == up and down in h.children(up)


@FAST
@given(hierarchies)
def test_rolled_up_totals_add_up(h: Hierarchy) -> None:
    """Each area's households are its children's sum; the roots hold everything."""
    for a in h.areas:
        kids = h.children(a.code)
        if kids:
            assert h.households(a.code) == sum(h.households(k) for k in kids)
            assert len(h.grids_under(a.code)) == sum(len(h.grids_under(k)) for k in kids)
    assert h.total_households == int(h.grid_households().sum())


@FAST
@given(hierarchies)
def test_descendants_and_ancestors_agree(h: Hierarchy) -> None:
    """d is a descendant of a exactly when a is an ancestor of d."""
    codes = [a.code for a in h.areas]
    for a in codes[:12]:
        below = set(h.descendants(a))
        for d in codes:
            assert (d in below) == (a in h.ancestors(d))
        assert set(h.grids_under(a)) == {g for g in h.grids if g == a or g in below}


@FAST
@given(hierarchies, st.data())
def test_lowest_common_ancestor_is_the_deepest_shared_area(
    h: Hierarchy, data: st.DataObject
) -> None:
    """LCA(a, b) is the last common element of both paths (None across trees)."""
    codes = [a.code for a in h.areas]
    a = data.draw(st.sampled_from(codes))
    b = data.draw(st.sampled_from(codes))
    shared = [x for x, y in zip(h.path(a), h.path(b), strict=False) if x == y]
    assert h.lowest_common_ancestor(a, b) == (shared[-1] if shared else None)


@settings(max_examples=20, deadline=None)
@given(cities(), st.data())
def test_split_then_merge_conserve_households_and_coverage(
    h: Hierarchy, data: st.DataObject
) -> None:
    """Households per community and the union of the grids are unchanged; lineage composes."""
    g = data.draw(st.sampled_from(h.grids))
    fraction = data.draw(st.floats(0.1, 0.9))
    axis = data.draw(st.sampled_from(["auto", "x", "y"]))
    area0 = shapely.union_all(h.grid_polygons())
    h2, a = split_grid_in_two(h, g, axis=axis, fraction=fraction)
    parts = a.forward(g)
    assert h2.total_households == h.total_households
    assert sum(h2.households(p) for p in parts) == h.households(g)
    pivot = data.draw(st.sampled_from(parts))
    nbs = [n for n in h2.neighbours(pivot) if h2.parent(n) == h2.parent(pivot)]
    assert set(parts) - {pivot} <= set(nbs)  # the two halves share the cut
    other = data.draw(st.sampled_from(nbs))
    h3, b = merge_grids(h2, [pivot, other])
    for community in h.at_level("community"):
        assert h3.households(community) == h.households(community)
    for h_new in (h2, h3):
        union = shapely.union_all(h_new.grid_polygons())
        assert abs(union.area - area0.area) < 1e-6
        assert shapely.symmetric_difference(union, area0).area < 1e-6
    both = a.then(b)
    for old in {g, *h.grids[:5]}:
        assert both.forward(old) == tuple(sorted({y for x in a.forward(old) for y in b.forward(x)}))
    (merged,) = b.forward(pivot)
    assert set(both.backward(merged)) == {g} | set(a.backward(other))
