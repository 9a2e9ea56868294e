"""Seeded synthetic cities: grids that tile the territory with no gap and no overlap.

The territory is cut recursively into rectangles (districts, streets,
communities, each a treemap of its children's grid counts); each community is
cut into Voronoi cells of seeded points, relaxed once so cells are of similar
size. Grids get households in a configured range and component counts scaled
by households. Coordinates are planar metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import shapely
from numpy.typing import NDArray

from gridcore.errors import ConfigError, UnknownItemError
from gridcore.hierarchy import URBAN, Area, Hierarchy
from gridcore.ids import AreaCode
from gridcore.staffing.policy import StaffingPolicy, get_policy
from gridcore.staffing.roster import Roster
from gridcore.synth.staff import staff_city

__all__ = [
    "DEFAULT_START",
    "PRESETS",
    "City",
    "CitySpec",
    "build_city",
    "preset_spec",
    "synthetic_city",
]

DEFAULT_START = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
"""When synthetic staff assignments start unless told otherwise (a fixed instant, not the clock)."""

# Components per household, from the Chongqing grid in DOMAIN.md (285 households).
_COMPONENT_RATES: dict[str, float] = {
    "compounds": 3 / 285,
    "buildings": 8 / 285,
    "malls": 8 / 285,
    "shopfronts": 65 / 285,
    "manholes": 18 / 285,
    "street_lamps": 31 / 285,
    "cameras": 20 / 285,
    "poles": 22 / 285,
    "septic_tanks": 3 / 285,
}


def _positive(inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ConfigError(f"city spec {attribute.name} = {value}: expected >= 1")


@attrs.frozen
class CitySpec:
    """How to make a synthetic city: counts per level, households range, density, seed."""

    name: str = "synthetic"
    grids: int = attrs.field(default=1_000, validator=_positive)
    districts: int = attrs.field(default=2, validator=_positive)
    streets: int = attrs.field(default=10, validator=_positive)
    communities: int = attrs.field(default=100, validator=_positive)
    households_min: int = 200
    households_max: int = 300
    households_per_km2: float = 4_000.0
    city_code: str = "4205"
    staffing: str = "full_duty"
    """Name of the staffing policy that the preset uses (see `gridcore.staffing`)."""
    staff_total: int | None = None
    """A head count to reach exactly (extra staff spread over grids), or None."""
    compounds_per_grid: int = 0
    """Compounds declared in each grid (for the 单元完整 check); 0 to declare none."""

    def __attrs_post_init__(self) -> None:
        if not (self.districts <= self.streets <= self.communities <= self.grids):
            raise ConfigError(
                f"city spec {self.name!r}: expected districts <= streets <= communities <= grids, "
                f"got {self.districts}, {self.streets}, {self.communities}, {self.grids}"
            )
        if self.streets > self.districts * 999 or self.communities > self.streets * 999:
            raise ConfigError(f"city spec {self.name!r}: at most 999 children per street/district")
        if self.grids > self.communities * 99:
            raise ConfigError(
                f"city spec {self.name!r}: {self.grids} grids in {self.communities} communities "
                "exceeds 99 grids a community (2-digit grid sequence)"
            )
        if self.districts > 99:
            raise ConfigError(f"city spec {self.name!r}: at most 99 districts")
        if not 1 <= self.households_min <= self.households_max:
            raise ConfigError(
                f"city spec {self.name!r}: households range "
                f"[{self.households_min}, {self.households_max}] is not valid"
            )
        if len(self.city_code) != 4 or not self.city_code.isdigit():
            raise ConfigError(f"city spec {self.name!r}: city_code {self.city_code!r}: 4 digits")


_CHONGQING_DISTRICTS = 38
"""Districts of the `chongqing-scale` preset (Chongqing has 38 district-level areas)."""

PRESETS: dict[str, CitySpec] = {
    "yichang": CitySpec(
        "yichang", grids=1_110, districts=5, streets=20, communities=112, staffing="full_duty"
    ),
    "yubei": CitySpec(
        "yubei",
        grids=3_311,
        districts=1,
        streets=19,
        communities=240,
        city_code="5001",
        staffing="yubei",
        staff_total=18_900,
    ),
    "shuanghu": CitySpec(
        "shuanghu",
        grids=12,
        districts=1,
        streets=1,
        communities=1,
        city_code="5001",
        staffing="two_per_grid",
        staff_total=24,
    ),
    "tianjin-pilot": CitySpec(
        "tianjin-pilot",
        grids=20,
        districts=1,
        streets=1,
        communities=1,
        city_code="1201",
        staffing="three_per_grid",
        compounds_per_grid=1,
    ),
    "xiling": CitySpec(
        "xiling", grids=100, districts=1, streets=1, communities=14, staffing="full_duty"
    ),
    "shibanxi": CitySpec(
        "shibanxi", grids=15, districts=1, streets=1, communities=1, staffing="full_duty"
    ),
    # A scale test, not a place: 38 districts, each of yubei's size and staffing.
    "chongqing-scale": CitySpec(
        "chongqing-scale",
        grids=_CHONGQING_DISTRICTS * 3_311,
        districts=_CHONGQING_DISTRICTS,
        streets=_CHONGQING_DISTRICTS * 19,
        communities=_CHONGQING_DISTRICTS * 240,
        city_code="5001",
        staffing="yubei",
        staff_total=_CHONGQING_DISTRICTS * 18_900,
    ),
}
"""Built-in presets: the places of DOMAIN.md section 5, and `chongqing-scale`, a synthetic
municipality of 38 districts at Yubei's density (125,818 grids, 722 streets, 718,200
staff) for testing scale. It is not Chongqing: no published figure describes it."""


def preset_spec(name: str) -> CitySpec:
    """The spec of a built-in preset; UnknownItemError listing the presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownItemError("preset", name, f"presets {sorted(PRESETS)}") from None


