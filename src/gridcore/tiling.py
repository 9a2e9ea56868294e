"""Tiling a real outline: districts cut into streets, communities and grids, seeded and seamless.

Each district outline (in metres: project lon/lat outlines first, e.g. with
`gridcore.crs.local_metric`) is cut level by level: seeded points inside the
parent, relaxed twice towards their cells' centres (Lloyd), their Voronoi
cells clipped to the parent. Every child is thus inside its parent and the
children cover it; neighbouring cells share the Voronoi edges GEOS computed
once. Counts are split by area, so grids come out of similar size. Codes follow
the urban scheme under the outline's own administrative code (6 digits county,
3 street, 3 community, 2 grid); `StreetName`s give real street codes and names.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import shapely
from numpy.typing import NDArray

from gridcore.crs import CoordinateSystem
from gridcore.errors import ConfigError
from gridcore.hierarchy import URBAN, Area, Hierarchy
from gridcore.ids import AreaCode

__all__ = ["Outline", "StreetName", "tile_outlines"]

_MAX_COMMUNITIES = 999
_MAX_GRIDS = 99  # the 2-digit grid sequence of the 14-digit code


@attrs.frozen
class Outline:
    """A district to tile: its 6-digit administrative code, name and polygon (in metres)."""

    code: str
    name: str
    polygon: shapely.Polygon | shapely.MultiPolygon = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        if len(self.code) != 6 or not self.code.isdigit() or self.code.endswith("00"):
            raise ConfigError(
                f"outline {self.name!r}: adcode {self.code!r}, expected a 6-digit county-level "
                "code (a district's, not ending in 00)"
            )
        if self.polygon.is_empty or self.polygon.area <= 0:
            raise ConfigError(f"outline {self.code} ({self.name}): the polygon has no area")


@attrs.frozen
class StreetName:
    """A real street (街道, 镇 or 乡): its 9-digit code (county + 3 digits) and name."""

    code: str
    name: str

    def __attrs_post_init__(self) -> None:
        if len(self.code) != 9 or not self.code.isdigit() or self.code.endswith("000"):
            raise ConfigError(
                f"street {self.name!r}: code {self.code!r}, expected 9 digits "
                "(the county's 6, then 001-399)"
            )


def _split(total: int, weights: NDArray[np.float64], cap: int | None = None) -> list[int]:
    """`len(weights)` counts >= 1 summing to `total`, proportional to the weights."""
    k = len(weights)
    raw = weights / weights.sum() * (total - k)
    counts = np.floor(raw).astype(np.int64) + 1
    short = total - int(counts.sum())
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    counts[order[:short]] += 1
    if cap is not None:
        while counts.max() > cap:  # move the excess to the least loaded
            big, small = int(np.argmax(counts)), int(np.argmin(counts))
            if counts[small] >= cap:
                raise ConfigError(f"{total} items do not fit {k} parts of at most {cap}")
            move = min(int(counts[big]) - cap, cap - int(counts[small]))
            counts[big] -= move
            counts[small] += move
    return [int(c) for c in counts]


def _points_inside(
    region: shapely.Polygon | shapely.MultiPolygon, k: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """`k` seeded points uniformly inside `region` (rejection sampling in its bounds)."""
    x0, y0, x1, y1 = region.bounds
    shapely.prepare(region)
    found: list[NDArray[np.float64]] = []
    have = 0
    for _ in range(200):
        n = max(4 * (k - have), 16)
        pts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
        pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]
        found.append(pts)
        have += len(pts)
        if have >= k:
            break
    out = np.concatenate(found)[:k]
    if len(out) < k:  # pragma: no cover - a region of almost no area
        raise ConfigError(f"could not place {k} points inside a region of area {region.area:g}")
    return out


def _polygonal(geom: object) -> shapely.Polygon | shapely.MultiPolygon | None:
    """The polygon parts of a clipping result (dropping stray lines and points)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _cut(
    region: shapely.Polygon | shapely.MultiPolygon, k: int, rng: np.random.Generator
) -> list[shapely.Polygon | shapely.MultiPolygon]:
    """Cut `region` into `k` cells (Voronoi of relaxed seeds, clipped), numbered in rows
    from south-west to north-east (so that codes run across the map, not at random)."""
    if k == 1:
        return [region]
    pts = _points_inside(region, k, rng)
    envelope = shapely.box(*region.bounds).buffer(1.0)
    cells: list[shapely.Polygon | shapely.MultiPolygon | None] = []
    for rounds in range(3):  # two Lloyd steps, then the cut itself
        vor = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=envelope, ordered=True)
        cells = [_polygonal(c) for c in shapely.intersection(shapely.get_parts(vor), region)]
        if rounds == 2:
            break
        nxt = pts.copy()
        for i, c in enumerate(cells):
            if c is None:
                continue
            centre = c.centroid
            if not region.contains(centre):
                centre = c.point_on_surface()
            nxt[i] = (centre.x, centre.y)
        if len(np.unique(nxt, axis=0)) == k:
            pts = nxt
    if any(c is None for c in cells):  # pragma: no cover - a seed is always in its cell
        raise ConfigError("tiling: a Voronoi cell came out empty")
    # number the cells from south-west to north-east (by their seeds)
    order = np.lexsort((pts[:, 0], np.round(pts[:, 1] / (np.sqrt(region.area / k)))))
    return [c for i in order if (c := cells[i]) is not None]


