"""Routing at 50,000 grids: point -> grid (batched and single), owners, full route, build.

Run: .venv/bin/pytest benchmarks/bench_routing.py --benchmark-only
Baselines in the same run: shapely 2's STRtree, `query(points, predicate="intersects")`
for a batch (building the points included, the tree built beforehand like our index)
and `query(Point(x, y), predicate="intersects")` per point. Single-call benchmarks
time a loop of `N_SINGLE` calls: divide the mean by `N_SINGLE` for one call
(the shapely single-call baseline loops over `N_SINGLE` points too).
The route benchmarks use a real staffed city (`staffing.staff_city` and
`ResponsibilityIndex`, one person a grid), built once per module.
"""

from __future__ import annotations

import tracemalloc
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pytest_benchmark.fixture import BenchmarkFixture

from gridcore import staffing
from gridcore.categories import default_taxonomy
from gridcore.routing import OwnershipRule, RoutingIndex
from gridcore.synth import CitySpec, build_city

SEED = 20251001
N_BATCH = 1_000_000
N_SINGLE = 10_000
N_OWNERS = 1_000_000
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SPEC = CitySpec("big", grids=50_000, districts=10, streets=110, communities=1_100)


def _rules(h: Any, rng: np.random.Generator) -> list[OwnershipRule]:
    """Rules at five levels: every root category at the city, then overrides lower down."""
    tax = default_taxonomy()
    cats = [c.code for c in tax]
    rules = [OwnershipRule(h.roots[0], c.code, f"city-{c.code}") for c in tax.roots()]
    for level, count in (("district", 40), ("street", 400), ("community", 3_000), ("grid", 10_000)):
        areas = h.at_level(level)
        for i in range(count):
            a = areas[int(rng.integers(len(areas)))]
            c = cats[int(rng.integers(len(cats)))]
            rules.append(OwnershipRule(a, c, f"{level}-dept-{i % 50}"))
    # keep one owner per (area, category): a benchmark rule set must be deployable
    seen: dict[tuple[str, str], OwnershipRule] = {}
    for r in rules:
        seen.setdefault((r.area, r.category), r)
    return list(seen.values())


@pytest.fixture(scope="module")
def city() -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    h = build_city(SPEC, seed=1)
    polys = h.grid_polygons()
    # a real staffed city: one full-duty worker a grid (50,000 posts), built once per module
    roster = staffing.staff_city(h, "full_duty", SEED, NOW - timedelta(days=30))
    people = staffing.ResponsibilityIndex(h, roster)
    index = RoutingIndex.build(h, rules=_rules(h, rng), people=people)
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    xs = rng.uniform(x0, x1, N_BATCH)
    ys = rng.uniform(y0, y1, N_BATCH)
    tree = shapely.STRtree(polys)
    tax = default_taxonomy()
    leaves = [c.code for c in tax.leaves()]
    cats = rng.choice(np.array(leaves), N_SINGLE).tolist()
    return {
        "h": h,
        "index": index,
        "tree": tree,
        "xs": xs,
        "ys": ys,
        "xl": xs[:N_SINGLE].tolist(),
        "yl": ys[:N_SINGLE].tolist(),
        "cats": cats,
        "gp": rng.integers(0, len(h.grids), N_OWNERS),
        "cp": rng.integers(0, len(index.owners.category_codes), N_OWNERS),
        "people": people,
    }


