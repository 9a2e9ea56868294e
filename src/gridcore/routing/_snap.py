"""Points the half-open rule leaves outside: the territory's border, and snapping.

The bucket index answers every point that a grid holds by the half-open rule
(`gridcore.routing._locate`). The points it leaves outside come here, and only
they (points inside pay nothing):

- a point within `tolerance` of a grid (GEOS distance; `tolerance` is a few
  ulps of the coordinates, so a point on a slanted border edge counts as on it)
  lies on the territory's border, or on the border of a hole: it belongs to the
  nearest grid, at distance 0, not snapped;
- a point farther than that but within the snap distance goes to the nearest
  grid, and says by how much it was moved;
- beyond the snap distance, no grid; the distance to the nearest grid is known
  when asked for.

Ties (a vertex shared by two grids on the border, a point equidistant from two
grids) go to the lowest position. The single and the batched path make the
same GEOS calls on the same numbers (an STRtree's `query_nearest` with all
equidistant matches), so they agree on every point; `reference_locate` does the
same by measuring every grid, and is the reference of the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray

from gridcore.errors import ConfigError
from gridcore.ids import AreaCode
from gridcore.routing._locate import BucketGrid, _check_xy, brute_force_locate

__all__ = ["Location", "Outside", "border_tolerance", "check_snap", "reference_locate"]

FloatArray = NDArray[np.float64]
I32Array = NDArray[np.int32]

_EPS = float(np.finfo(np.float64).eps)


class Location(NamedTuple):
    """Where a point went: its grid (None beyond the snap distance), position and distance.

    `distance` is 0 for a point a grid holds (inside or on the territory's
    border), how far it was moved when snapped, and its distance to the
    nearest grid when beyond the snap distance (`math.inf` when not measured).
    """

    grid: AreaCode | None
    position: int
    distance: float
    nearest: AreaCode | None = None
    """The nearest grid (the grid itself when held or snapped); None when not measured."""

    @property
    def snapped(self) -> bool:
        """True when the point lay outside the territory and was moved to `grid`."""
        return self.position >= 0 and self.distance > 0.0


def border_tolerance(bounds: Sequence[float]) -> float:
    """How near a grid a point lies on its border: 16 ulps of the territory's largest coordinate."""
    return 16 * _EPS * max(max(abs(float(b)) for b in bounds), 1e-300)


def check_snap(snap: object, what: str = "snap") -> float:
    """A snap distance as a float; ConfigError unless a finite number >= 0 (not a bool)."""
    if isinstance(snap, bool) or not isinstance(snap, int | float | np.integer | np.floating):
        raise ConfigError(f"{what} = {snap!r}: expected a distance (a number >= 0)")
    value = float(snap)
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{what} = {snap!r}: expected a finite distance >= 0")
    return value


class Outside:
    """The slow path of the index: the border and snapping, for points no grid holds."""

    __slots__ = ("_bounds", "_buckets", "_far_cells", "_polygons", "_tree", "tolerance")

    def __init__(self, buckets: BucketGrid, polygons: NDArray[np.object_]) -> None:
        self._buckets = buckets
        self._polygons = polygons
        self._tree: Any = None
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(polygons))
        self._bounds = (x0, y0, x1, y1)
        self.tolerance = border_tolerance(self._bounds)
        # a point in a bucket wholly outside is farther than `pad` from every grid
        self._far_cells = buckets.pad / 2

    @property
    def tree(self) -> Any:
        """The STRtree over the grid polygons (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self._polygons)
        return self._tree

    def _far(self, x: float, y: float, reach: float) -> bool:
        x0, y0, x1, y1 = self._bounds
        if x < x0 - reach or x > x1 + reach or y < y0 - reach or y > y1 + reach:
            return True
        return reach <= self._far_cells and self._buckets.outside_cell(x, y)

    def one(self, x: float, y: float, snap: float, measure: bool) -> tuple[int, float, int]:
        """(position or -1, distance, nearest position or -1) of a finite point no grid holds.

        Without `measure`, points provably beyond `snap` are not measured
        (distance `math.inf`, nearest -1).
        """
        reach = max(snap, self.tolerance)
        if not measure and self._far(x, y, reach):
            return -1, math.inf, -1
        idx, dist = self.tree.query_nearest(
            shapely.Point(x, y),
            max_distance=None if measure else reach,
            return_distance=True,
            all_matches=True,
        )
        if len(idx) == 0:
            return -1, math.inf, -1
        d = float(dist[0])  # all matches are equidistant
        p = int(idx.min())
        return _decide(p, d, snap, self.tolerance)

    def many(
        self, x: FloatArray, y: FloatArray, snap: float, measure: bool
    ) -> tuple[I32Array, FloatArray, I32Array]:
        """`one` for arrays of finite points: positions, distances and nearest positions."""
        n = len(x)
        pos = np.full(n, -1, dtype=np.int32)
        dist = np.full(n, math.inf, dtype=np.float64)
        near = np.full(n, -1, dtype=np.int32)
        if n == 0:
            return pos, dist, near
        reach = max(snap, self.tolerance)
        ask = np.arange(n)
        if not measure:
            x0, y0, x1, y1 = self._bounds
            far = (x < x0 - reach) | (x > x1 + reach) | (y < y0 - reach) | (y > y1 + reach)
            if reach <= self._far_cells:
                far |= self._buckets.outside_cells(x, y)
            ask = np.flatnonzero(~far)
            if len(ask) == 0:
                return pos, dist, near
        (qi, gi), d = self.tree.query_nearest(
            shapely.points(x[ask], y[ask]),
            max_distance=None if measure else reach,
            return_distance=True,
            all_matches=True,
        )
        # the lowest position among each point's equidistant matches
        order = np.lexsort((gi, qi))
        qi, gi, d = qi[order], gi[order], d[order]
        first = np.ones(len(qi), dtype=np.bool_)
        first[1:] = qi[1:] != qi[:-1]
        rows = ask[qi[first]]
        g = gi[first].astype(np.int32)
        dd = d[first]
        on_border = dd <= self.tolerance
        held = on_border | (dd <= snap)
        near[rows] = g
        pos[rows] = np.where(held, g, -1)
        dist[rows] = np.where(on_border, 0.0, dd)
        return pos, dist, near


def _decide(p: int, d: float, snap: float, tolerance: float) -> tuple[int, float, int]:
    if d <= tolerance:
        return p, 0.0, p
    if d <= snap:
        return p, d, p
    return -1, d, p


def reference_locate(
    polygons: Sequence[Any] | NDArray[np.object_], xs: Any, ys: Any, snap: float = 0.0
) -> tuple[NDArray[np.int64], FloatArray]:
    """The reference answer with the border and snapping: (position or -1, distance) per point.

    The half-open rule by `brute_force_locate`; for the points it leaves
    outside, the distance to every grid (lowest position among the nearest).
    """
    x, y = _check_xy(xs, ys)
    polys = np.asarray(polygons, dtype=object)
    pos, _ = brute_force_locate(polys, x, y)
    dist = np.zeros(len(x), dtype=np.float64)
    tol = border_tolerance(shapely.total_bounds(polys))
    for i in np.flatnonzero(pos < 0).tolist():
        d = shapely.distance(polys, shapely.Point(float(x[i]), float(y[i])))
        best = float(d.min())
        p = int(np.flatnonzero(d == best)[0])
        got, how_far, _ = _decide(p, best, snap, tol)
        pos[i] = got
        dist[i] = how_far
    return pos, dist
