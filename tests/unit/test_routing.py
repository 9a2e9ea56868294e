"""The routing index: point -> grid with its boundary rule, owners, coverage, people, route."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest
import shapely

from gridcore.categories import default_taxonomy
from gridcore.errors import (
    CoordinateError,
    CoverageError,
    GridcoreError,
    RoutingError,
    UnknownItemError,
)
from gridcore.hierarchy import Area, Hierarchy
from gridcore.ids import AreaCode, PersonId
from gridcore.routing import (
    BucketGrid,
    OwnershipRule,
    OwnershipRules,
    PointOutsideError,
    Route,
    RoutingIndex,
    RuleTargetError,
    brute_force_locate,
    coverage_report,
    least_loaded,
    reference_locate,
)
from gridcore.synth import CitySpec, build_city

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMMUNITY = AreaCode("420501001001")


def tiling(polygons: Sequence[Any]) -> Hierarchy:
    """City 4205 > 420501 > 420501001 > community 420501001001 > one grid per polygon."""
    areas = [
        Area(AreaCode("4205"), "city", "city"),
        Area(AreaCode("420501"), "district", "district", AreaCode("4205")),
        Area(AreaCode("420501001"), "street", "street", AreaCode("420501")),
        Area(COMMUNITY, "community", "community", AreaCode("420501001")),
    ]
    for i, p in enumerate(polygons):
        areas.append(
            Area(AreaCode(f"{COMMUNITY}{i + 1:02d}"), f"g{i + 1}", "grid", COMMUNITY, polygon=p)
        )
    return Hierarchy.build(areas)


def g(i: int) -> AreaCode:
    return AreaCode(f"{COMMUNITY}{i:02d}")


def squares() -> Hierarchy:
    """2 x 2 unit squares: g1 bottom-left, g2 bottom-right, g3 top-left, g4 top-right."""
    return tiling(
        [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 1, 1, 2),
         shapely.box(1, 1, 2, 2)]
    )  # fmt: skip


def check_against_reference(h: Hierarchy, index: RoutingIndex, xs: Any, ys: Any) -> None:
    _, count = brute_force_locate(h.grid_polygons(), xs, ys)
    assert (count <= 1).all()
    ref, _ = reference_locate(h.grid_polygons(), xs, ys)
    np.testing.assert_array_equal(index.locate_many(xs, ys), ref)
    for x, y, r in zip(np.asarray(xs).tolist(), np.asarray(ys).tolist(), ref.tolist(), strict=True):
        assert index.locate_position(x, y) == r


class TestLocate:
    def test_interior_points_go_to_their_grid(self) -> None:
        """A point inside a square is located in it."""
        index = RoutingIndex.build(squares())
        assert index.locate(0.5, 0.5) == g(1)
        assert index.locate(1.5, 1.5) == g(4)
        assert index.grid_codes == (g(1), g(2), g(3), g(4))

    @pytest.mark.parametrize(
        ("x", "y", "grid"),
        [
            (1.0, 0.5, 2),  # shared vertical edge: the grid to its right
            (0.5, 1.0, 3),  # shared horizontal edge: the grid above
            (1.0, 1.0, 4),  # shared vertex of four: right and above
            (0.0, 0.0, 1),  # bottom-left corner of the territory
            (0.0, 0.5, 1),  # left border
            (1.0, 0.0, 2),  # bottom border at a vertex
            (1.0, 2.0, 3),  # top border at a vertex of two grids: the lower position
            (1.5, 2.0, 4),  # top border
            (2.0, 0.5, 2),  # right border
            (2.0, 2.0, 4),  # top-right corner
            (5.0, 5.0, None),
            (-1.0, 0.5, None),
        ],
    )
    def test_points_on_edges_and_vertices_follow_the_rule(
        self, x: float, y: float, grid: int | None
    ) -> None:
        """Shared edges go to the grid on the right (or above), shared vertices to the one
        right-above; the territory's own border to the grid whose border it is."""
        h = squares()
        index = RoutingIndex.build(h)
        assert index.locate(x, y) == (None if grid is None else g(grid))
        check_against_reference(h, index, [x], [y])

    def test_t_junction_on_a_horizontal_edge(self) -> None:
        """A vertex of two grids lying inside the edge of a third goes to the right-above grid."""
        h = tiling([shapely.box(0, 0, 2, 1), shapely.box(0, 1, 1, 2), shapely.box(1, 1, 2, 2)])
        index = RoutingIndex.build(h)
        assert index.locate(1.0, 1.0) == g(3)
        assert index.locate(0.5, 1.0) == g(2)
        assert index.locate(1.0, 0.999) == g(1)
        check_against_reference(
            h, index, [1.0, 0.5, 1.5, 1.0, 0.0, 2.0], [1.0, 1.0, 1.0, 0.5, 1, 1]
        )

    def test_t_junction_on_a_vertical_edge(self) -> None:
        """A vertex on a vertical edge of another grid goes to the grid right and above."""
        h = tiling([shapely.box(0, 0, 1, 2), shapely.box(1, 0, 2, 1), shapely.box(1, 1, 2, 2)])
        index = RoutingIndex.build(h)
        assert index.locate(1.0, 1.0) == g(3)
        assert index.locate(1.0, 0.5) == g(2)
        assert index.locate(0.999, 1.0) == g(1)

    def test_a_diagonal_edge_goes_to_the_grid_on_its_right(self) -> None:
        """On a slanted shared edge, the point belongs to the grid on its +x side."""
        lower = shapely.Polygon([(0, 0), (2, 0), (2, 2)])
        upper = shapely.Polygon([(0, 0), (2, 2), (0, 2)])
        h = tiling([lower, upper])
        index = RoutingIndex.build(h)
        assert index.locate(1.0, 1.0) == g(1)
        assert index.locate(0.0, 0.0) == g(1)
        assert index.locate(0.0, 1.0) == g(2)
        check_against_reference(h, index, [1.0, 0.0, 0.5, 1.5, 0.0], [1.0, 0.0, 0.5, 1.5, 1.0])

    def test_holes_and_multipolygons_are_respected(self) -> None:
        """A grid with a hole does not hold the hole; a multipolygon holds both parts."""
        outer = shapely.Polygon(
            [(0, 0), (3, 0), (3, 3), (0, 3)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]
        )
        hole = shapely.box(1, 1, 2, 2)
        two = shapely.MultiPolygon([shapely.box(3, 0, 4, 1), shapely.box(3, 2, 4, 3)])
        h = tiling([outer, hole, two])
        index = RoutingIndex.build(h)
        assert index.locate(1.5, 1.5) == g(2)
        assert index.locate(0.5, 1.5) == g(1)
        assert index.locate(3.5, 2.5) == g(3)
        assert index.locate(3.5, 1.5) is None
        xs = np.linspace(-0.5, 4.5, 41)
        gx, gy = np.meshgrid(xs, xs)
        check_against_reference(h, index, gx.ravel(), gy.ravel())

    def test_buckets_with_more_than_62_candidates_answer_the_same(self) -> None:
        """Very coarse buckets (many candidates each) take the wide path and agree."""
        h = build_city(CitySpec("w", grids=300, districts=1, streets=3, communities=5), seed=2)
        index = RoutingIndex.build(h, buckets_per_grid=0.01)
        assert index.stats()["mixed_buckets"] >= 1
        rng = np.random.default_rng(3)
        x0, y0, x1, y1 = shapely.total_bounds(h.grid_polygons())
        xs, ys = rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)
        check_against_reference(h, index, xs, ys)

    def test_nan_or_infinite_point_is_refused(self) -> None:
        """A single non-finite point is a CoordinateError naming it."""
        index = RoutingIndex.build(squares())
        with pytest.raises(CoordinateError, match="nan"):
            index.locate(float("nan"), 0.5)
        with pytest.raises(CoordinateError, match="inf"):
            index.locate(0.5, float("inf"))

    def test_batch_with_a_bad_row_raises_naming_it(self) -> None:
        """Without a mask, a batch with a NaN row raises and names the row."""
        index = RoutingIndex.build(squares())
        with pytest.raises(CoordinateError, match="row 1"):
            index.locate_many([0.5, np.nan, 1.5], [0.5, 0.5, 0.5])

    def test_masked_batch_does_not_let_one_bad_row_poison_the_others(self) -> None:
        """With the mask, bad rows are -1 and flagged; the others are answered."""
        index = RoutingIndex.build(squares())
        pos, bad = index.locate_many_masked([0.5, np.nan, 1.5, np.inf, 9.0], [0.5, 0.5, 1.5, 0, 9])
        assert pos.tolist() == [0, -1, 3, -1, -1]
        assert bad.tolist() == [False, True, False, True, False]

    def test_unequal_lengths_are_refused(self) -> None:
        """xs and ys of different lengths: a CoordinateError naming both lengths."""
        index = RoutingIndex.build(squares())
        with pytest.raises(CoordinateError, match="3 values and ys has 2"):
            index.locate_many([1, 2, 3], [1, 2])
        with pytest.raises(CoordinateError, match="1-d"):
            index.locate_many([[1.0]], [[1.0]])

    def test_empty_batch_gives_an_empty_answer(self) -> None:
        """No points, no positions."""
        index = RoutingIndex.build(squares())
        assert index.locate_many([], []).tolist() == []

    def test_mapped_single_lookup_reads_the_caller_answers(self) -> None:
        """`single_mapped` gives answers[position], answers[-1] outside; the length is checked."""
        h = squares()
        grid = BucketGrid(h.grid_polygons())
        names = [f"n{i}" for i in range(len(h.grids))]
        look = grid.single_mapped([*names, "outside"])
        assert look(1.5, 0.5) == names[grid.single()(1.5, 0.5)]
        assert look(99.0, 99.0) == "outside"
        with pytest.raises(RoutingError, match="expected"):
            grid.single_mapped(names)

    def test_grid_without_polygon_is_refused(self) -> None:
        """The index needs a polygon for every grid, and names the one missing."""
        h = tiling([shapely.box(0, 0, 1, 1), None])
        with pytest.raises(RoutingError, match="position 1 has no polygon"):
            RoutingIndex.build(h)

    def test_unknown_grid_code_is_refused(self) -> None:
        """Asking for a code the index does not hold raises UnknownItemError naming it."""
        index = RoutingIndex.build(squares())
        with pytest.raises(UnknownItemError, match="nope"):
            index.position("nope")
        with pytest.raises(UnknownItemError, match="nope"):
            index.neighbours("nope")

    def test_old_index_keeps_answering_after_a_new_version(self) -> None:
        """Rebuilding for a merged version leaves the old index untouched."""
        h1 = squares()
        old = RoutingIndex.build(h1)
        merged = Area(g(5), "g5", "grid", COMMUNITY, polygon=shapely.box(0, 0, 2, 1))
        h2 = h1.replace_areas([g(1), g(2)], [merged], retire=[g(1), g(2)])
        new = RoutingIndex.build(h2)
        assert old.locate(0.5, 0.5) == g(1) and old.version == 1
        assert new.locate(0.5, 0.5) == g(5) and new.version == 2