def _split_counts(total: int, parts: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """`parts` positive counts summing to `total`, roughly equal with seeded jitter."""
    weights = rng.uniform(0.7, 1.3, size=parts)
    raw = weights / weights.sum() * (total - parts)
    counts = np.floor(raw).astype(np.int64) + 1
    short = total - int(counts.sum())
    if short:
        order = np.argsort(-(raw - np.floor(raw)), kind="stable")[:short]
        counts[order] += 1
    return np.asarray(counts, dtype=np.int64)


def _cap_counts(counts: NDArray[np.int64], cap: int) -> NDArray[np.int64]:
    """Move the excess over `cap` to the smallest entries, keeping the sum."""
    counts = counts.copy()
    while (counts > cap).any():
        big = int(np.argmax(counts))
        small = int(np.argmin(counts))
        move = min(int(counts[big]) - cap, cap - int(counts[small]))
        counts[big] -= move
        counts[small] += move
    return counts


Rect = tuple[float, float, float, float]


def _treemap(rect: Rect, weights: Sequence[float]) -> list[Rect]:
    """Cut `rect` into rectangles with areas proportional to `weights`, near-square."""
    if len(weights) == 1:
        return [rect]
    x0, y0, x1, y1 = rect
    total = float(sum(weights))
    half = total / 2
    acc = 0.0
    cut = 1
    for i, w in enumerate(weights[:-1]):
        acc += w
        cut = i + 1
        if acc >= half:
            break
    share = sum(weights[:cut]) / total
    if (x1 - x0) >= (y1 - y0):
        xm = round(x0 + (x1 - x0) * share, 3)  # on the 1 mm lattice of the grids
        return _treemap((x0, y0, xm, y1), weights[:cut]) + _treemap((xm, y0, x1, y1), weights[cut:])
    ym = round(y0 + (y1 - y0) * share, 3)
    return _treemap((x0, y0, x1, ym), weights[:cut]) + _treemap((x0, ym, x1, y1), weights[cut:])


def _voronoi_cells(rect: Rect, k: int, rng: np.random.Generator) -> list[shapely.Polygon]:
    box = shapely.box(*rect)
    if k == 1:
        return [box]
    cells: NDArray[np.object_]
    x0, y0, x1, y1 = rect
    pts = np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])
    for _ in range(2):  # one Lloyd relaxation evens out the cell sizes
        vor = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box, ordered=True)
        cells = shapely.clip_by_rect(shapely.get_parts(vor), *rect)
        pts = shapely.get_coordinates(shapely.centroid(cells))
    # Snap to a 1 mm lattice so shared edges between cells are bit-identical.
    return list(shapely.transform(cells, lambda xy: np.round(xy, 3)))


def _grids(
    spec: CitySpec,
    c_code: AreaCode,
    cells: Sequence[shapely.Polygon],
    first: int,
    households: list[int],
    components: list[tuple[tuple[str, int], ...]],
) -> list[Area]:
    """The grids of one community: its Voronoi cells, numbered from `first` in the city."""
    return [
        Area(
            AreaCode(f"{c_code}{g + 1:02d}"),
            f"grid {first + g + 1}",
            "grid",
            c_code,
            households=households[g],
            polygon=cell,
            components=components[g],
            compounds=[f"{c_code}{g + 1:02d}-C{j + 1}" for j in range(spec.compounds_per_grid)],
        )
        for g, cell in enumerate(cells)
    ]