def _shapely_batch(tree: Any, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    pi, gi = tree.query(shapely.points(xs, ys), predicate="intersects")
    out = np.full(len(xs), -1, dtype=np.int64)
    out[pi] = gi
    return out


def test_locate_many_index(benchmark: BenchmarkFixture, city: dict[str, Any]) -> None:
    index = city["index"]
    got = benchmark.pedantic(index.locate_many, (city["xs"], city["ys"]), rounds=7, iterations=1)
    assert (got >= 0).mean() > 0.99
    np.testing.assert_array_equal(got[:50_000], _shapely_batch(city["tree"], city["xs"][:50_000],
                                                                city["ys"][:50_000]))  # fmt: skip


def test_locate_many_shapely_strtree_baseline(
    benchmark: BenchmarkFixture, city: dict[str, Any]
) -> None:
    got = benchmark.pedantic(
        _shapely_batch, (city["tree"], city["xs"], city["ys"]), rounds=3, iterations=1
    )
    np.testing.assert_array_equal(got, city["index"].locate_many(city["xs"], city["ys"]))


def test_locate_single_index(benchmark: BenchmarkFixture, city: dict[str, Any]) -> None:
    locate = city["index"].locate
    xl, yl = city["xl"], city["yl"]

    def run() -> int:
        return sum(1 for x, y in zip(xl, yl, strict=True) if locate(x, y) is not None)

    assert benchmark(run) > 0.99 * N_SINGLE


def test_locate_single_shapely_strtree_baseline(
    benchmark: BenchmarkFixture, city: dict[str, Any]
) -> None:
    tree = city["tree"]
    xl, yl = city["xl"], city["yl"]
    point = shapely.Point

    def run() -> int:
        return sum(
            1
            for x, y in zip(xl, yl, strict=True)
            if len(tree.query(point(x, y), predicate="intersects"))
        )

    assert benchmark.pedantic(run, rounds=3, iterations=1) > 0.99 * N_SINGLE


def test_route_single(benchmark: BenchmarkFixture, city: dict[str, Any]) -> None:
    route = city["index"].route
    xl, yl, cats = city["xl"], city["yl"], city["cats"]

    def run() -> int:
        n = 0
        for x, y, c in zip(xl, yl, cats, strict=True):
            try:
                r = route(x, y, c, NOW)
            except LookupError:  # a point on the right/top border
                continue
            n += r.owner is not None and r.person is not None
        return n

    assert benchmark(run) > 0.99 * N_SINGLE


def test_route_single_each_at_its_own_instant(
    benchmark: BenchmarkFixture, city: dict[str, Any]
) -> None:
    """As a simulation asks: every report at a new instant (no cached timestamp)."""
    route = city["index"].route
    xl, yl, cats = city["xl"], city["yl"], city["cats"]
    instants = [NOW + timedelta(seconds=i) for i in range(N_SINGLE)]

    def run() -> int:
        n = 0
        for x, y, c, at in zip(xl, yl, cats, instants, strict=True):
            try:
                r = route(x, y, c, at)
            except LookupError:
                continue
            n += r.person is not None
        return n

    assert benchmark(run) > 0.99 * N_SINGLE


def test_route_single_without_people(benchmark: BenchmarkFixture, city: dict[str, Any]) -> None:
    """Point -> grid -> owner only: the routing index's own share of a route."""
    index = city["index"]
    locate, owners = index.locate_position, index.owners
    cat_pos, owner_at = owners.category_position, owners.owner_at
    xl, yl, cats = city["xl"], city["yl"], city["cats"]

    def run() -> int:
        n = 0
        for x, y, c in zip(xl, yl, cats, strict=True):
            p = locate(x, y)
            if p >= 0 and owner_at(p, cat_pos(c)) is not None:
                n += 1
        return n

    assert benchmark(run) > 0.99 * N_SINGLE


def test_owners_many(benchmark: BenchmarkFixture, city: dict[str, Any]) -> None:
    owners = city["index"].owners
    got = benchmark.pedantic(owners.owners_many, (city["gp"], city["cp"]), rounds=20, iterations=1)
    assert (got >= 0).all()


def test_build_index(benchmark: BenchmarkFixture, city: dict[str, Any]) -> None:
    h = city["h"]
    h.grid_polygons()  # cached on the hierarchy: not part of the index build
    index = benchmark.pedantic(RoutingIndex.build, (h,), rounds=2, iterations=1)
    assert index.stats()["bytes"] < 200e6
    # peak memory of one more build, traced outside the timed rounds
    tracemalloc.start()
    try:
        RoutingIndex.build(h)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    benchmark.extra_info["traced_peak_mb"] = round(peak / 1e6, 1)
    benchmark.extra_info["index_mb"] = round(index.stats()["bytes"] / 1e6, 1)
    assert peak < 250e6