class TestNearby:
    def test_nearest_grid_of_an_outside_point(self) -> None:
        """Outside: the nearest grid and its distance; inside: the grid and 0."""
        index = RoutingIndex.build(squares())
        assert index.locate_nearest(3.0, 0.5) == (g(2), 1.0)
        assert index.locate_nearest(0.5, 0.5) == (g(1), 0.0)
        with pytest.raises(CoordinateError):
            index.locate_nearest(float("nan"), 0)

    def test_neighbours_share_an_edge_not_a_corner(self) -> None:
        """g1's neighbours are g2 and g3, not g4 (corner only)."""
        index = RoutingIndex.build(squares())
        assert index.neighbours(g(1)) == (g(2), g(3))

    def test_grids_within_a_distance_nearest_first(self) -> None:
        """Grids within a distance of a point, nearest first."""
        index = RoutingIndex.build(squares())
        assert index.grids_within(0.5, 0.5, 0.6) == (g(1), g(2), g(3))
        assert index.grids_within(0.5, 0.5, 0.0) == (g(1),)
        assert index.grids_within(10.0, 10.0, 1.0) == ()
        with pytest.raises(GridcoreError, match="distance"):
            index.grids_within(0.5, 0.5, -1.0)


class TestAddresses:
    def test_address_ids_from_a_mapping_and_from_two_arrays(self) -> None:
        """Single and batched lookups; unknown ids are flagged, not guessed."""
        h = squares()
        by_map = RoutingIndex.build(h, addresses={"A1": g(1), "B7": g(4)})
        assert by_map.locate_address("B7") == g(4)
        pos, unknown = by_map.locate_addresses(["A1", "ZZ", "B7"])
        assert pos.tolist() == [0, -1, 3] and unknown.tolist() == [False, True, False]
        by_arrays = RoutingIndex.build(h, addresses=([101, 7, 55], [g(2), g(3), g(1)]))
        pos, unknown = by_arrays.locate_addresses(np.array([55, 7, 8]))
        assert pos.tolist() == [0, 2, -1] and unknown.tolist() == [False, False, True]

    def test_unknown_address_and_unknown_grid_are_named(self) -> None:
        """An unknown id, or a table naming a grid that does not exist, is a typed error."""
        h = squares()
        index = RoutingIndex.build(h, addresses={"A1": g(1)})
        with pytest.raises(UnknownItemError, match="'Q9'"):
            index.locate_address("Q9")
        with pytest.raises(UnknownItemError, match="42050100100199"):
            RoutingIndex.build(h, addresses={"A1": "42050100100199"})
        with pytest.raises(RoutingError, match="equal lengths"):
            RoutingIndex.build(h, addresses=(["a", "b"], [g(1)]))
        assert index.addresses.grid("A1") == g(1)
        with pytest.raises(RoutingError, match="without an address table"):
            RoutingIndex.build(h).locate_address("A1")