def tile_outlines(
    outlines: Sequence[Outline],
    grids: int,
    *,
    seed: int,
    crs: CoordinateSystem,
    streets: Sequence[StreetName] = (),
    city_name: str = "",
    households: tuple[int, int] = (200, 300),
) -> Hierarchy:
    """Tile the districts into `grids` grids (urban scheme), seeded: the same inputs and seed
    give the same map. Households per grid are drawn in `households` (synthetic: replace
    them with real counts). ConfigError naming what does not fit.
    """
    if not outlines:
        raise ConfigError("tiling: no outline to tile")
    city = outlines[0].code[:4]
    if any(o.code[:4] != city for o in outlines):
        raise ConfigError(
            f"tiling: outlines of different cities {sorted({o.code[:4] for o in outlines})}"
        )
    if len({o.code for o in outlines}) != len(outlines):
        raise ConfigError("tiling: two outlines share an adcode")
    if grids < len(outlines):
        raise ConfigError(f"tiling: {grids} grids for {len(outlines)} districts, expected more")
    lo, hi = households
    if not 1 <= lo <= hi:
        raise ConfigError(f"tiling: households range {households} is not valid")
    by_district: dict[str, list[StreetName]] = {o.code: [] for o in outlines}
    for s in streets:
        if s.code[:6] not in by_district:
            raise ConfigError(
                f"street {s.code} ({s.name}) lies under no outline {sorted(by_district)}"
            )
        by_district[s.code[:6]].append(s)
    rng = np.random.default_rng(seed)
    whole = shapely.union_all([o.polygon for o in outlines])
    areas: list[Area] = [Area(AreaCode(city), city_name or city, "city", polygon=whole)]
    per_district = _split(grids, np.array([o.polygon.area for o in outlines]))
    for outline, n in zip(outlines, per_district, strict=True):
        areas += _tile_district(outline, n, sorted(by_district[outline.code], key=_code), rng, hi)
    hh = rng.integers(lo, hi + 1, size=sum(1 for a in areas if a.level == "grid"))
    k = 0
    for i, a in enumerate(areas):
        if a.level == "grid":
            areas[i] = attrs.evolve(a, households=int(hh[k]))
            k += 1
    return Hierarchy.build(areas, URBAN, crs=crs)


def _code(s: StreetName) -> str:
    return s.code


def _tile_district(
    outline: Outline,
    grids: int,
    streets: list[StreetName],
    rng: np.random.Generator,
    households_max: int,
) -> list[Area]:
    d_code = AreaCode(outline.code)
    out = [
        Area(d_code, outline.name, "district", AreaCode(outline.code[:4]), polygon=outline.polygon)
    ]
    n_comm = min(max(-(-grids // 8), 1), grids)
    n_streets = len(streets) if streets else max(1, min(-(-n_comm // 10), 99))
    if n_streets > n_comm:
        n_comm = n_streets
    if n_comm > grids:
        raise ConfigError(f"district {outline.code}: {grids} grids cannot fill {n_streets} streets")
    street_cells = _cut(outline.polygon, n_streets, rng)
    s_area = np.array([c.area for c in street_cells])
    comm_per_street = _split(n_comm, s_area, cap=_MAX_COMMUNITIES)
    grid_per_street = _split(grids, s_area)
    for s, s_poly in enumerate(street_cells):
        if grid_per_street[s] < comm_per_street[s]:
            comm_per_street[s] = grid_per_street[s]
        if streets:
            s_code, s_name = AreaCode(streets[s].code), streets[s].name
        else:
            s_code, s_name = AreaCode(f"{d_code}{s + 1:03d}"), f"{outline.name} street {s + 1}"
        out.append(Area(s_code, s_name, "street", d_code, polygon=s_poly))
        comm_cells = _cut(s_poly, comm_per_street[s], rng)
        c_area = np.array([c.area for c in comm_cells])
        grid_per_comm = _split(grid_per_street[s], c_area, cap=_MAX_GRIDS)
        for c, c_poly in enumerate(comm_cells):
            c_code = AreaCode(f"{s_code}{c + 1:03d}")
            out.append(
                Area(c_code, f"{s_name} community {c + 1}", "community", s_code, polygon=c_poly)
            )
            for g, g_poly in enumerate(_cut(c_poly, grid_per_comm[c], rng)):
                out.append(
                    Area(
                        AreaCode(f"{c_code}{g + 1:02d}"),
                        f"{s_name} community {c + 1} grid {g + 1}",
                        "grid",
                        c_code,
                        households=households_max,  # drawn for every grid at the end
                        polygon=g_poly,
                    )
                )
    return out
