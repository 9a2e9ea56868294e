"""Reports on and near the territory's border: border points, snapping, typed refusals."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely

from gridcore.errors import ConfigError, CoordinateError, GridcoreError
from gridcore.hierarchy import Area, Hierarchy
from gridcore.ids import AreaCode
from gridcore.routing import Location, PointOutsideError, RoutingIndex, reference_locate

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMMUNITY = AreaCode("420501001001")


def tiling(polygons: list[shapely.Polygon]) -> Hierarchy:
    """City > district > street > one community > one grid per polygon."""
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


def two_squares() -> Hierarchy:
    """g1 = [0,1]x[0,1], g2 = [1,2]x[0,1]: the territory is [0,2]x[0,1]."""
    return tiling([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])


def slanted() -> Hierarchy:
    """Two triangles making a square rotated by 45 degrees (every outer edge slanted)."""
    return tiling(
        [
            shapely.Polygon([(0, -2), (2, 0), (0, 2)]),
            shapely.Polygon([(0, -2), (0, 2), (-2, 0)]),
        ]
    )


class TestTheBorderBelongsToItsGrid:
    @pytest.mark.parametrize(
        ("x", "y", "grid"),
        [
            (2.0, 0.5, 2),  # right border
            (0.5, 1.0, 1),  # top border
            (1.5, 1.0, 2),
            (1.0, 1.0, 1),  # top border at the vertex of two grids: the lower position
            (2.0, 1.0, 2),  # top-right corner
            (2.0, 0.0, 2),  # bottom-right corner
            (0.0, 1.0, 1),  # top-left corner
        ],
    )
    def test_a_point_on_the_right_or_top_border_goes_to_its_grid_unsnapped(
        self, x: float, y: float, grid: int
    ) -> None:
        """With no snap distance at all, the border is inside: distance 0, not snapped."""
        index = RoutingIndex.build(two_squares())
        assert index.snap == 0.0
        assert index.locate(x, y) == g(grid)
        loc = index.locate_detail(x, y)
        assert loc == Location(g(grid), grid - 1, 0.0, g(grid))
        assert not loc.snapped
        assert index.locate_many([x], [y]).tolist() == [grid - 1]
        assert index.route(x, y, "C0101", NOW).snapped_by == 0.0

    def test_points_on_slanted_border_edges_belong_to_their_grid(self) -> None:
        """Midpoints and quarter points of slanted outer edges are on the border."""
        h = slanted()
        index = RoutingIndex.build(h)
        xs = np.array([1.0, 0.5, 1.5, -1.0, -0.5, -1.5, 2.0, -2.0, 0.0, 0.0])
        ys = np.array([1.0, 1.5, 0.5, 1.0, -1.5, 0.5, 0.0, 0.0, 2.0, -2.0])
        got = index.locate_many(xs, ys)
        assert (got >= 0).all()
        single = [
            index.locate_position(a, b) for a, b in zip(xs.tolist(), ys.tolist(), strict=True)
        ]
        assert single == got.tolist()
        ref, dist = reference_locate(h.grid_polygons(), xs, ys)
        assert got.tolist() == ref.tolist() and (dist == 0).all()

    def test_a_point_in_a_hole_on_its_edge_goes_to_the_grid_around_it(self) -> None:
        """The border of a hole in the territory is a border too."""
        ring = shapely.Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
        index = RoutingIndex.build(tiling([ring]))
        assert index.locate(2.0, 1.5) == g(1)  # right edge of the hole: outside by half-open
        assert index.locate(1.5, 1.5) is None
        assert index.locate(1.5, 1.5, snap=0.5) == g(1)


class TestSnap:
    def test_a_point_within_the_snap_distance_goes_to_the_nearest_grid(self) -> None:
        """0.25 outside with snap 0.5: the nearest grid, snapped by 0.25."""
        index = RoutingIndex.build(two_squares())
        assert index.locate(2.25, 0.5) is None
        assert index.locate(2.25, 0.5, snap=0.5) == g(2)
        loc = index.locate_detail(2.25, 0.5, snap=0.5)
        assert loc.grid == g(2) and loc.snapped and loc.distance == pytest.approx(0.25)
        r = index.route(2.25, 0.5, "C0101", NOW, snap=0.5)
        assert r.grid == g(2) and r.snapped_by == pytest.approx(0.25)
        assert index.locate_position(-0.1, 0.5, snap=0.5) == 0

    def test_the_index_default_snap_applies_when_none_is_given(self) -> None:
        """`RoutingIndex.build(..., snap=d)` sets the default of every call."""
        index = RoutingIndex.build(two_squares(), snap=0.5)
        assert index.snap == 0.5
        assert index.locate(2.25, 0.5) == g(2)
        assert index.locate_position(2.25, 0.5) == 1
        assert index.locate_many([2.25, 0.5, 9.0], [0.5, 1.25, 9.0]).tolist() == [1, 0, -1]
        assert index.route(2.25, 0.5, "C0101", NOW).snapped_by == pytest.approx(0.25)
        assert index.locate(2.25, 0.5, snap=0.0) is None

    def test_beyond_the_snap_distance_the_result_names_the_distance(self) -> None:
        """Beyond: locate gives None, the detail the distance, route a typed error."""
        index = RoutingIndex.build(two_squares(), snap=0.5)
        loc = index.locate_detail(3.0, 0.5)
        assert loc.grid is None and loc.position == -1 and not loc.snapped
        assert loc.distance == 1.0 and loc.nearest == g(2)
        with pytest.raises(PointOutsideError, match=r"1 from the nearest grid .*snap distance 0.5"):
            index.route(3.0, 0.5, "C0101", NOW)
        try:
            index.route(3.0, 0.5, "C0101", NOW)
        except PointOutsideError as exc:
            assert exc.distance == 1.0 and exc.nearest == g(2)
        detail = index.locate_many_detail([3.0, 2.25, 0.5], [0.5, 0.5, 0.5])
        assert detail.positions.tolist() == [-1, 1, 0]
        assert detail.distances.tolist() == [1.0, 0.25, 0.0]
        assert detail.nearest.tolist() == [1, 1, 0]
        assert detail.snapped.tolist() == [False, True, False]

    def test_ties_go_to_the_lowest_position(self) -> None:
        """A point as near to two grids goes to the one listed first."""
        index = RoutingIndex.build(two_squares())
        assert index.locate(1.0, 1.5, snap=1.0) == g(1)
        assert index.locate_many([1.0], [1.5], snap=1.0).tolist() == [0]

    @pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, True, "1"])
    def test_a_snap_distance_that_is_not_a_distance_is_refused(self, bad: object) -> None:
        """Negative, non-finite, boolean or text snap distances: ConfigError naming them."""
        with pytest.raises(ConfigError, match="snap"):
            RoutingIndex.build(two_squares(), snap=bad)  # type: ignore[arg-type]
        index = RoutingIndex.build(two_squares())
        with pytest.raises(ConfigError, match="snap"):
            index.locate_many([3.0], [0.5], snap=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="snap"):
            index.route(3.0, 0.5, "C0101", NOW, snap=bad)  # type: ignore[arg-type]


class TestCoordinatesMustBeNumbers:
    @pytest.mark.parametrize(("x", "y"), [("12", 0.5), (True, False), (0.5, None), (b"1", 1.0)])
    def test_single_calls_refuse_non_numbers_naming_them(self, x: object, y: object) -> None:
        """Strings, booleans and None: a CoordinateError naming the value, never a crash."""
        index = RoutingIndex.build(two_squares())
        for call in (index.locate, index.locate_position, index.locate_detail):
            with pytest.raises(CoordinateError, match=repr(x).replace("(", r"\(")):
                call(x, y)  # type: ignore[arg-type]
        with pytest.raises(CoordinateError):
            index.route(x, y, "C0101", NOW)  # type: ignore[arg-type]

    def test_integers_and_numpy_numbers_are_coordinates(self) -> None:
        """Ints and numpy scalars are numbers: accepted as such."""
        index = RoutingIndex.build(two_squares())
        assert index.locate(1, 0) == g(2)
        assert index.locate(np.float32(0.5), np.int64(0)) == g(1)

    @pytest.mark.parametrize(
        ("xs", "ys"), [(["12"], [0.5]), ([True], [False]), (np.array([None]), [1.0])]
    )
    def test_batches_refuse_non_numeric_arrays(self, xs: object, ys: object) -> None:
        """A batch of strings or booleans is refused, naming the dtype and first value."""
        index = RoutingIndex.build(two_squares())
        with pytest.raises(CoordinateError, match="expected numbers"):
            index.locate_many(xs, ys)
        with pytest.raises(GridcoreError):
            index.locate_many_masked(xs, ys)