def rule(area: str, category: str, owner: str, name: str = "") -> OwnershipRule:
    return OwnershipRule(AreaCode(area), category, owner, name)


class TestOwners:
    def test_most_specific_category_wins_then_most_specific_level(self) -> None:
        """A city rule on a 小类 beats a grid rule on its 大类; deeper areas beat shallower."""
        h = squares()
        rules = [
            rule("4205", "C01", "city_dept"),
            rule(COMMUNITY, "C0101", "community_dept"),
            rule(g(1), "C01", "grid1_dept"),
            rule("4205", "C0102", "city_lamps"),
        ]
        index = RoutingIndex.build(h, rules=rules, taxonomy=default_taxonomy())
        assert index.owner(g(1), "C0101") == "community_dept"
        assert index.owner(g(1), "C0103") == "grid1_dept"
        assert index.owner(g(1), "C0102") == "city_lamps"
        assert index.owner(g(2), "C0103") == "city_dept"
        assert index.owner(g(2), "C01") == "city_dept"
        assert index.owner(g(2), "C02") is None
        assert index.owners.rule(g(1), "C0103") == rules[2]

    def test_batched_owners_agree_with_single_lookups(self) -> None:
        """owners_many gives the same owners as owner(), -1 where nobody owns."""
        h = squares()
        tax = default_taxonomy()
        rules = [rule("4205", "C01", "a"), rule(g(3), "C0101", "b"), rule(COMMUNITY, "E01", "c")]
        table = OwnershipRules(rules).resolve(h, tax)
        rng = np.random.default_rng(0)
        gp = rng.integers(0, 4, 500)
        cp = rng.integers(0, len(table.category_codes), 500)
        got = table.owners_many(gp, cp)
        for a, b, k in zip(gp.tolist(), cp.tolist(), got.tolist(), strict=True):
            want = table.owner(table.grid_codes[a], table.category_codes[b])
            assert (None if k < 0 else table.owners[k]) == want
        with pytest.raises(RoutingError, match="same shape"):
            table.owners_many([0, 1], [0])
        with pytest.raises(RoutingError, match="grid positions"):
            table.owners_many([9], [0])

    def test_unknown_category_or_area_in_a_rule_is_named(self) -> None:
        """A rule naming an area or category that does not exist: RuleTargetError naming it."""
        h, tax = squares(), default_taxonomy()
        with pytest.raises(RuleTargetError, match="area '4299'"):
            OwnershipRules([rule("4299", "C01", "x")]).resolve(h, tax)
        with pytest.raises(RuleTargetError, match="category 'Z99'"):
            OwnershipRules([rule("4205", "Z99", "x")]).resolve(h, tax)

    def test_unknown_category_in_a_lookup_is_named(self) -> None:
        """owner() with an unknown category or grid raises UnknownItemError naming it."""
        index = RoutingIndex.build(squares(), rules=[rule("4205", "C01", "a")])
        with pytest.raises(UnknownItemError, match="Z99"):
            index.owner(g(1), "Z99")
        with pytest.raises(UnknownItemError, match="nope"):
            index.owner("nope", "C01")

    def test_two_owners_at_the_same_precedence_are_refused(self) -> None:
        """都管都不管: two rules on one area and category with different owners."""
        rules = [rule(COMMUNITY, "C01", "a", "r1"), rule(COMMUNITY, "C01", "b", "r2")]
        with pytest.raises(CoverageError, match="r1"):
            RoutingIndex.build(squares(), rules=rules)
        index = RoutingIndex.build(squares(), rules=rules, allow_conflicts=True)
        assert index.owner(g(1), "C0101") == "a"

    def test_index_without_rules_says_so(self) -> None:
        """Asking owners of an index built without rules is a RoutingError."""
        with pytest.raises(RoutingError, match="without ownership rules"):
            RoutingIndex.build(squares()).owner(g(1), "C01")


