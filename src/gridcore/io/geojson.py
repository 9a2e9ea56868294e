"""Hierarchies to and from GeoJSON: one feature per area.

Each feature's properties hold `code`, `name`, `level` (the level's name),
`parent` and `households`, plus optional `components`, `compounds` and
`neighbours`. The collection's top-level `gridcore` member names the scheme
and version, and `crs` the coordinate system of the coordinates (`WGS84`,
`GCJ02`, `BD09`, a projected CRS such as `EPSG:32650` or a PROJ string, or
`LOCAL` for the unanchored planar metres of synthetic cities). Coordinates are
written as they are held. Reading: the `gridcore.crs` member when present; a
gridcore file without it was written before coordinate systems (`LOCAL`); any
other GeoJSON is WGS84 as RFC 7946 says, unless its legacy `crs` member names
another system. Writing is atomic: a temporary file is renamed into place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shapely

from gridcore.crs import LOCAL, WGS84, CoordinateSystem, parse_crs
from gridcore.errors import FileFormatError, GridcoreError
from gridcore.gridcodes import GRID_SCHEMES
from gridcore.hierarchy import MAX_HOUSEHOLDS, SCHEMES, URBAN, Area, Hierarchy, LevelScheme
from gridcore.io.atomic import write_text_atomic

__all__ = ["hierarchy_from_geojson", "hierarchy_to_geojson", "read_geojson", "write_geojson"]

_FORMAT = "gridcore-hierarchy"


def _round(coords: Any, digits: int | None) -> Any:
    if digits is None:
        return coords
    if isinstance(coords, float):
        return round(coords, digits)
    if isinstance(coords, list | tuple):
        return [_round(c, digits) for c in coords]
    return coords


def hierarchy_to_geojson(hierarchy: Hierarchy, *, digits: int | None = None) -> dict[str, Any]:
    """The hierarchy as a GeoJSON FeatureCollection (a plain dict)."""
    features: list[dict[str, Any]] = []
    leaf = hierarchy.scheme.leaf_level
    for a in hierarchy.areas:
        props: dict[str, Any] = {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent": a.parent,
            "households": a.households if a.level == leaf else hierarchy.households(a.code),
        }
        if a.components:
            props["components"] = dict(a.components)
        if a.compounds:
            props["compounds"] = list(a.compounds)
        if a.neighbours:
            props["neighbours"] = list(a.neighbours)
        geom = None
        if a.polygon is not None:
            geom = json.loads(shapely.to_geojson(a.polygon))
            if digits is not None:
                geom["coordinates"] = _round(geom["coordinates"], digits)
        features.append({"type": "Feature", "id": a.code, "properties": props, "geometry": geom})
    return {
        "type": "FeatureCollection",
        "gridcore": {
            "format": _FORMAT,
            "scheme": hierarchy.scheme.name,
            "version": hierarchy.version,
            "retired": sorted(hierarchy.retired),
            "crs": hierarchy.crs.name,
        },
        "features": features,
    }


def write_geojson(hierarchy: Hierarchy, path: str | os.PathLike[str]) -> Path:
    """Write the hierarchy to `path` atomically; returns the path written."""
    target = Path(path)
    text = json.dumps(hierarchy_to_geojson(hierarchy), ensure_ascii=False, separators=(",", ":"))
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(target, text)


def _need(
    props: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    path: str,
    where: str,
    expected: str,
    *,
    optional: bool = False,
) -> Any:
    if key not in props or props[key] is None:
        if optional:
            return None
        raise FileFormatError(path, where, key, expected, "missing")
    value = props[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise FileFormatError(path, where, key, expected, value)
    return value


def _crs_of(data: dict[str, Any], meta: Any, source: str) -> CoordinateSystem:
    """The file's coordinate system: gridcore's member, else the legacy `crs` member, else WGS84."""
    if isinstance(meta, dict) and meta:
        value: Any = meta.get("crs", LOCAL.name)
        where = "gridcore.crs"
    else:
        legacy = data.get("crs")
        if legacy is None:
            return WGS84
        value = legacy.get("properties", {}).get("name") if isinstance(legacy, dict) else legacy
        where = "crs"
    try:
        return parse_crs(value)
    except GridcoreError as exc:
        raise FileFormatError(
            source, "top level", where, f"a coordinate system ({exc})", value
        ) from None


def hierarchy_from_geojson(
    data: Any,
    *,
    source: str = "<geojson>",
    scheme: LevelScheme | None = None,
    crs: CoordinateSystem | str | None = None,
) -> Hierarchy:
    """Build a hierarchy from a parsed GeoJSON FeatureCollection; errors name feature and field.

    `crs` overrides the coordinate system the file states (see the module docstring).
    """
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise FileFormatError(
            source,
            "top level",
            "type",
            "a GeoJSON FeatureCollection",
            data.get("type") if isinstance(data, dict) else type(data).__name__,
        )
    meta = data.get("gridcore")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FileFormatError(source, "top level", "gridcore", "an object of metadata", meta)
    if scheme is None:
        scheme = _scheme_of(meta, source)
    system = parse_crs(crs) if crs is not None else _crs_of(data, meta, source)
    version = meta.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**31:
        raise FileFormatError(
            source, "top level", "gridcore.version", "a whole number >= 1", version
        )
    retired = meta.get("retired", [])
    if not isinstance(retired, list) or not all(isinstance(c, str) for c in retired):
        raise FileFormatError(
            source, "top level", "gridcore.retired", "a list of retired area codes", retired
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise FileFormatError(source, "top level", "features", "a list of features", features)
    areas = [_area_of(feat, i, scheme, source) for i, feat in enumerate(features)]
    try:
        return Hierarchy.build(areas, scheme, version=int(version), retired=retired, crs=system)
    except GridcoreError as exc:
        raise FileFormatError(source, "", "", f"a valid hierarchy ({exc})") from exc


def _scheme_of(meta: Mapping[str, Any], source: str) -> LevelScheme:
    """The level scheme the file's metadata names (URBAN when it names none)."""
    name = meta.get("scheme", URBAN.name)
    known = {**SCHEMES, **GRID_SCHEMES}
    if not isinstance(name, str) or name not in known:
        raise FileFormatError(
            source, "top level", "gridcore.scheme", f"one of {sorted(known)}", name
        )
    return known[name]