def build_city(spec: CitySpec | str = "yichang", seed: int = 0) -> Hierarchy:
    """Make a seeded synthetic city (urban scheme) from a spec or a preset name.

    The same spec and seed give the same city on any machine.

    >>> h = build_city("shuanghu", seed=1)
    >>> len(h.grids)
    12
    """
    if isinstance(spec, str):
        spec = preset_spec(spec)
    rng = np.random.default_rng(seed)
    households = rng.integers(spec.households_min, spec.households_max + 1, size=spec.grids)
    area_m2 = float(households.sum()) / spec.households_per_km2 * 1e6
    side = float(np.sqrt(area_m2))
    city_rect: Rect = (0.0, 0.0, round(side, 3), round(side, 3))

    comp_counts = rng.poisson(
        np.outer(households, np.array(list(_COMPONENT_RATES.values())))
    ).tolist()
    comp_columns = [(n, list(_COMPONENT_RATES).index(n)) for n in sorted(_COMPONENT_RATES)]
    grids_per_comm = _cap_counts(_split_counts(spec.grids, spec.communities, rng), 99)
    comm_per_street = _split_counts(spec.communities, spec.streets, rng)
    street_per_dist = _split_counts(spec.streets, spec.districts, rng)

    city_code = AreaCode(spec.city_code)
    areas: list[Area] = [Area(city_code, spec.name, "city", None, polygon=shapely.box(*city_rect))]
    grid_i = 0
    comm_i = 0
    street_i = 0
    # grid weight per district/street/community = its number of grids (equal density)
    street_bounds = np.concatenate(([0], np.cumsum(comm_per_street)))
    comm_bounds = np.concatenate(([0], np.cumsum(grids_per_comm)))
    dist_street_bounds = np.concatenate(([0], np.cumsum(street_per_dist)))

    def grids_in_streets(s0: int, s1: int) -> float:
        c0, c1 = int(street_bounds[s0]), int(street_bounds[s1])
        return float(comm_bounds[c1] - comm_bounds[c0])

    dist_weights = [
        grids_in_streets(int(dist_street_bounds[d]), int(dist_street_bounds[d + 1]))
        for d in range(spec.districts)
    ]
    for d, d_rect in enumerate(_treemap(city_rect, dist_weights)):
        d_code = AreaCode(f"{city_code}{d + 1:02d}")
        areas.append(
            Area(
                d_code,
                f"{spec.name} district {d + 1}",
                "district",
                city_code,
                polygon=shapely.box(*d_rect),
            )
        )
        n_streets = int(street_per_dist[d])
        s_weights = [grids_in_streets(street_i + s, street_i + s + 1) for s in range(n_streets)]
        for s, s_rect in enumerate(_treemap(d_rect, s_weights)):
            s_code = AreaCode(f"{d_code}{s + 1:03d}")
            areas.append(
                Area(
                    s_code, f"street {street_i + 1}", "street", d_code, polygon=shapely.box(*s_rect)
                )
            )
            n_comm = int(comm_per_street[street_i])
            c_weights = [float(grids_per_comm[comm_i + c]) for c in range(n_comm)]
            for c, c_rect in enumerate(_treemap(s_rect, c_weights)):
                c_code = AreaCode(f"{s_code}{c + 1:03d}")
                areas.append(
                    Area(
                        c_code,
                        f"community {comm_i + 1}",
                        "community",
                        s_code,
                        polygon=shapely.box(*c_rect),
                    )
                )
                k = int(grids_per_comm[comm_i])
                cells = _voronoi_cells(c_rect, k, rng)
                rows = [
                    tuple((n, comp_counts[grid_i + g][j]) for n, j in comp_columns)
                    for g in range(len(cells))
                ]
                hh = households[grid_i : grid_i + len(cells)].tolist()
                areas.extend(_grids(spec, c_code, cells, grid_i, hh, rows))
                grid_i += len(cells)
                comm_i += 1
            street_i += 1
    return Hierarchy.build(areas, URBAN)


@attrs.frozen
class City:
    """A synthetic city: its hierarchy, the staffing policy and the roster that fills it."""

    spec: CitySpec
    seed: int
    hierarchy: Hierarchy
    policy: StaffingPolicy
    roster: Roster


def synthetic_city(
    spec: CitySpec | str = "yichang",
    seed: int = 0,
    *,
    start: datetime = DEFAULT_START,
    policy: StaffingPolicy | str | None = None,
) -> City:
    """A seeded city with staff assigned by its preset's policy (or `policy`) from `start`.

    >>> city = synthetic_city("shuanghu", seed=1)
    >>> len(city.roster.people)
    24
    """
    if isinstance(spec, str):
        spec = preset_spec(spec)
    hierarchy = build_city(spec, seed)
    pol = get_policy(policy if policy is not None else spec.staffing)
    total = spec.staff_total if policy is None else None
    # the staff draw gets its own stream so that the map does not change with the policy
    roster = staff_city(hierarchy, pol, seed + 1_000_003, start, staff_total=total)
    return City(spec, seed, hierarchy, pol, roster)