class TestCoverage:
    def test_gaps_are_reported_at_the_largest_uncovered_area(self) -> None:
        """A leaf owned in two grids only: the other grids are listed, not the whole city."""
        h, tax = squares(), default_taxonomy()
        rules = [rule("4205", c.code, "d") for c in tax.roots() if c.code != "C01"]
        rules += [rule(g(1), "C01", "d1"), rule(g(2), "C0101", "d2")]
        report = coverage_report(rules, h, tax)
        assert not report.conflicts
        leaf_gaps = {(x.area, x.grids) for x in report.gaps if x.category == "C0101"}
        assert leaf_gaps == {(g(3), 1), (g(4), 1)}
        other = {(x.area, x.level, x.grids) for x in report.gaps if x.category == "C0102"}
        assert other == {(g(2), "grid", 1), (g(3), "grid", 1), (g(4), "grid", 1)}
        assert not report.ok
        with pytest.raises(CoverageError, match="no owner"):
            report.raise_if_not_ok()

    def test_a_whole_city_without_rules_is_one_gap_per_leaf(self) -> None:
        """No rule at all: one gap per leaf category, at the city."""
        h, tax = squares(), default_taxonomy()
        report = coverage_report([], h, tax)
        assert len(report.gaps) == len(tax.leaves())
        assert {x.area for x in report.gaps} == {"4205"}
        assert report.uncovered_cells == report.cells == 4 * len(tax.leaves())

    def test_conflicts_name_the_rules_involved(self) -> None:
        """Two owners for one (area, category): listed with both rules and the cells decided."""
        h, tax = squares(), default_taxonomy()
        rules = [rule("4205", c.code, "d") for c in tax.roots()]
        rules += [rule(COMMUNITY, "C0101", "net_cafe_licensed", "licensed")]
        rules += [rule(COMMUNITY, "C0101", "net_cafe_unlicensed", "unlicensed")]
        report = coverage_report(rules, h, tax)
        assert not report.gaps
        (c,) = report.conflicts
        assert c.area == COMMUNITY and c.category == "C0101"
        assert c.rules == ("licensed", "unlicensed")
        assert c.owners == ("net_cafe_licensed", "net_cafe_unlicensed")
        assert c.cells == 4
        with pytest.raises(CoverageError, match="licensed"):
            report.raise_if_not_ok()

    def test_full_coverage_is_ok(self) -> None:
        """Every root category owned at the city: no gap, no conflict."""
        h, tax = squares(), default_taxonomy()
        report = coverage_report([rule("4205", c.code, "d") for c in tax.roots()], h, tax)
        assert report.ok
        report.raise_if_not_ok()

    def test_coverage_refuses_unknown_targets(self) -> None:
        """A rule on an unknown area is named before anything is reported."""
        with pytest.raises(RuleTargetError, match="'4299'"):
            coverage_report([rule("4299", "C01", "x")], squares(), default_taxonomy())


