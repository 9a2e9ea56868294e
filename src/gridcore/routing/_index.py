"""`RoutingIndex`: point -> grid, neighbours, addresses, owners and people, for one version."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray

from gridcore.categories import Taxonomy
from gridcore.crs import WGS84, Converter, CoordinateSystem, converter, local_metric
from gridcore.errors import ConfigError, CoordinateError, RoutingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, CategoryCode, PersonId
from gridcore.routing._addresses import AddressTable
from gridcore.routing._locate import BucketGrid, _check_xy, raise_first_bad
from gridcore.routing._owners import OwnershipRule, OwnershipRules, OwnerTable
from gridcore.routing._people import ResponsibleSource
from gridcore.routing._snap import Location, Outside, check_snap
from gridcore.staffing import ResponsibilityIndex

__all__ = ["Locations", "PointOutsideError", "Route", "RoutingIndex"]


class PointOutsideError(RoutingError, LookupError):
    """A point that no grid holds and that lies beyond the snap distance, where a grid is required.

    `distance` is its distance to the `nearest` grid (in the hierarchy's units).
    """

    def __init__(
        self,
        message: str,
        x: float | None = None,
        y: float | None = None,
        distance: float | None = None,
        nearest: AreaCode | None = None,
    ) -> None:
        self.x = x
        self.y = y
        self.distance = distance
        self.nearest = nearest
        super().__init__(message)


def _outside_error(x: float, y: float, distance: float, nearest: AreaCode, snap: float) -> Any:
    return PointOutsideError(
        f"point ({x!r}, {y!r}) lies outside every grid, {distance:.6g} from the nearest "
        f"grid {nearest!r}: beyond the snap distance {snap:g}",
        x=x,
        y=y,
        distance=distance,
        nearest=nearest,
    )


def _coordinate_error(x: object, y: object) -> CoordinateError:
    return CoordinateError(
        f"point ({x!r}, {y!r}): expected two numbers "
        f"(got {type(x).__name__} and {type(y).__name__}; booleans and strings are not coordinates)"
    )


def _check_number(x: object, y: object) -> None:
    """CoordinateError unless x and y are real numbers (not bools, not strings)."""
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise _coordinate_error(x, y)


class Locations(NamedTuple):
    """Where many points went: positions (-1 beyond the snap distance) and distances.

    `distances` is 0 for points a grid holds (inside or on the border), how far
    a snapped point was moved, and the distance to the nearest grid beyond the
    snap distance; `nearest` is the nearest grid's position for every point
    (-1 for rows with non-finite coordinates).
    """

    positions: NDArray[np.int32]
    distances: NDArray[np.float64]
    nearest: NDArray[np.int32]

    @property
    def snapped(self) -> NDArray[np.bool_]:
        """The mask of points moved onto a grid from outside the territory."""
        mask: NDArray[np.bool_] = (self.positions >= 0) & (self.distances > 0)
        return mask


class Route(NamedTuple):
    """Where a report goes: its grid, the owner of its category there, and the person to act.

    A named tuple rather than an attrs class: `route` builds one per report on the
    hot path, and a tuple is built in a third of the time. Immutable all the same.
    """

    grid: AreaCode
    category: CategoryCode
    owner: str | None
    """The department (or other owner) that the rules name; None when no rule covers it."""
    person: PersonId | None
    """The grid's responsible person for the duty; None when nobody answers or no roster."""
    fell_back_to: AreaCode | None = None
    """The ancestor whose holder answers because the grid's post is vacant."""
    snapped_by: float = 0.0
    """How far the point was moved onto `grid` from outside the territory (0 inside)."""


_new_tuple = tuple.__new__
_UNSET = (None, 0, 0.0)


def _make_route(
    locate: Any,
    outside: Outside,
    default_snap: float,
    codes: tuple[AreaCode, ...],
    owners: OwnerTable | None,
    people: ResponsibleSource | None,
    duty: str,
) -> Any:
    """A fast function (x, y, category, now, snap=None) -> Route reading plain lists and dicts.

    `locate` answers -1 for points no grid holds; only those go to `outside`
    (the border and snapping). Everything is bound once as closure variables; the person comes from
    `people.direct`, which `ResponsibilityIndex` also accepts as a POSIX timestamp:
    the last instant's timestamp is then cached (a simulation or a batch of reports
    asks many times at one instant, and `datetime.timestamp()` costs ~0.7 µs).
    """
    has_owners = owners is not None
    cat_get: Any = None
    row_off: list[int] = []
    flat: list[int] = []
    names: tuple[str, ...] = ()
    if owners is not None:
        cat_pos, row_off, flat, names = owners.lookup_parts()
        cat_get = cat_pos.get
    direct: Any = None if people is None else people.direct
    takes_ts = isinstance(people, ResponsibilityIndex)
    # (instant, fold, timestamp) of the last instant asked; one tuple, swapped atomically
    last: tuple[Any, int, float] = _UNSET

    def route(x: float, y: float, category: str, now: datetime, snap: float | None = None) -> Route:
        nonlocal last
        p: int = locate(x, y)
        moved = 0.0
        if p < 0:
            reach = default_snap if snap is None else snap
            p, moved, near = outside.one(x, y, reach, True)
            if p < 0:
                raise _outside_error(x, y, moved, codes[near], reach)
        grid = codes[p]
        owner: str | None = None
        if has_owners:
            c: int | None = cat_get(category)
            if c is None:
                raise UnknownItemError("category", category, "owner table")
            k = flat[row_off[p] + c]
            if k >= 0:
                owner = names[k]
        person: PersonId | None = None
        fell: AreaCode | None = None
        if direct is not None:
            at: datetime | float = now
            if takes_ts:
                seen = last
                # equal aware instants have equal timestamps, except in a repeated
                # (fold) hour of one zone, where == ignores the fold: compare it too
                if now == seen[0] and now.fold == seen[1]:
                    at = seen[2]
                elif now.utcoffset() is not None:  # a naive instant: staffing refuses it
                    at = now.timestamp()
                    last = (now, now.fold, at)
            person, fell = direct(grid, duty, at)
        r: Route = _new_tuple(Route, (grid, category, owner, person, fell, moved))
        return r

    return route


class RoutingIndex:
    """The routing index of one hierarchy version (immutable once built).

    Build with `RoutingIndex.build`; a new hierarchy version needs a new index,
    and the old index keeps answering for the old version.
    """

    __slots__ = (
        "_addresses",
        "_buckets",
        "_code_pos",
        "_codes",
        "_converters",
        "_duty",
        "_locate_code",
        "_outside",
        "_owners",
        "_people",
        "_polygons",
        "_pos",
        "_route",
        "_to_frame",
        "frame",
        "hierarchy",
        "snap",
    )

    hierarchy: Hierarchy
    _addresses: AddressTable | None
    _buckets: BucketGrid
    _code_pos: dict[str, int]
    _codes: tuple[AreaCode, ...]
    _duty: str
    _owners: OwnerTable | None
    _people: ResponsibleSource | None
    _locate_code: Any
    _pos: Any
    _route: Any
    _outside: Outside
    snap: float
    """The default snap distance of `locate`, `locate_many` and `route`, in `frame` units."""
    frame: CoordinateSystem
    """Where the index measures: the hierarchy's CRS when metric, else a local projection."""
    _to_frame: Converter | None
    _converters: dict[Any, Converter | None]
    _polygons: NDArray[np.object_]

    def __init__(self) -> None:  # pragma: no cover - use RoutingIndex.build
        raise TypeError("use RoutingIndex.build(hierarchy, ...)")

    @classmethod
    def build(
        cls,
        hierarchy: Hierarchy,
        *,
        rules: OwnershipRules | Sequence[OwnershipRule] | None = None,
        taxonomy: Taxonomy | None = None,
        people: ResponsibleSource | None = None,
        duty: str = "city_management",
        addresses: Mapping[Any, str] | tuple[Sequence[Any], Sequence[str]] | None = None,
        buckets_per_grid: float = 64.0,
        allow_conflicts: bool = False,
        snap: float = 0.0,
    ) -> RoutingIndex:
        """Build the index for `hierarchy` (every grid needs a polygon).

        `rules` (with `taxonomy`, default `categories.default_taxonomy()`) are
        resolved once into an owner table; `people` names the responsible person
        for `duty` (any duty or role the staffing policy knows); `addresses` maps
        address or building ids to grid codes. `snap` is the default snap
        distance (hierarchy units): a point outside the territory within it goes
        to the nearest grid; 0 gives only points on the border to their grid.
        A hierarchy in lon/lat (WGS84, GCJ-02, BD-09) is indexed in a local
        transverse Mercator (`frame`), so that snap distances and the distances
        answered are metres; points are converted on the way in.
        """
        self = object.__new__(cls)
        self.hierarchy = hierarchy
        self.snap = check_snap(snap)
        self._codes = hierarchy.grids
        self._code_pos = {str(c): i for i, c in enumerate(self._codes)}
        polygons = self._frame_polygons(hierarchy)
        self._buckets = BucketGrid(polygons, buckets_per_grid)
        self._outside = out = Outside(self._buckets, polygons)
        default = self.snap
        answers = (*self._codes, None)

        def miss_position(x: float, y: float) -> int:
            return out.one(x, y, default, False)[0]

        def miss_code(x: float, y: float) -> AreaCode | None:
            return answers[out.one(x, y, default, False)[0]]

        self._pos = self._buckets.single(miss_position)
        self._locate_code = self._buckets.single_mapped(answers, miss_code)
        self._owners = None
        if rules is not None:
            if taxonomy is None:
                from gridcore.categories import default_taxonomy

                taxonomy = default_taxonomy()
            rs = rules if isinstance(rules, OwnershipRules) else OwnershipRules(rules)
            self._owners = rs.resolve(hierarchy, taxonomy, allow_conflicts=allow_conflicts)
        self._people = people
        self._duty = duty
        self._addresses = None if addresses is None else AddressTable(self._codes, addresses)
        self._route = _make_route(
            self._buckets.single(), out, default, self._codes, self._owners, people, duty
        )
        return self

    def _frame_polygons(self, hierarchy: Hierarchy) -> NDArray[np.object_]:
        """The grid polygons in the frame (projected to metres when given in lon/lat)."""
        polygons = hierarchy.grid_polygons()
        self._converters = {}
        self._to_frame = None
        self.frame = hierarchy.crs
        if not hierarchy.crs.metric and len(polygons) and all(p is not None for p in polygons):
            x0, y0, x1, y1 = shapely.total_bounds(polygons)
            lon, lat = converter(hierarchy.crs, WGS84).point((x0 + x1) / 2, (y0 + y1) / 2)
            self.frame = local_metric(lon, lat)
            conv = self._to_frame = converter(hierarchy.crs, self.frame)
            polygons = shapely.transform(
                polygons, lambda xy: np.column_stack(conv(xy[:, 0], xy[:, 1]))
            )
        self._polygons = polygons
        return polygons

    def _converter(self, crs: CoordinateSystem | str | None) -> Converter | None:
        """The converter from `crs` (None: the hierarchy's) into the frame; None if the same."""
        if crs is None:
            return self._to_frame
        try:
            return self._converters[crs]
        except KeyError:
            conv: Converter | None = converter(crs, self.frame)
            if conv is not None and conv.source == conv.target:
                conv = None
            self._converters[crs] = conv
            return conv

    def _point(self, x: Any, y: Any, crs: CoordinateSystem | str | None) -> tuple[Any, Any]:
        if x.__class__ is not float or y.__class__ is not float:
            _check_number(x, y)
        conv = self._converter(crs)
        return (x, y) if conv is None else conv.point(x, y)

    def _points(
        self, xs: Any, ys: Any, crs: CoordinateSystem | str | None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x, y = _check_xy(xs, ys)
        conv = self._converter(crs)
        return (x, y) if conv is None else conv(x, y)

    # -- basic --------------------------------------------------------------------
    @property
    def grid_codes(self) -> tuple[AreaCode, ...]:
        """Grid codes in position order (the hierarchy's `grids` order)."""
        return self._codes

    @property
    def crs(self) -> CoordinateSystem:
        """The hierarchy's coordinate system: points without a `crs` argument are in it."""
        return self.hierarchy.crs

    @property
    def version(self) -> int:
        """The hierarchy version this index answers for."""
        return self.hierarchy.version

    @property
    def owners(self) -> OwnerTable:
        """The resolved owner table; RoutingError if the index was built without rules."""
        if self._owners is None:
            raise RoutingError("routing index: built without ownership rules")
        return self._owners

    @property
    def addresses(self) -> AddressTable:
        """The address table; RoutingError if the index was built without one."""
        if self._addresses is None:
            raise RoutingError("routing index: built without an address table")
        return self._addresses

    def stats(self) -> dict[str, float]:
        """Sizes of the point index (buckets, mixed buckets, candidates, bytes)."""
        return self._buckets.stats()

    def position(self, grid: str) -> int:
        """The position of a grid code; UnknownItemError naming it if absent."""
        try:
            return self._code_pos[grid]
        except KeyError:
            raise UnknownItemError("grid", grid, f"routing index v{self.version}") from None

    def __repr__(self) -> str:
        return f"RoutingIndex(version={self.version}, grids={len(self._codes)})"

    # -- point -> grid ------------------------------------------------------------
    def locate(
        self,
        x: float,
        y: float,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> AreaCode | None:
        """The grid of (x, y): the one holding it by the boundary rule, else the nearest
        within `snap` (default: the index's `snap`), else None.

        A point on the territory's border belongs to the grid whose border it is;
        `locate_detail` also says whether and how far the point was snapped.
        `crs`: the coordinate system of (x, y) when not the hierarchy's (e.g.
        ``"WGS84"`` for a GPS or Open311 position); it is converted first.
        CoordinateError for NaN, infinite or non-numeric coordinates.
        """
        if crs is not None or self._to_frame is not None:
            x, y = self._point(x, y, crs)
        elif x.__class__ is not float or y.__class__ is not float:
            _check_number(x, y)
        if snap is None:
            code: AreaCode | None = self._locate_code(x, y)
            return code
        return self._detail(x, y, check_snap(snap)).grid

    def locate_detail(
        self,
        x: float,
        y: float,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> Location:
        """Where (x, y) goes: grid, position, distance moved (snapped) or to the nearest grid.

        Beyond the snap distance: grid None, position -1, `distance` to the
        `nearest` grid. Distances are in `frame` units (metres for a real map).
        """
        x, y = self._point(x, y, crs)
        return self._detail(x, y, self.snap if snap is None else check_snap(snap))

    def _detail(self, x: float, y: float, reach: float) -> Location:
        p: int = self._buckets.single()(x, y)
        if p >= 0:
            return Location(self._codes[p], p, 0.0, self._codes[p])
        p, d, near = self._outside.one(float(x), float(y), reach, True)
        code = None if p < 0 else self._codes[p]
        return Location(code, p, d, self._codes[near])

    def locate_position(
        self,
        x: float,
        y: float,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> int:
        """The position of the grid of (x, y) as `locate` finds it, -1 for none."""
        if crs is not None or self._to_frame is not None:
            x, y = self._point(x, y, crs)
        elif x.__class__ is not float or y.__class__ is not float:
            _check_number(x, y)
        if snap is None:
            p: int = self._pos(x, y)
            return p
        return self._detail(x, y, check_snap(snap)).position

    def locate_many(
        self,
        xs: Any,
        ys: Any,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> NDArray[np.int32]:
        """Grid positions of many points as `locate` finds them (-1 for none).

        CoordinateError for arrays of unequal length, non-numeric values or any
        non-finite row (naming it); use `locate_many_masked` to get a per-row
        error mask instead, `locate_many_detail` for the distances.
        """
        x, y = self._points(xs, ys, crs)
        out, bad = self._locate_many(x, y, snap)
        if bad.any():
            raise_first_bad(x, y, bad)
        return out

    def locate_many_masked(
        self,
        xs: Any,
        ys: Any,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        """Grid positions (-1 for none or bad) and the mask of rows with non-finite coordinates."""
        x, y = self._points(xs, ys, crs)
        return self._locate_many(x, y, snap)

    def _locate_many(
        self, x: NDArray[np.float64], y: NDArray[np.float64], snap: float | None
    ) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        reach = self.snap if snap is None else check_snap(snap)
        out, bad = self._buckets.locate_many(x, y)
        miss = np.flatnonzero((out < 0) & ~bad)
        if len(miss):
            out[miss] = self._outside.many(x[miss], y[miss], reach, False)[0]
        return out, bad

    def locate_many_detail(
        self,
        xs: Any,
        ys: Any,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> Locations:
        """Positions, distances (moved, or to the nearest grid beyond `snap`) and nearest grids.

        Rows with non-finite coordinates raise (CoordinateError naming the row).
        """
        x, y = self._points(xs, ys, crs)
        reach = self.snap if snap is None else check_snap(snap)
        out, bad = self._buckets.locate_many(x, y)
        if bad.any():
            raise_first_bad(x, y, bad)
        dist = np.zeros(len(x), dtype=np.float64)
        near = out.copy()
        miss = np.flatnonzero(out < 0)
        if len(miss):
            out[miss], dist[miss], near[miss] = self._outside.many(x[miss], y[miss], reach, True)
        return Locations(out, dist, near)

    def codes_of(self, positions: Any) -> list[AreaCode | None]:
        """Grid codes for positions (None for -1)."""
        codes = self._codes
        return [None if p < 0 else codes[p] for p in np.asarray(positions).tolist()]

    # -- geometry around a point ----------------------------------------------------
    def _strtree(self) -> Any:
        return self._outside.tree

    @staticmethod
    def _finite(x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise CoordinateError(f"point ({x!r}, {y!r}): expected finite coordinates")

    def locate_nearest(
        self, x: float, y: float, *, crs: CoordinateSystem | str | None = None
    ) -> tuple[AreaCode, float]:
        """The grid holding (x, y) with distance 0, or else the nearest grid and its distance.

        Ties: lowest position. Unlike `locate`, never None: no snap distance applies.
        """
        x, y = self._point(x, y, crs)
        self._finite(x, y)
        loc = self._detail(x, y, 0.0)
        assert loc.nearest is not None
        return loc.nearest, loc.distance

    def neighbours(self, grid: str) -> tuple[AreaCode, ...]:
        """Grids sharing a boundary of positive length with `grid` (sorted codes)."""
        self.position(grid)
        return self.hierarchy.neighbours(grid)

    def grids_within(
        self, x: float, y: float, distance: float, *, crs: CoordinateSystem | str | None = None
    ) -> tuple[AreaCode, ...]:
        """Grids within `distance` (`frame` units) of (x, y), nearest first (ties by position)."""
        x, y = self._point(x, y, crs)
        self._finite(x, y)
        if not (math.isfinite(distance) and distance >= 0):
            raise ConfigError(
                f"grids_within: distance = {distance!r}, expected a finite value >= 0"
            )
        pt = shapely.Point(x, y)
        idx = self._strtree().query(pt, predicate="dwithin", distance=distance)
        if len(idx) == 0:
            return ()
        d = shapely.distance(self._polygons[idx], pt)
        order = np.lexsort((idx, d))
        return tuple(self._codes[int(i)] for i in idx[order])

    # -- addresses ----------------------------------------------------------------
    def locate_address(self, address: Any) -> AreaCode:
        """The grid of an address or building id; UnknownItemError naming it if absent."""
        return self.addresses.grid(address)

    def locate_addresses(self, addresses: Any) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        """Grid positions of many address ids (-1 unknown) and the mask of unknown ids."""
        return self.addresses.positions(addresses)

    # -- owners and route ---------------------------------------------------------
    def owner(self, grid: str, category: str) -> str | None:
        """The owner of `category` in `grid`, or None when no rule covers it."""
        return self.owners.owner(grid, category)

    def owners_many(self, grid_positions: Any, category_positions: Any) -> NDArray[np.int32]:
        """Owner indexes into `owners.owners` (-1: none) for arrays of positions."""
        return self.owners.owners_many(grid_positions, category_positions)

    def route(
        self,
        x: float,
        y: float,
        category: str,
        now: datetime,
        *,
        snap: float | None = None,
        crs: CoordinateSystem | str | None = None,
    ) -> Route:
        """Point + category + instant -> grid, owner and the person to act.

        A point outside the territory within `snap` (default: the index's) goes
        to the nearest grid (`Route.snapped_by` says how far); beyond it,
        PointOutsideError naming the distance to the nearest grid.
        UnknownItemError for an unknown category (when the index has rules);
        CoordinateError for coordinates that are not finite numbers; `crs` as in `locate`.
        """
        if crs is not None or self._to_frame is not None:
            x, y = self._point(x, y, crs)
        elif x.__class__ is not float or y.__class__ is not float:
            _check_number(x, y)
        if snap is not None:
            snap = check_snap(snap)
        r: Route = self._route(x, y, category, now, snap)
        return r
