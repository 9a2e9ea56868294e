"""Dynamic adjustment (动态调整): split a grid, merge adjacent grids, trace codes over versions.

Each operation returns a new `Hierarchy` (version + 1; the old one is never
changed) and a `Lineage` mapping every old code to its new codes and back.
Lineages compose over versions, so anything keyed by an old code (cases,
assignments) can be re-homed with `rehome`. Households, components, compounds
and covered area are conserved; a change that would not conserve them is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import attrs
import numpy as np
import shapely

from gridcore.errors import ConfigError, HierarchyError, LineageError, UnknownItemError
from gridcore.hierarchy import Area, Hierarchy
from gridcore.ids import AreaCode

__all__ = [
    "GridPart",
    "Lineage",
    "merge_grids",
    "rehome",
    "split_grid",
    "split_grid_in_two",
]

V = TypeVar("V")

CodeMap = Mapping[AreaCode, tuple[AreaCode, ...]]


def _frozen_map(value: Mapping[str, Iterable[str]]) -> CodeMap:
    return MappingProxyType({AreaCode(k): tuple(AreaCode(c) for c in v) for k, v in value.items()})


@attrs.frozen
class Lineage:
    """How the codes of version `from_version` became those of `to_version`.

    Only changed codes are stored; a code present in both versions and not
    changed maps to itself. Asking about a code known to neither side raises
    `UnknownItemError`.
    """

    from_version: int
    to_version: int
    old_codes: frozenset[AreaCode] = attrs.field(repr=False)
    new_codes: frozenset[AreaCode] = attrs.field(repr=False)
    forward_changes: CodeMap = attrs.field(converter=_frozen_map)
    backward_changes: CodeMap = attrs.field(converter=_frozen_map)

    @classmethod
    def identity(cls, hierarchy: Hierarchy) -> Lineage:
        """The lineage of a version to itself (the neutral element of `then`)."""
        codes = frozenset(a.code for a in hierarchy.areas)
        return cls(hierarchy.version, hierarchy.version, codes, codes, {}, {})

    def forward(self, code: str) -> tuple[AreaCode, ...]:
        """The codes in the new version that an old code became (itself if unchanged)."""
        if code not in self.old_codes:
            raise UnknownItemError("area", code, f"lineage v{self.from_version} (old side)")
        return self.forward_changes.get(AreaCode(code), (AreaCode(code),))

    def backward(self, code: str) -> tuple[AreaCode, ...]:
        """The codes in the old version that a new code came from (itself if unchanged)."""
        if code not in self.new_codes:
            raise UnknownItemError("area", code, f"lineage v{self.to_version} (new side)")
        return self.backward_changes.get(AreaCode(code), (AreaCode(code),))

    @property
    def retired(self) -> frozenset[AreaCode]:
        """Old codes that no longer exist in the new version."""
        return self.old_codes - self.new_codes

    @property
    def created(self) -> frozenset[AreaCode]:
        """New codes that did not exist in the old version."""
        return self.new_codes - self.old_codes

    def then(self, other: Lineage) -> Lineage:
        """This lineage followed by `other` (v1 -> v2 then v2 -> v3 gives v1 -> v3).

        >>> from gridcore.synth import build_city
        >>> h1 = build_city("shuanghu", seed=1)
        >>> h2, a = split_grid_in_two(h1, h1.grids[0])
        >>> h3, b = merge_grids(h2, a.forward(h1.grids[0]))
        >>> a.then(b).forward(h1.grids[0]) == b.forward(a.forward(h1.grids[0])[0])
        True
        """
        if self.to_version != other.from_version:
            raise LineageError(
                f"cannot chain lineage v{self.from_version}->v{self.to_version} with "
                f"v{other.from_version}->v{other.to_version}: expected the second to start "
                f"at v{self.to_version}"
            )
        if self.new_codes != other.old_codes:
            diff = sorted(self.new_codes ^ other.old_codes)[:5]
            raise LineageError(
                f"cannot chain lineages at v{self.to_version}: their code sets differ "
                f"(e.g. {diff}); they describe different hierarchies"
            )
        fwd: dict[AreaCode, tuple[AreaCode, ...]] = {}
        for old in {
            *self.forward_changes,
            *(c for c in other.forward_changes if c in self.old_codes),
        }:
            out = _dedupe(n for mid in self.forward(old) for n in other.forward(mid))
            if out != (old,):
                fwd[old] = out
        bwd: dict[AreaCode, tuple[AreaCode, ...]] = {}
        for new in {
            *other.backward_changes,
            *(c for c in self.backward_changes if c in other.new_codes),
        }:
            out = _dedupe(o for mid in other.backward(new) for o in self.backward(mid))
            if out != (new,):
                bwd[new] = out
        return Lineage(
            self.from_version,
            other.to_version,
            self.old_codes,
            other.new_codes,
            dict(sorted(fwd.items())),
            dict(sorted(bwd.items())),
        )


def _dedupe(codes: Iterable[AreaCode]) -> tuple[AreaCode, ...]:
    return tuple(sorted(set(codes)))


def rehome(
    mapping: Mapping[str, V],
    lineage: Lineage,
    *,
    on_split: Literal["all", "refuse"] | Callable[[AreaCode, V, tuple[AreaCode, ...]], str] = "all",
) -> dict[AreaCode, tuple[V, ...]]:
    """Re-key values held by old codes (cases, assignments) by the new codes.

    A merged grid collects the values of all its old grids. For an old code
    that was split, `on_split` decides: "all" puts the value under every new
    code (an assignment covers every part until changed), "refuse" raises
    LineageError, and a function `(old_code, value, new_codes) -> new_code`
    picks one (e.g. by the case's location). Keys come out sorted.
    """
    out: dict[AreaCode, list[V]] = {}
    for old, value in mapping.items():
        targets = lineage.forward(old)
        if len(targets) > 1:
            if on_split == "refuse":
                raise LineageError(
                    f"code {old!r} was split into {', '.join(targets)} between "
                    f"v{lineage.from_version} and v{lineage.to_version}: say where its value goes"
                )
            if callable(on_split):
                chosen = on_split(AreaCode(old), value, targets)
                if chosen not in targets:
                    raise LineageError(
                        f"code {old!r}: chose {chosen!r}, expected one of {', '.join(targets)}"
                    )
                targets = (AreaCode(chosen),)
        for t in targets:
            out.setdefault(t, []).append(value)
    return {k: tuple(out[k]) for k in sorted(out)}


def _components_tuple(
    value: Mapping[str, int] | Iterable[tuple[str, int]] | None,
) -> tuple[tuple[str, int], ...] | None:
    if value is None:
        return None
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), int(v)) for k, v in items))


def _compounds_tuple(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(sorted(value))


@attrs.frozen
class GridPart:
    """One part of a grid being split: its polygon, households and optional details.

    Left as None, `components` are shared out by household share, `compounds`
    all go to the first part, `name` is the old name with a suffix and `code`
    is the next free code under the parent.
    """

    households: int
    polygon: Any = attrs.field(default=None, repr=False)
    name: str | None = None
    compounds: tuple[str, ...] | None = attrs.field(default=None, converter=_compounds_tuple)
    components: tuple[tuple[str, int], ...] | None = attrs.field(
        default=None, converter=_components_tuple
    )
    code: AreaCode | None = None


# -- codes --------------------------------------------------------------------------
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _next_codes(h: Hierarchy, parent: AreaCode | None, n: int, like: AreaCode) -> list[AreaCode]:
    """`n` fresh leaf codes under `parent`: never an existing or retired code."""
    scheme = h.scheme
    siblings = h.children(parent) if parent is not None else h.roots
    if scheme.kind == "digits":
        width = scheme.levels[-1].width or 2
        prefix = parent or ""
        used = {
            int(c[len(prefix) :])
            for c in (*siblings, *h.retired)
            if c.startswith(prefix) and len(c) == len(prefix) + width
        }
        top = 10**width - 1
        # after the highest sequence ever used, then the holes (never 00: the whole community)
        candidates = [*range(max(used, default=0) + 1, top + 1), *range(1, top + 1)]
        out: list[AreaCode] = []
        for seq in candidates:
            if seq not in used:
                used.add(seq)
                out.append(AreaCode(f"{prefix}{seq:0{width}d}"))
                if len(out) == n:
                    return out
        raise HierarchyError(
            f"area {parent!r}: no free {width}-digit grid sequence left for {n} new grids "
            f"(existing and retired codes are never reused)"
        )
    sep = scheme.separator
    head = f"{parent}{sep}" if parent is not None else ""
    taken = {c for c in (*siblings, *h.retired) if c.startswith(head) and sep not in c[len(head) :]}
    seg = like[len(head) :]
    m = _NUMBERED.match(seg)
    stem, width = (m.group(1), len(m.group(2))) if m else (f"{seg}-", 1)
    nums = [
        int(mm.group(2))
        for c in taken
        if (mm := _NUMBERED.match(c[len(head) :])) is not None and mm.group(1) == stem
    ]
    k = max(nums, default=0) + 1
    out = []
    while len(out) < n:
        code = AreaCode(f"{head}{stem}{k:0{width}d}")
        if code not in taken:
            out.append(code)
        k += 1
    return out


# -- split ------------------------------------------------------------------------------
def _share(total: int, weights: Sequence[float]) -> list[int]:
    """`total` shared in proportion to `weights`, largest remainders first; sums exactly."""
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    raw = w / w.sum() * total
    out = np.floor(raw).astype(np.int64)
    short = total - int(out.sum())
    order = np.argsort(-(raw - out), kind="stable")[:short]
    out[order] += 1
    return [int(x) for x in out]


def _leaf(h: Hierarchy, code: str, what: str) -> Area:
    area = h.area(code)
    if area.level != h.scheme.leaf_level:
        raise HierarchyError(
            f"cannot {what} {code!r}: it is a {area.level!r}, expected a {h.scheme.leaf_level!r}"
        )
    return area


def _touches(a: Any, b: Any, eps: float) -> bool:
    return a is None or b is None or bool(shapely.dwithin(a, b, eps))


def split_grid(
    hierarchy: Hierarchy,
    code: str,
    parts: Sequence[GridPart],
    *,
    tolerance: float = 1e-6,
) -> tuple[Hierarchy, Lineage]:
    """Split a grid into explicit parts; the new version and its lineage.

    Refused (HierarchyError naming the grid) unless there are two parts or
    more, their households add up to the grid's, and, when the grid has a
    polygon, the parts' polygons are valid and cover it exactly (symmetric
    difference and overlaps within `tolerance`, in area units).
    """
    h = hierarchy
    old = _leaf(h, code, "split")
    if len(parts) < 2:
        raise HierarchyError(f"split of {code!r}: {len(parts)} part given, expected 2 or more")
    _check_tolerance(tolerance)
    hh = [p.households for p in parts]
    if any(x < 0 for x in hh) or sum(hh) != old.households:
        raise HierarchyError(
            f"split of {code!r}: parts hold {hh} households (sum {sum(hh)}), "
            f"expected non-negative counts summing to {old.households}"
        )
    polys = [p.polygon for p in parts]
    if old.polygon is None:
        if any(p is not None for p in polys):
            raise HierarchyError(
                f"split of {code!r}: the grid has no polygon, so its parts cannot have one"
            )
    else:
        _check_cover(code, old.polygon, polys, tolerance)
    compounds = _split_compounds(code, old, parts)
    components = _split_components(code, old, parts)
    given = [p.code for p in parts if p.code is not None]
    auto = iter(_next_codes(h, old.parent, len(parts) - len(given), old.code))
    codes = [p.code if p.code is not None else next(auto) for p in parts]
    for c in given:
        _check_fresh(h, c, old)
    if len(set(codes)) != len(codes):
        raise HierarchyError(f"split of {code!r}: part codes repeat: {codes}")
    eps = max(tolerance, 1e-12) ** 0.5 * 1e-3  # a length far below any real feature
    new_areas = [
        Area(
            c,
            p.name if p.name is not None else f"{old.name}-{k + 1}",
            old.level,
            old.parent,
            households=p.households,
            polygon=p.polygon,
            components=comps,
            compounds=comp,
            neighbours=tuple(
                {
                    nb
                    for nb in old.neighbours
                    if nb in h and _touches(p.polygon, h.area(nb).polygon, eps)
                }
                | ({x for x in codes if x != c} if old.polygon is None else set())
            ),
        )
        for k, (c, p, comps, comp) in enumerate(
            zip(codes, parts, components, compounds, strict=True)
        )
    ]
    touched = _relink(h, old.code, new_areas, eps)
    touched.update(_snap_neighbours(h, old, new_areas, tolerance, eps, base=touched))
    new_h = h.replace_areas(
        [old.code, *touched], [*new_areas, *touched.values()], retire=[old.code]
    )
    lineage = Lineage(
        h.version,
        new_h.version,
        frozenset(a.code for a in h.areas),
        frozenset(a.code for a in new_h.areas),
        {old.code: tuple(sorted(codes))},
        {c: (old.code,) for c in codes},
    )
    return new_h, lineage


def _check_tolerance(tolerance: float) -> None:
    if not tolerance >= 0:
        raise ConfigError(f"tolerance {tolerance!r}: expected an area >= 0")


def _check_fresh(h: Hierarchy, code: str, old: Area) -> None:
    if code in h or code in h.retired:
        raise HierarchyError(
            f"split of {old.code!r}: part code {code!r} is already in use or retired"
        )
    if h.scheme.parent_code(code) != old.parent:
        raise HierarchyError(
            f"split of {old.code!r}: part code {code!r} is not a child code of {old.parent!r}"
        )


def _check_cover(code: str, grid: Any, polys: Sequence[Any], tol: float) -> None:
    if any(p is None for p in polys):
        missing = [i for i, p in enumerate(polys) if p is None]
        raise HierarchyError(f"split of {code!r}: parts {missing} have no polygon")
    for i, p in enumerate(polys):
        if not isinstance(p, shapely.Polygon | shapely.MultiPolygon) or not shapely.is_valid(p):
            reason = shapely.is_valid_reason(p) if isinstance(p, shapely.Geometry) else type(p)
            raise HierarchyError(f"split of {code!r}: part {i} is not a valid polygon ({reason})")
    union = shapely.union_all(polys)
    overlap = float(sum(shapely.area(p) for p in polys) - shapely.area(union))
    if overlap > tol:
        raise HierarchyError(
            f"split of {code!r}: parts overlap by {overlap:.6g}, expected at most {tol:g}"
        )
    diff = float(shapely.area(shapely.symmetric_difference(union, grid)))
    if diff > tol:
        raise HierarchyError(
            f"split of {code!r}: parts differ from the grid by {diff:.6g} of area "
            f"(gap or spill), expected at most {tol:g}"
        )


def _split_compounds(code: str, old: Area, parts: Sequence[GridPart]) -> list[tuple[str, ...]]:
    if all(p.compounds is None for p in parts):
        return [old.compounds if i == 0 else () for i in range(len(parts))]
    given = [p.compounds or () for p in parts]
    flat = [c for g in given for c in g]
    if sorted(flat) != sorted(old.compounds):
        raise HierarchyError(
            f"split of {code!r}: parts declare compounds {sorted(flat)}, expected each of "
            f"{list(old.compounds)} exactly once (a compound is not cut in two, 单元完整)"
        )
    return given


def _split_components(
    code: str, old: Area, parts: Sequence[GridPart]
) -> list[tuple[tuple[str, int], ...]]:
    if all(p.components is None for p in parts):
        shares = {k: _share(v, [p.households for p in parts]) for k, v in old.components}
        return [
            tuple((k, shares[k][i]) for k, _ in old.components if shares[k][i])
            for i in range(len(parts))
        ]
    given = [p.components or () for p in parts]
    total: dict[str, int] = {}
    for g in given:
        for k, v in g:
            total[k] = total.get(k, 0) + v
    if {k: v for k, v in total.items() if v} != {k: v for k, v in old.components if v}:
        raise HierarchyError(
            f"split of {code!r}: parts' components add up to {dict(sorted(total.items()))}, "
            f"expected {dict(old.components)}"
        )
    return given


def _relink(
    h: Hierarchy, old_code: AreaCode, new_areas: Sequence[Area], eps: float
) -> dict[AreaCode, Area]:
    """Grids that declared `old_code` as a neighbour now declare the new grids they touch."""
    out: dict[AreaCode, Area] = {}
    olds = {a.code for a in new_areas} | {old_code}
    for g in h.grids:
        a = h.area(g)
        if g in olds or old_code not in a.neighbours:
            continue
        nbs = {n for n in a.neighbours if n != old_code}
        nbs |= {n.code for n in new_areas if _touches(a.polygon, n.polygon, eps)}
        out[a.code] = attrs.evolve(a, neighbours=tuple(nbs))
    return out


def _snap_neighbours(
    h: Hierarchy,
    old: Area,
    new_areas: Sequence[Area],
    tol: float,
    eps: float,
    base: Mapping[AreaCode, Area],
) -> dict[AreaCode, Area]:
    """Neighbours get the new boundary vertices inserted, so shared edges stay identical.

    Without this a cut point lies a rounding error off the neighbour's edge, and
    the neighbour test (interiors apart, boundaries sharing a line) fails.
    """
    if old.polygon is None:
        return {}
    polys = h.grid_polygons()
    grids = h.grids
    near = np.flatnonzero(shapely.dwithin(polys, old.polygon, eps))
    ref = shapely.union_all([shapely.boundary(a.polygon) for a in new_areas])
    out: dict[AreaCode, Area] = {}
    for i in near:
        g = grids[i]
        if g == old.code:
            continue
        poly = polys[i]
        snapped = shapely.snap(poly, ref, eps)
        if (
            shapely.equals_exact(snapped, poly, 0.0)
            or not shapely.is_valid(snapped)
            or not isinstance(snapped, shapely.Polygon | shapely.MultiPolygon)
            or abs(float(shapely.area(snapped)) - float(shapely.area(poly))) > tol
        ):
            continue
        out[g] = attrs.evolve(base.get(g, h.area(g)), polygon=snapped)
    return out


def split_grid_in_two(
    hierarchy: Hierarchy,
    code: str,
    *,
    axis: Literal["auto", "x", "y"] = "auto",
    fraction: float = 0.5,
    tolerance: float = 1e-6,
) -> tuple[Hierarchy, Lineage]:
    """Cut a grid's polygon by a straight line into two parts; the new version and lineage.

    `axis="x"` cuts with a vertical line (left part first), `"y"` with a
    horizontal one (lower part first), `"auto"` across the longer side of the
    bounding box. The line is placed so the first part holds `fraction` of the
    area; households and components are shared by area, conserving the totals.

    >>> from gridcore.synth import build_city
    >>> h = build_city("shuanghu", seed=1)
    >>> h2, lineage = split_grid_in_two(h, h.grids[0])
    >>> len(h2.grids), h2.total_households == h.total_households
    (13, True)
    """
    h = hierarchy
    old = _leaf(h, code, "split")
    if old.polygon is None:
        raise HierarchyError(
            f"cannot cut {code!r} in two: it has no polygon (use split_grid with explicit parts)"
        )
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"split of {code!r}: fraction = {fraction!r}, expected 0 < fraction < 1")
    if axis not in ("auto", "x", "y"):
        raise ConfigError(f"split of {code!r}: axis = {axis!r}, expected 'auto', 'x' or 'y'")
    poly = old.polygon
    x0, y0, x1, y1 = poly.bounds
    if axis == "auto":
        axis = "x" if (x1 - x0) >= (y1 - y0) else "y"
    pad = max(x1 - x0, y1 - y0) + 1.0

    total = float(shapely.area(poly))
    lo, hi = (x0, x1) if axis == "x" else (y0, y1)
    target = fraction * total
    for _ in range(60):  # bisection: the area left of the line grows with the line
        mid = (lo + hi) / 2
        left = shapely.intersection(poly, _half_box(axis, mid, poly.bounds, pad, lower=True))
        if float(shapely.area(left)) < target:
            lo = mid
        else:
            hi = mid
    cut = (lo + hi) / 2
    first, second = (
        _polygonal(shapely.intersection(poly, _half_box(axis, cut, poly.bounds, pad, lower=side)))
        for side in (True, False)
    )
    if first is None or second is None:
        raise HierarchyError(f"cannot cut {code!r} in two along {axis}: a part would be empty")
    share = float(shapely.area(first)) / total
    h1 = round(old.households * share)
    k = round(len(old.compounds) * share)
    parts = [
        GridPart(h1, first, compounds=old.compounds[:k]),
        GridPart(old.households - h1, second, compounds=old.compounds[k:]),
    ]
    return split_grid(h, code, parts, tolerance=tolerance)


def _half_box(
    axis: str, c: float, bounds: tuple[float, float, float, float], pad: float, *, lower: bool
) -> Any:
    """The half-plane (a big box) left of / below the cut at `c`, or right of / above it."""
    x0, y0, x1, y1 = bounds
    if axis == "x":
        return (
            shapely.box(x0 - pad, y0 - pad, c, y1 + pad)
            if lower
            else shapely.box(c, y0 - pad, x1 + pad, y1 + pad)
        )
    return (
        shapely.box(x0 - pad, y0 - pad, x1 + pad, c)
        if lower
        else shapely.box(x0 - pad, c, x1 + pad, y1 + pad)
    )


def _polygonal(geom: Any) -> Any:
    """The polygonal part of an intersection (None if there is none)."""
    polys = [
        g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and not g.is_empty
    ]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


# -- merge ------------------------------------------------------------------------------
def merge_grids(
    hierarchy: Hierarchy,
    codes: Sequence[str],
    *,
    name: str | None = None,
    tolerance: float = 1e-6,
) -> tuple[Hierarchy, Lineage]:
    """Merge adjacent grids of one parent into a new grid; the new version and lineage.

    Households, components and compounds are summed; the polygon is the union.
    Refused (HierarchyError naming the codes) for fewer than two distinct
    codes, grids under different parents, or grids that are not connected by
    shared boundaries (declared neighbours count).
    """
    h = hierarchy
    _check_tolerance(tolerance)
    uniq = sorted({AreaCode(c) for c in codes})
    if len(uniq) < 2:
        raise HierarchyError(f"merge of {list(codes)}: expected two or more distinct grids")
    areas = [_leaf(h, c, "merge") for c in uniq]
    parents = {a.parent for a in areas}
    if len(parents) != 1:
        by_parent = ", ".join(f"{a.code} under {a.parent}" for a in areas)
        raise HierarchyError(
            f"merge of {', '.join(uniq)}: grids have different parents ({by_parent})"
        )
    eps = max(tolerance, 1e-12) ** 0.5 * 1e-3
    _check_connected(areas, eps)
    polys = [a.polygon for a in areas]
    if all(p is not None for p in polys):
        polygon = shapely.union_all(polys)
        if isinstance(polygon, shapely.GeometryCollection | shapely.MultiPolygon):
            polygon = _polygonal(polygon)
    elif all(p is None for p in polys):
        polygon = None
    else:
        missing = [a.code for a in areas if a.polygon is None]
        raise HierarchyError(
            f"merge of {', '.join(uniq)}: {', '.join(missing)} have no polygon while the others do"
        )
    parent = areas[0].parent
    (new_code,) = _next_codes(h, parent, 1, uniq[0])
    comps: dict[str, int] = {}
    for a in areas:
        for k, v in a.components:
            comps[k] = comps.get(k, 0) + v
    merged = Area(
        new_code,
        name if name is not None else " + ".join(a.name for a in areas),
        areas[0].level,
        parent,
        households=sum(a.households for a in areas),
        polygon=polygon,
        components=comps,
        compounds=[c for a in areas for c in a.compounds],
        neighbours=tuple({n for a in areas for n in a.neighbours} - set(uniq)),
    )
    gone = set(uniq)
    touched: dict[AreaCode, Area] = {}
    for g in h.grids:
        a = h.area(g)
        if g not in gone and gone & set(a.neighbours):
            touched[g] = attrs.evolve(a, neighbours=(*(set(a.neighbours) - gone), new_code))
    new_h = h.replace_areas([*uniq, *touched], [merged, *touched.values()], retire=uniq)
    lineage = Lineage(
        h.version,
        new_h.version,
        frozenset(a.code for a in h.areas),
        frozenset(a.code for a in new_h.areas),
        {c: (new_code,) for c in uniq},
        {new_code: tuple(uniq)},
    )
    return new_h, lineage


def _check_connected(areas: Sequence[Area], eps: float) -> None:
    """The grids must form one piece through shared boundaries."""
    codes = [a.code for a in areas]
    members = set(codes)
    links: dict[AreaCode, set[AreaCode]] = {c: set() for c in codes}
    # Declared neighbours, then geometry among these few grids only: asking the
    # hierarchy would build its neighbour table for the whole city.
    for a in areas:
        for nb in a.neighbours:
            if nb in members:
                links[a.code].add(nb)
                links[nb].add(a.code)
    for i, a in enumerate(areas):
        for b in areas[i + 1 :]:
            if b.code not in links[a.code] and _share_edge(a.polygon, b.polygon, eps):
                links[a.code].add(b.code)
                links[b.code].add(a.code)
    seen = {codes[0]}
    stack = [codes[0]]
    while stack:
        for nb in links[stack.pop()]:
            if nb not in seen:
                seen.add(nb)
                stack.append(nb)
    if seen != members:
        apart = sorted(members - seen)
        raise HierarchyError(
            f"merge of {', '.join(codes)}: {', '.join(apart)} share no boundary with "
            f"{', '.join(sorted(seen))}; only adjacent grids can be merged"
        )


def _share_edge(a: Any, b: Any, eps: float) -> bool:
    """A boundary of positive length in common, allowing a rounding error off the edge."""
    if a is None or b is None or not shapely.dwithin(a, b, eps):
        return False
    if shapely.relate_pattern(a, b, "F***1****"):
        return True
    near = shapely.intersection(shapely.boundary(a), shapely.buffer(shapely.boundary(b), eps))
    return float(shapely.length(near)) > 1e3 * eps