class TestPeople:
    def test_least_loaded_breaks_ties_by_smallest_id(self) -> None:
        """Equal loads go to the smallest person id, whatever the pool order."""
        pool = [PersonId("P3"), PersonId("P1"), PersonId("P2")]
        load = {PersonId("P1"): 2.0, PersonId("P2"): 1.0, PersonId("P3"): 1.0}
        assert least_loaded(pool, load) == "P2"
        assert least_loaded(reversed(pool), load) == "P2"
        assert least_loaded(pool, {}) == "P1"
        assert least_loaded(pool, load, available={PersonId("P1"), PersonId("P3")}) == "P3"

    def test_least_loaded_of_nobody_available_is_refused(self) -> None:
        """An empty pool, or nobody available, is a RoutingError."""
        with pytest.raises(RoutingError, match="nobody"):
            least_loaded([PersonId("P1")], {}, available=set())


@attrs.frozen
class _Slot:
    person: PersonId | None


@attrs.frozen
class _Answer:
    direct: _Slot
    fell_back_to: AreaCode | None


class _FakePeople:
    """Grid g1's post is vacant and falls back to the community's holder."""

    def responsible(self, grid: str, duty: str, at: datetime) -> _Answer:
        if grid == g(1):
            return _Answer(_Slot(PersonId("C-HEAD")), COMMUNITY)
        return _Answer(_Slot(PersonId(f"W-{grid[-2:]}-{duty}")), None)

    def direct(self, grid: str, duty: str, at: datetime) -> tuple[PersonId | None, AreaCode | None]:
        r = self.responsible(grid, duty, at)
        return r.direct.person, r.fell_back_to


