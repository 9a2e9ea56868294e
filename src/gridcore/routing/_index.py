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
from gridcore.errors import ConfigError, CoordinateError, RoutingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, CategoryCode, PersonId
from gridcore.routing._addresses import AddressTable
from gridcore.routing._locate import BucketGrid, _check_xy, raise_first_bad
from gridcore.routing._owners import OwnershipRule, OwnershipRules, OwnerTable
from gridcore.routing._people import ResponsibleSource
from gridcore.staffing import ResponsibilityIndex

__all__ = ["PointOutsideError", "Route", "RoutingIndex"]


class PointOutsideError(RoutingError, LookupError):
    """A point that no grid holds, where a grid is required."""


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


_new_tuple = tuple.__new__
_UNSET = (None, 0, 0.0)


def _make_route(
    locate: Any,
    codes: tuple[AreaCode, ...],
    owners: OwnerTable | None,
    people: ResponsibleSource | None,
    duty: str,
) -> Any:
    """A fast function (x, y, category, now) -> Route reading plain lists and dicts.

    Everything is bound once as closure variables; the person comes from
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

    def route(x: float, y: float, category: str, now: datetime) -> Route:
        nonlocal last
        p: int = locate(x, y)
        if p < 0:
            raise PointOutsideError(f"point ({x!r}, {y!r}) lies outside every grid")
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
        r: Route = _new_tuple(Route, (grid, category, owner, person, fell))
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
        "_duty",
        "_locate_code",
        "_owners",
        "_people",
        "_pos",
        "_route",
        "_tree",
        "hierarchy",
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
    _tree: Any

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
    ) -> RoutingIndex:
        """Build the index for `hierarchy` (every grid needs a polygon).

        `rules` (with `taxonomy`, default `categories.default_taxonomy()`) are
        resolved once into an owner table; `people` names the responsible person
        for `duty` (any duty or role the staffing policy knows); `addresses` maps
        address or building ids to grid codes.
        """
        self = object.__new__(cls)
        self.hierarchy = hierarchy
        self._codes = hierarchy.grids
        self._code_pos = {str(c): i for i, c in enumerate(self._codes)}
        self._buckets = BucketGrid(hierarchy.grid_polygons(), buckets_per_grid)
        self._pos = self._buckets.single()
        self._locate_code = self._buckets.single_mapped((*self._codes, None))
        self._tree = None
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
        self._route = _make_route(self._pos, self._codes, self._owners, people, duty)
        return self

    # -- basic --------------------------------------------------------------------
    @property
    def grid_codes(self) -> tuple[AreaCode, ...]:
        """Grid codes in position order (the hierarchy's `grids` order)."""
        return self._codes

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
    def locate(self, x: float, y: float) -> AreaCode | None:
        """The grid holding (x, y) by the boundary rule, or None outside every grid.

        CoordinateError for NaN or infinite coordinates.
        """
        code: AreaCode | None = self._locate_code(x, y)
        return code

    def locate_position(self, x: float, y: float) -> int:
        """The position of the grid holding (x, y), -1 outside; CoordinateError if not finite."""
        p: int = self._pos(x, y)
        return p

    def locate_many(self, xs: Any, ys: Any) -> NDArray[np.int32]:
        """Grid positions of many points (-1 outside).

        CoordinateError for arrays of unequal length or any non-finite row (naming
        it); use `locate_many_masked` to get a per-row error mask instead.
        """
        x, y = _check_xy(xs, ys)
        out, bad = self._buckets.locate_many(x, y)
        if bad.any():
            raise_first_bad(x, y, bad)
        return out

    def locate_many_masked(self, xs: Any, ys: Any) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        """Grid positions (-1 outside or bad) and the mask of rows with non-finite coordinates."""
        x, y = _check_xy(xs, ys)
        return self._buckets.locate_many(x, y)

    def codes_of(self, positions: Any) -> list[AreaCode | None]:
        """Grid codes for positions (None for -1)."""
        codes = self._codes
        return [None if p < 0 else codes[p] for p in np.asarray(positions).tolist()]

    # -- geometry around a point ----------------------------------------------------
    def _strtree(self) -> Any:
        if self._tree is None:
            self._tree = shapely.STRtree(self.hierarchy.grid_polygons())
        return self._tree

    @staticmethod
    def _finite(x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise CoordinateError(f"point ({x!r}, {y!r}): expected finite coordinates")

    def locate_nearest(self, x: float, y: float) -> tuple[AreaCode, float]:
        """The grid holding (x, y) with distance 0, or else the nearest grid and its distance.

        A point on the territory's right or top border is outside by the boundary
        rule, so it gets its nearest grid at distance 0. Ties: lowest position.
        """
        p = self._pos(x, y)
        if p >= 0:
            return self._codes[p], 0.0
        self._finite(x, y)
        idx, dist = self._strtree().query_nearest(shapely.Point(x, y), return_distance=True)
        k = int(np.argmin(idx))
        return self._codes[int(idx[k])], float(dist[k])

    def neighbours(self, grid: str) -> tuple[AreaCode, ...]:
        """Grids sharing a boundary of positive length with `grid` (sorted codes)."""
        self.position(grid)
        return self.hierarchy.neighbours(grid)

    def grids_within(self, x: float, y: float, distance: float) -> tuple[AreaCode, ...]:
        """Grids within `distance` of (x, y), nearest first (ties by position)."""
        self._finite(x, y)
        if not (math.isfinite(distance) and distance >= 0):
            raise ConfigError(
                f"grids_within: distance = {distance!r}, expected a finite value >= 0"
            )
        pt = shapely.Point(x, y)
        idx = self._strtree().query(pt, predicate="dwithin", distance=distance)
        if len(idx) == 0:
            return ()
        d = shapely.distance(self.hierarchy.grid_polygons()[idx], pt)
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

    def route(self, x: float, y: float, category: str, now: datetime) -> Route:
        """Point + category + instant -> grid, owner and the person to act.

        PointOutsideError if no grid holds the point; UnknownItemError for an
        unknown category (when the index has rules).
        """
        r: Route = self._route(x, y, category, now)
        return r
