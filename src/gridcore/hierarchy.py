"""The hierarchy of areas (层级): areas and the immutable `Hierarchy` (schemes: `gridcore.levels`).

A territory is cut into nested areas, each child inside exactly one parent, the
leaves (grids, 网格) covering the territory. A `Hierarchy` is built once, checked
when built, and answers structural queries from flat arrays so that a city of
50,000 grids stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
import numpy as np
import shapely
from numpy.typing import NDArray

from gridcore.crs import LOCAL, CoordinateSystem, parse_crs
from gridcore.errors import HierarchyError, UnknownItemError
from gridcore.ids import AreaCode
from gridcore.levels import FIRE, RURAL, SCHEMES, URBAN, Level, LevelScheme, ParsedCode

__all__ = [
    "FIRE",
    "MAX_HOUSEHOLDS",
    "RURAL",
    "SCHEMES",
    "URBAN",
    "Area",
    "Hierarchy",
    "Level",
    "LevelScheme",
    "ParsedCode",
]

MAX_HOUSEHOLDS = 10_000_000
"""The most households (or components of one kind) an area may hold."""


def _count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_HOUSEHOLDS


def _components(value: object) -> tuple[tuple[str, int], ...]:
    """Component counts from a mapping or pairs (typed to `object`: checked here)."""
    if value is None:
        return ()
    what = f"component counts: a mapping of names to whole numbers in [0, {MAX_HOUSEHOLDS:,}]"
    if (
        isinstance(value, tuple)
        and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value)
        and all(value[i][0] < value[i + 1][0] for i in range(len(value) - 1))
    ):  # already a sorted tuple of pairs (the synthetic cities' fast path)
        for k, v in value:
            if not _count(v):
                raise HierarchyError(f"component count {k!r} = {v!r}: expected {what}")
        return value
    if isinstance(value, str | bytes) or not isinstance(value, Mapping | Iterable):
        raise HierarchyError(f"components = {value!r}: expected {what}")
    try:
        items: list[Any] = list(value.items() if isinstance(value, Mapping) else value)
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise HierarchyError(f"components = {value!r}: expected {what}") from None
    for k, v in pairs:
        if not isinstance(k, str) or not _count(v):
            raise HierarchyError(f"component count {k!r} = {v!r}: expected {what}")
    return tuple(sorted(pairs))


def _code(value: object) -> AreaCode:
    if not isinstance(value, str) or not value:
        raise HierarchyError(f"area code {value!r}: expected a non-empty string")
    return AreaCode(value)


def _strs(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise HierarchyError(f"{value!r}: expected a list of strings")
    items = tuple(value)
    if not all(isinstance(x, str) for x in items):
        raise HierarchyError(f"{value!r}: expected a list of strings")
    return tuple(sorted(items))


@attrs.frozen(eq=False)
class Area:
    """One area: code, name, level, parent, households (leaves), polygon and components.

    `households` is given on leaves; above the leaves it is rolled up by the
    hierarchy. `components` counts 城市部件 (manholes, lamps, cameras...).
    `compounds` names the residential compounds (小区) a leaf holds, for the
    单元完整 check. `neighbours` declares adjacency when there are no polygons.
    """

    code: AreaCode = attrs.field(converter=_code)
    name: str
    level: str
    parent: AreaCode | None = None
    households: int = 0
    polygon: Any = attrs.field(default=None, repr=False)
    components: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_components)
    compounds: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    neighbours: tuple[AreaCode, ...] = attrs.field(default=(), converter=_strs)

    def __attrs_post_init__(self) -> None:
        for field, value in (("name", self.name), ("level", self.level)):
            if not isinstance(value, str):
                raise HierarchyError(f"area {self.code!r}: {field} = {value!r}, expected a string")
        if self.parent is not None and (not isinstance(self.parent, str) or not self.parent):
            raise HierarchyError(
                f"area {self.code!r}: parent = {self.parent!r}, expected a code or None"
            )
        if not _count(self.households):
            raise HierarchyError(
                f"area {self.code!r}: households = {self.households!r}, expected a whole "
                f"number in [0, {MAX_HOUSEHOLDS:,}]"
            )
        if self.polygon is not None:
            if not isinstance(self.polygon, shapely.Polygon | shapely.MultiPolygon):
                raise HierarchyError(
                    f"area {self.code!r}: polygon is {type(self.polygon).__name__}, "
                    "expected a shapely Polygon or MultiPolygon"
                )
            if not np.isfinite(shapely.get_coordinates(self.polygon)).all():
                raise HierarchyError(
                    f"area {self.code!r}: polygon has a coordinate that is not a finite "
                    "number (NaN or infinity), expected finite coordinates"
                )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Area):
            return NotImplemented
        same_geom = (self.polygon is None and other.polygon is None) or (
            self.polygon is not None
            and other.polygon is not None
            and bool(shapely.equals_exact(self.polygon, other.polygon, tolerance=0.0))
        )
        return (
            same_geom
            and self.code == other.code
            and self.name == other.name
            and self.level == other.level
            and self.parent == other.parent
            and self.households == other.households
            and self.components == other.components
            and self.compounds == other.compounds
            and self.neighbours == other.neighbours
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def component_counts(self) -> dict[str, int]:
        """Components as a dict (a fresh copy)."""
        return dict(self.components)


IntArray = NDArray[np.int64]


def _retired_codes(retired: Iterable[str]) -> tuple[str, ...]:
    """The retired codes as a tuple; HierarchyError unless a list of strings."""
    given: object = retired
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise HierarchyError(f"retired = {given!r}: expected a list of area codes")
    codes = tuple(given)
    if not all(isinstance(c, str) for c in codes):
        raise HierarchyError(f"retired = {codes!r}: expected a list of area codes")
    return codes


def _areas_by_code(area_list: list[Area]) -> dict[str, Area]:
    """The areas by code; HierarchyError on a non-area, a duplicate code or no area."""
    by_code: dict[str, Area] = {}
    for a in area_list:
        if not isinstance(a, Area):
            raise HierarchyError(f"{a!r}: expected an Area")
        if a.code in by_code:
            raise HierarchyError(f"duplicate area code {a.code!r} ({a.name!r})")
        by_code[a.code] = a
    if not by_code:
        raise HierarchyError("a hierarchy needs at least one area")
    return by_code


def _children_checked(
    area_list: list[Area], by_code: Mapping[str, Area], scheme: LevelScheme, check_codes: bool
) -> dict[str | None, list[str]]:
    """The codes of each area's children (None: the top areas), in the given order.

    HierarchyError naming the area for a level not in `scheme`, a code that does not fit
    its level or parent (when `check_codes`), a missing parent, a level that is not one
    below its parent's, or a non-leaf area without children.
    """
    depth_of = {lv.name: i for i, lv in enumerate(scheme.levels)}
    leaf_depth = len(scheme.levels) - 1
    fast_widths: list[int] | None = None
    if scheme.kind == "digits":
        fast_widths = list(np.cumsum([lv.width or 0 for lv in scheme.levels]))
    kids: dict[str | None, list[str]] = {}
    for a in area_list:
        if a.level not in depth_of:
            raise HierarchyError(
                f"area {a.code!r}: level {a.level!r} is not in scheme "
                f"{scheme.name!r} {scheme.level_names}"
            )
        if check_codes and fast_widths is not None:
            d = depth_of[a.level]
            if scheme.check is not None:
                scheme.parse(a.code)  # raises naming the rule a segment breaks
            if len(a.code) != fast_widths[d] or not a.code.isdigit():
                scheme.parse(a.code)  # raises with the layout expected
                raise HierarchyError(
                    f"area {a.code!r}: a {a.level!r} code has {fast_widths[d]} digits"
                )
        elif check_codes:
            parsed = scheme.parse(a.code)
            if parsed.level != a.level:
                raise HierarchyError(
                    f"area {a.code!r}: its code is a {parsed.level!r} code, "
                    f"but the area says level {a.level!r}"
                )
        if a.parent is not None:
            parent = by_code.get(a.parent)
            if parent is None:
                raise HierarchyError(f"area {a.code!r}: parent {a.parent!r} does not exist")
            if depth_of[parent.level] + 1 != depth_of[a.level]:
                raise HierarchyError(
                    f"area {a.code!r} ({a.level}) under {parent.code!r} ({parent.level}): "
                    f"expected a {scheme.levels[depth_of[parent.level] + 1].name!r} "
                    "under it"
                    if depth_of[parent.level] < leaf_depth
                    else f"area {a.code!r} under {parent.code!r}: a leaf has no children"
                )
            if check_codes and (
                not a.code.startswith(parent.code)
                if fast_widths is not None
                else scheme.parent_code(a.code) != parent.code
            ):
                raise HierarchyError(
                    f"area {a.code!r}: parent code {parent.code!r} is not its prefix"
                    if scheme.kind == "digits"
                    else f"area {a.code!r}: parent {parent.code!r} is not its path prefix"
                )
        elif check_codes and scheme.parse(a.code).depth != depth_of[a.level]:
            raise HierarchyError(f"area {a.code!r}: code depth does not match its level")
        kids.setdefault(a.parent, []).append(a.code)
    for a in area_list:
        if depth_of[a.level] < leaf_depth and a.code not in kids:
            raise HierarchyError(
                f"area {a.code!r} ({a.level}) has no children: a leaf must be at level "
                f"{scheme.leaf_level!r}"
            )
    return kids


class Hierarchy:
    """An immutable, validated tree of areas with fast structural queries.

    Built once with `Hierarchy.build`; areas are stored in depth-first order so
    that the descendants of any area, and the grids under it, are one
    contiguous slice.
    """

    __slots__ = (
        "_ancestors",
        "_areas",
        "_cache",
        "_children",
        "_grid_pos",
        "_grid_slice",
        "_households",
        "_index",
        "_level_idx",
        "_parent",
        "_parent_list",
        "_size",
        "_size_list",
        "crs",
        "retired",
        "scheme",
        "version",
    )

    scheme: LevelScheme
    version: int
    retired: frozenset[AreaCode]
    crs: CoordinateSystem
    """The coordinate system of the polygons (`gridcore.crs`; LOCAL: an unanchored plane)."""
    _areas: tuple[Area, ...]
    _index: dict[str, int]
    _parent: IntArray
    _parent_list: list[int]
    _ancestors: list[tuple[AreaCode, ...]]
    _size_list: list[int]
    _level_idx: NDArray[np.int8]
    _size: IntArray
    _grid_pos: IntArray
    _grid_slice: IntArray
    _households: IntArray
    _children: dict[str, tuple[AreaCode, ...]]
    _cache: dict[str, Any]

    def __init__(self) -> None:  # pragma: no cover - use Hierarchy.build
        raise TypeError("use Hierarchy.build(areas, scheme=...)")

    @classmethod
    def build(
        cls,
        areas: Iterable[Area],
        scheme: LevelScheme = URBAN,
        *,
        version: int = 1,
        retired: Iterable[str] = (),
        check_codes: bool = True,
        crs: CoordinateSystem | str = LOCAL,
    ) -> Hierarchy:
        """Check the areas and build the hierarchy, or raise HierarchyError naming the area.

        Refused: duplicate codes, a missing parent, a level that is not one below
        its parent's, a non-leaf level with no children, a code whose layout does
        not match its level or whose parent's code is not its prefix (digit schemes).
        """
        area_list = list(areas)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise HierarchyError(f"version = {version!r}: expected a whole number >= 1")
        retired = _retired_codes(retired)
        by_code = _areas_by_code(area_list)
        depth_of = {lv.name: i for i, lv in enumerate(scheme.levels)}
        leaf_depth = len(scheme.levels) - 1
        kids = _children_checked(area_list, by_code, scheme, check_codes)
        # Depth-first order so descendants are contiguous; children sorted by code.
        order: list[str] = []
        stack = sorted(kids.get(None, []), reverse=True)
        while stack:
            code = stack.pop()
            order.append(code)
            stack.extend(sorted(kids.get(code, []), reverse=True))
        n = len(order)
        index = {c: i for i, c in enumerate(order)}
        parent_arr = np.full(n, -1, dtype=np.int64)
        level_arr = np.empty(n, dtype=np.int8)
        for i, c in enumerate(order):
            a = by_code[c]
            if a.parent is not None:
                parent_arr[i] = index[a.parent]
            level_arr[i] = depth_of[a.level]
        size = np.ones(n, dtype=np.int64)
        for i in range(n - 1, -1, -1):
            p = parent_arr[i]
            if p >= 0:
                size[p] += size[i]
        is_leaf = level_arr == leaf_depth
        grid_pos = np.flatnonzero(is_leaf).astype(np.int64)
        # grid slice of area i: grids whose tree position lies in [i, i + size[i])
        lo = np.searchsorted(grid_pos, np.arange(n), side="left")
        hi = np.searchsorted(grid_pos, np.arange(n) + size, side="left")
        leaf_households = np.zeros(n, dtype=np.int64)
        for gi in grid_pos.tolist():
            leaf_households[gi] = by_code[order[gi]].households
        cum = np.concatenate(([0], np.cumsum(leaf_households[grid_pos])))
        households = cum[hi] - cum[lo]
        self = object.__new__(cls)
        self.scheme = scheme
        self.version = version
        self.retired = frozenset(AreaCode(c) for c in retired)
        self.crs = parse_crs(crs)
        self._areas = tuple(by_code[c] for c in order)
        self._index = index
        self._parent = parent_arr
        # plain lists for the one-at-a-time walks: numpy scalar reads cost ~100 ns each
        self._parent_list = parent_arr.tolist()
        # ancestors of every area, built top-down once (parents come first in DFS order)
        anc: list[tuple[AreaCode, ...]] = []
        for p in self._parent_list:
            anc.append(() if p < 0 else (AreaCode(order[p]), *anc[p]))
        self._ancestors = anc
        self._size_list = size.tolist()
        self._level_idx = level_arr
        self._size = size
        self._grid_pos = grid_pos
        self._grid_slice = np.stack([lo, hi], axis=1)
        self._households = households
        self._children = {
            k: tuple(AreaCode(c) for c in sorted(v)) for k, v in kids.items() if k is not None
        }
        self._cache = {}
        return self

    # -- basic access -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def __iter__(self) -> Iterator[Area]:
        return iter(self._areas)

    def __repr__(self) -> str:
        return (
            f"Hierarchy(scheme={self.scheme.name!r}, version={self.version}, "
            f"areas={len(self)}, grids={len(self._grid_pos)})"
        )

    def position(self, code: str) -> int:
        """The area's position in depth-first order; UnknownItemError if absent."""
        try:
            return self._index[code]
        except KeyError:
            raise UnknownItemError("area", code, f"hierarchy v{self.version}") from None

    def area(self, code: str) -> Area:
        """The area with this code."""
        return self._areas[self.position(code)]

    @property
    def areas(self) -> tuple[Area, ...]:
        """All areas in depth-first order (children sorted by code)."""
        return self._areas

    @property
    def roots(self) -> tuple[AreaCode, ...]:
        """Codes of the top areas."""
        return tuple(self._areas[i].code for i in np.flatnonzero(self._parent < 0))

    @property
    def grids(self) -> tuple[AreaCode, ...]:
        """Codes of all leaves, in depth-first order."""
        cached = self._cache.get("grids")
        if cached is None:
            cached = tuple(self._areas[i].code for i in self._grid_pos)
            self._cache["grids"] = cached
        return cached

    def level_of(self, code: str) -> str:
        """The level name of an area."""
        return self.scheme.levels[int(self._level_idx[self.position(code)])].name

    def at_level(self, level: str) -> tuple[AreaCode, ...]:
        """Codes of every area at `level`, in depth-first order."""
        d = self.scheme.depth(level)
        return tuple(self._areas[i].code for i in np.flatnonzero(self._level_idx == d))

    # -- tree queries -------------------------------------------------------------
    def parent(self, code: str) -> AreaCode | None:
        """The parent's code, or None for a top area."""
        p = self._parent_list[self.position(code)]
        return None if p < 0 else self._areas[p].code

    def children(self, code: str) -> tuple[AreaCode, ...]:
        """Codes of the direct children, sorted."""
        self.position(code)
        return self._children.get(code, ())

    def ancestors(self, code: str) -> tuple[AreaCode, ...]:
        """Codes from the parent up to the top."""
        return self._ancestors[self.position(code)]

    def path(self, code: str) -> tuple[AreaCode, ...]:
        """Codes from the top down to this area."""
        return (*reversed(self.ancestors(code)), self.area(code).code)

    def ancestor_at(self, code: str, level: str) -> AreaCode:
        """The area at `level` that holds this area (the area itself at its own level)."""
        d = self.scheme.depth(level)
        i = self.position(code)
        if self._level_idx[i] < d:
            raise HierarchyError(
                f"area {code!r} is at level {self.level_of(code)!r}, above {level!r}"
            )
        while self._level_idx[i] > d:
            i = self._parent_list[i]
            if i < 0:
                raise HierarchyError(f"area {code!r} has no ancestor at level {level!r}")
        return self._areas[i].code

    def descendants(self, code: str) -> tuple[AreaCode, ...]:
        """Codes of every area below this one, depth-first."""
        i = self.position(code)
        return tuple(a.code for a in self._areas[i + 1 : i + int(self._size[i])])

    def is_ancestor(self, ancestor: str, code: str) -> bool:
        """True if `ancestor` strictly contains `code`."""
        a, c = self.position(ancestor), self.position(code)
        return a < c < a + self._size_list[a]

    def lowest_common_ancestor(self, a: str, b: str) -> AreaCode | None:
        """The deepest area holding both (an area holds itself); None if in different trees."""
        i, j = self.position(a), self.position(b)
        parent, size = self._parent_list, self._size_list
        while i >= 0:
            if i <= j < i + size[i]:
                return self._areas[i].code
            i = parent[i]
        return None

    def grids_under(self, code: str) -> tuple[AreaCode, ...]:
        """Codes of the leaves under (or equal to) this area."""
        lo, hi = self._grid_slice[self.position(code)]
        grids = self.grids
        return grids[int(lo) : int(hi)]

    def grid_positions_under(self, code: str) -> IntArray:
        """Indexes into `grids` of the leaves under this area."""
        lo, hi = self._grid_slice[self.position(code)]
        return np.arange(int(lo), int(hi), dtype=np.int64)

    def grid_ancestor_codes(self, level: str) -> tuple[AreaCode, ...]:
        """For each grid in `grids` order, the code of its ancestor at `level`."""
        key = f"anc:{level}"
        cached = self._cache.get(key)
        if cached is None:
            d = self.scheme.depth(level)
            pos = self._grid_pos.copy()
            for _ in range(len(self.scheme.levels) - 1 - d):
                pos = self._parent[pos]
            if (pos < 0).any():
                raise HierarchyError(f"some grids have no ancestor at level {level!r}")
            cached = tuple(self._areas[i].code for i in pos)
            self._cache[key] = cached
        return cached

    # -- totals -------------------------------------------------------------------
    def households(self, code: str) -> int:
        """Households in the area, rolled up from its leaves."""
        return int(self._households[self.position(code)])

    @property
    def total_households(self) -> int:
        """Households in the whole territory."""
        return int(self._households[self._parent < 0].sum())

    def totals(self, code: str) -> dict[str, int]:
        """Households, grids and every component count rolled up from the leaves."""
        out: dict[str, int] = {
            "households": self.households(code),
            "grids": len(self.grids_under(code)),
        }
        lo, hi = self._grid_slice[self.position(code)]
        for gi in self._grid_pos[int(lo) : int(hi)]:
            for k, v in self._areas[gi].components:
                out[k] = out.get(k, 0) + v
        return out

    def grid_households(self) -> IntArray:
        """Households per grid, in `grids` order."""
        return self._households[self._grid_pos].copy()

    # -- geometry -----------------------------------------------------------------
    def grid_polygons(self) -> NDArray[np.object_]:
        """Polygons of the grids in `grids` order (None where a grid has none)."""
        cached = self._cache.get("polys")
        if cached is None:
            cached = np.array([self._areas[i].polygon for i in self._grid_pos], dtype=object)
            self._cache["polys"] = cached
        return cached

    @property
    def has_polygons(self) -> bool:
        """True if every grid has a polygon."""
        return all(self._areas[i].polygon is not None for i in self._grid_pos)

    def area_polygon(self, code: str) -> Any:
        """The area's own polygon, or the union of its grids' polygons if it has none."""
        a = self.area(code)
        if a.polygon is not None:
            return a.polygon
        polys = [self._areas[i].polygon for i in self._grid_pos[self.grid_positions_under(code)]]
        if any(p is None for p in polys):
            raise HierarchyError(f"area {code!r}: some of its grids have no polygon")
        return shapely.union_all(polys)

    def neighbours(self, code: str) -> tuple[AreaCode, ...]:
        """Grids sharing a boundary of positive length with this grid (or declared ones)."""
        i = self.position(code)
        if self._level_idx[i] != len(self.scheme.levels) - 1:
            raise HierarchyError(f"area {code!r} is not a {self.scheme.leaf_level!r}")
        table = self._neighbour_table()
        return table.get(AreaCode(code), ())

    def neighbour_pairs(self) -> tuple[tuple[AreaCode, AreaCode], ...]:
        """Every unordered pair of neighbouring grids, each once, sorted."""
        table = self._neighbour_table()
        return tuple(sorted((a, b) for a, nb in table.items() for b in nb if a < b))

    def _neighbour_table(self) -> dict[AreaCode, tuple[AreaCode, ...]]:
        cached: dict[AreaCode, tuple[AreaCode, ...]] | None = self._cache.get("neigh")
        if cached is not None:
            return cached
        grids = self.grids
        sets: dict[AreaCode, set[AreaCode]] = {g: set() for g in grids}
        for g in grids:
            for nb in self.area(g).neighbours:
                if nb in sets and nb != g:
                    sets[g].add(nb)
                    sets[nb].add(g)
        polys = self.grid_polygons()
        has = np.array([p is not None for p in polys])
        if has.any():
            idx = np.flatnonzero(has)
            geoms = polys[idx]
            tree = shapely.STRtree(geoms)
            tol = self._neighbour_tolerance(geoms)
            left, right = tree.query(geoms, predicate="dwithin", distance=tol)
            keep = left < right
            left, right = left[keep], right[keep]
            if len(left):
                # interiors apart, boundaries meeting along a line: a shared edge, not a corner
                touching = shapely.relate_pattern(geoms[left], geoms[right], "F***1****")
                rest = np.flatnonzero(~touching)
                if len(rest):
                    # edges that meet only up to rounding (a cut vertex a hair off the
                    # neighbour's edge): measure the boundary run lying within `tol`
                    near = shapely.intersection(
                        shapely.boundary(geoms[left[rest]]),
                        shapely.buffer(geoms[right[rest]], tol, quad_segs=1),
                    )
                    touching[rest] = shapely.length(near) > 100 * tol
                for a, b in zip(idx[left[touching]], idx[right[touching]], strict=True):
                    sets[grids[a]].add(grids[b])
                    sets[grids[b]].add(grids[a])
        table = {g: tuple(sorted(s)) for g, s in sets.items()}
        self._cache["neigh"] = table
        return table

    @staticmethod
    def _neighbour_tolerance(geoms: NDArray[np.object_]) -> float:
        """A distance under which boundaries count as touching: 1e-9 of the extent."""
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        return max(float(max(x1 - x0, y1 - y0)) * 1e-9, 1e-12)

    def summary(self) -> dict[str, Any]:
        """Counts per level, households and components for the whole territory."""
        out: dict[str, Any] = {
            "scheme": self.scheme.name,
            "version": self.version,
        }
        out["areas_per_level"] = {
            lv.name: int((self._level_idx == d).sum()) for d, lv in enumerate(self.scheme.levels)
        }
        hh = self.grid_households()
        out["households"] = int(hh.sum())
        if len(hh):
            out["households_per_grid"] = {
                "min": int(hh.min()),
                "mean": round(float(hh.mean()), 1),
                "max": int(hh.max()),
            }
        comps: dict[str, int] = {}
        for i in self._grid_pos:
            for k, v in self._areas[i].components:
                comps[k] = comps.get(k, 0) + v
        if comps:
            out["components"] = dict(sorted(comps.items()))
        return out

    def replace_areas(
        self,
        removed: Iterable[str],
        added: Iterable[Area],
        *,
        retire: Iterable[str] = (),
    ) -> Hierarchy:
        """A new version with some areas removed and others added (checked as a whole)."""
        gone = set(removed)
        for c in gone:
            self.position(c)
        kept = [a for a in self._areas if a.code not in gone]
        return Hierarchy.build(
            [*kept, *added],
            self.scheme,
            version=self.version + 1,
            retired=self.retired | {AreaCode(c) for c in retire},
            crs=self.crs,
        )