class TestRoute:
    def test_route_gives_grid_owner_and_person(self) -> None:
        """One call: the grid, the category's owner there and the person to act."""
        index = RoutingIndex.build(
            squares(), rules=[rule("4205", "C01", "city_dept")], people=_FakePeople(), duty="x"
        )
        r = index.route(1.5, 0.5, "C0101", NOW)
        assert (r.grid, r.category, r.owner, r.person, r.fell_back_to) == (
            g(2), "C0101", "city_dept", "W-02-x", None
        )  # fmt: skip
        r = index.route(0.5, 0.5, "C0201", NOW)
        assert (r.owner, r.person, r.fell_back_to) == (None, "C-HEAD", COMMUNITY)

    def test_route_of_an_outside_point_or_unknown_category_is_refused(self) -> None:
        """Outside every grid: PointOutsideError; unknown category: UnknownItemError."""
        index = RoutingIndex.build(squares(), rules=[rule("4205", "C01", "d")])
        with pytest.raises(PointOutsideError, match="outside"):
            index.route(9.0, 9.0, "C0101", NOW)
        with pytest.raises(UnknownItemError, match="Z1"):
            index.route(0.5, 0.5, "Z1", NOW)
        with pytest.raises(CoordinateError):
            index.route(float("nan"), 0.5, "C0101", NOW)

    def test_route_with_the_real_staffing_index(self) -> None:
        """The staffing ResponsibilityIndex plugs in as the people source."""
        staffing = pytest.importorskip("gridcore.staffing")
        h = build_city("shuanghu", seed=1)
        roster = staffing.staff_city(h, "two_per_grid", 1, NOW - timedelta(days=30))
        people = staffing.ResponsibilityIndex(h, roster)
        duty = "city_management"
        index = RoutingIndex.build(h, people=people, duty=duty)
        x, y = shapely.get_coordinates(shapely.point_on_surface(h.grid_polygons()[3]))[0]
        r = index.route(float(x), float(y), "C0101", NOW)
        assert r.grid == h.grids[3]
        assert r.person == people.responsible(h.grids[3], duty, NOW).direct.person
        assert r.person is not None

    def test_route_agrees_with_staffing_across_instants_zones_and_vacancies(self) -> None:
        """The cached instant never leaks: every instant, zone and vacancy answers as staffing."""
        staffing = pytest.importorskip("gridcore.staffing")
        h = build_city("shuanghu", seed=1)
        start = NOW - timedelta(days=30)
        full = staffing.staff_city(h, "full_duty", 3, start)
        # every third grid post ends a week before NOW; its grid falls back upwards
        grids = set(h.grids[::3])
        ended = [
            attrs.evolve(a, end=NOW - timedelta(days=7)) if a.area in grids else a
            for a in full.assignments
        ]
        # one community holds a full-duty post too: half the vacancies fall back to it
        community = h.parent(h.grids[0])
        boss = staffing.Person(PersonId("BOSS"), "boss", capacity=1)
        post = staffing.Assignment(boss.id, "full_duty_worker", community, start)
        roster = staffing.Roster((*full.people, boss), [*ended, post], policy=full.policy)
        people = staffing.ResponsibilityIndex(h, roster)
        duty = "city_management"
        index = RoutingIndex.build(h, people=people, duty=duty)
        pts = shapely.get_coordinates(shapely.point_on_surface(h.grid_polygons()))
        utc = ZoneInfo("UTC")
        instants = [NOW, NOW, NOW.astimezone(utc), start - timedelta(days=1), NOW, start]
        fell = 0
        for at in instants:
            for i, (x, y) in enumerate(pts.tolist()):
                r = index.route(x, y, "C0101", at)
                want = people.responsible(h.grids[i], duty, at)
                assert (r.person, r.fell_back_to) == (want.direct.person, want.fell_back_to)
                assert people.direct(h.grids[i], duty, at.timestamp()) == (
                    r.person, r.fell_back_to
                )  # fmt: skip
                fell += r.fell_back_to is not None
        assert fell > 0

    def test_route_at_a_naive_instant_is_refused(self) -> None:
        """A naive datetime is refused by staffing, before or after a cached instant."""
        staffing = pytest.importorskip("gridcore.staffing")
        h = build_city("shuanghu", seed=1)
        roster = staffing.staff_city(h, "two_per_grid", 1, NOW - timedelta(days=30))
        index = RoutingIndex.build(h, people=staffing.ResponsibilityIndex(h, roster))
        x, y = shapely.get_coordinates(shapely.point_on_surface(h.grid_polygons()[0]))[0]
        index.route(float(x), float(y), "C0101", NOW)
        with pytest.raises(GridcoreError, match="timezone-aware"):
            index.route(float(x), float(y), "C0101", NOW.replace(tzinfo=None))

    def test_route_is_an_immutable_value(self) -> None:
        """A Route compares by value and refuses changes."""
        index = RoutingIndex.build(squares(), rules=[rule("4205", "C01", "d")])
        r = index.route(1.5, 0.5, "C0101", NOW)
        assert r == index.route(1.5, 0.5, "C0101", NOW)
        assert isinstance(r, Route)
        with pytest.raises(AttributeError):
            r.owner = "x"  # type: ignore[misc]