def _area_of(feat: Any, i: int, scheme: LevelScheme, source: str) -> Area:
    """The area of feature `i`; FileFormatError naming the feature and the field."""
    where = f"feature {i}"
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        raise FileFormatError(source, where, "type", "'Feature'", feat)
    props = feat.get("properties")
    if not isinstance(props, dict):
        raise FileFormatError(source, where, "properties", "an object", props)
    code = _need(props, "code", str, source, where, "a code string")
    where = f"feature {i} (code {code!r})"
    name = _need(props, "name", str, source, where, "a name string")
    level = _need(
        props,
        "level",
        str,
        source,
        where,
        f"a level name of scheme {scheme.name!r}: {list(scheme.level_names)}",
    )
    if level not in scheme.level_names:
        raise FileFormatError(source, where, "level", f"one of {list(scheme.level_names)}", level)
    top, leaf = scheme.level_names[0], scheme.leaf_level
    parent = _need(
        props,
        "parent",
        str,
        source,
        where,
        f"the parent's code (null only at the top level, {top!r})",
        optional=level == top,
    )
    households = _need(
        props,
        "households",
        int,
        source,
        where,
        f"a whole number in [0, {MAX_HOUSEHOLDS:,}]",
        optional=level != leaf,
    )
    if households is not None and not 0 <= households <= MAX_HOUSEHOLDS:
        raise FileFormatError(
            source,
            where,
            "households",
            f"a whole number in [0, {MAX_HOUSEHOLDS:,}]",
            households,
        )
    components, compounds, neighbours = _extras_of(props, source, where)
    polygon = _polygon_of(feat.get("geometry"), source, where)
    try:
        return Area(
            code,
            name,
            level,
            parent,
            households=households if level == leaf and households is not None else 0,
            polygon=polygon,
            components=components,
            compounds=compounds,
            neighbours=neighbours,
        )
    except GridcoreError as exc:
        raise FileFormatError(source, where, "", str(exc)) from None


def _extras_of(
    props: Mapping[str, Any], source: str, where: str
) -> tuple[dict[str, Any] | None, list[str] | None, list[str] | None]:
    """A feature's optional component counts, compound ids and neighbour codes."""
    components = _need(
        props, "components", dict, source, where, "an object of component counts", optional=True
    )
    if components is not None:
        for k, v in components.items():
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_HOUSEHOLDS:
                raise FileFormatError(
                    source, where, f"components.{k}", f"a count in [0, {MAX_HOUSEHOLDS:,}]", v
                )
    compounds = _need(
        props, "compounds", list, source, where, "a list of compound ids", optional=True
    )
    if compounds is not None and not all(isinstance(c, str) for c in compounds):
        raise FileFormatError(
            source, where, "compounds", "a list of compound ids (strings)", compounds
        )
    neighbours = _need(props, "neighbours", list, source, where, "a list of codes", optional=True)
    if neighbours is not None and not all(isinstance(c, str) for c in neighbours):
        raise FileFormatError(source, where, "neighbours", "a list of codes", neighbours)
    return components, compounds, neighbours


def _polygon_of(
    geom: Any, source: str, where: str
) -> shapely.Polygon | shapely.MultiPolygon | None:
    """A feature's geometry as a shapely Polygon or MultiPolygon (None without one)."""
    if geom is None:
        return None
    try:
        polygon = shapely.from_geojson(json.dumps(geom))
    except Exception as exc:  # shapely raises GEOSException or ValueError
        raise FileFormatError(
            source,
            where,
            "geometry",
            f"a GeoJSON Polygon or MultiPolygon ({exc})",
            geom.get("type") if isinstance(geom, dict) else geom,
        ) from None
    if not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon):
        raise FileFormatError(
            source, where, "geometry", "a Polygon or MultiPolygon", polygon.geom_type
        )
    return polygon


def read_geojson(
    path: str | os.PathLike[str],
    *,
    scheme: LevelScheme | None = None,
    crs: CoordinateSystem | str | None = None,
) -> Hierarchy:
    """Read a hierarchy written by `write_geojson` (or a FeatureCollection like it)."""
    from gridcore.io.text import read_text

    p = Path(path)
    text = read_text(p, "a GeoJSON file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            str(p), f"line {exc.lineno} column {exc.colno}", "", f"valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise FileFormatError(str(p), "", "", "JSON nested less deeply") from None
    return hierarchy_from_geojson(data, source=str(p), scheme=scheme, crs=crs)