def test_index_agrees_with_reference_on_a_million_points_and_every_vertex() -> None:
    """1M random points plus every vertex and points on every edge: index == reference."""
    h = build_city(CitySpec("m", grids=300, districts=2, streets=6, communities=30), seed=11)
    polys = h.grid_polygons()
    index = RoutingIndex.build(h)
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    xs = rng.uniform(x0 - 5, x1 + 5, 1_000_000)
    ys = rng.uniform(y0 - 5, y1 + 5, 1_000_000)
    got = index.locate_many(xs, ys)
    ref, count = brute_force_locate(polys, xs, ys)
    np.testing.assert_array_equal(got, ref)
    assert count.max() == 1
    # shapely agrees away from boundaries (random points are never exactly on one)
    tree = shapely.STRtree(polys)
    pi, gi = tree.query(shapely.points(xs, ys), predicate="intersects")
    sh = np.full(len(xs), -1)
    sh[pi] = gi
    np.testing.assert_array_equal(got, sh)
    # points exactly on vertices, on axis-aligned edges (T-junctions) and near-on slanted ones
    coords = shapely.get_coordinates(polys)
    seg = np.stack([coords[:-1], coords[1:]], axis=1)
    mids = seg.mean(axis=1)
    quarter = seg[:, 0] + 0.25 * (seg[:, 1] - seg[:, 0])
    bx = np.concatenate([coords[:, 0], mids[:, 0], quarter[:, 0]])
    by = np.concatenate([coords[:, 1], mids[:, 1], quarter[:, 1]])
    got = index.locate_many(bx, by)
    half_open, count = brute_force_locate(polys, bx, by)
    ref, dist = reference_locate(polys, bx, by)
    np.testing.assert_array_equal(got, ref)
    single = [index.locate_position(a, b) for a, b in zip(bx.tolist(), by.tolist(), strict=True)]
    np.testing.assert_array_equal(single, ref)
    # the half-open rule gives one grid to every boundary point but the right and top border
    outer = (bx == x1) | (by == y1)
    assert (count[~outer] == 1).all()
    assert (count[outer] == 0).all()
    # ... and those belong to the grid whose border they are, unsnapped
    assert (ref >= 0).all() and (dist == 0).all()
    np.testing.assert_array_equal(ref[~outer], half_open[~outer])
