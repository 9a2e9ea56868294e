"""Reading real district outlines: GeoJSON boundary files as Chinese map services publish them.

Such files are GCJ-02 lon/lat (unless told otherwise), their exterior rings
often clockwise, their `adcode` an integer, a district a MultiPolygon, some
with holes. `read_outlines` returns each feature as a `gridcore.tiling.Outline`
projected into one local transverse Mercator (metres) and that projection's
coordinate system; `read_street_names` reads a `code,name` CSV of real streets.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from gridcore.crs import GCJ02, WGS84, CoordinateSystem, converter, local_metric, parse_crs
from gridcore.errors import FileFormatError, GridcoreError
from gridcore.tiling import Outline, StreetName

__all__ = ["read_outlines", "read_street_names"]


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FileFormatError(str(path), "", "", f"a readable file ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            str(path), f"line {exc.lineno} column {exc.colno}", "", f"valid JSON ({exc.msg})"
        ) from None


def _features(data: Any, source: str) -> list[dict[str, Any]]:
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection" and isinstance(data.get("features"), list):
        return list(data["features"])
    if kind == "Feature":
        return [data]
    raise FileFormatError(source, "top level", "type", "a FeatureCollection or a Feature", kind)


def _adcode(props: dict[str, Any], source: str, where: str) -> str:
    value = props.get("adcode", props.get("code"))
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FileFormatError(source, where, "adcode", "a 6-digit administrative code", value)
    text = str(value).strip()
    if len(text) != 6 or not text.isdigit():
        raise FileFormatError(source, where, "adcode", "a 6-digit administrative code", value)
    return text


def read_outlines(
    path: str | os.PathLike[str], *, crs: CoordinateSystem | str = GCJ02
) -> tuple[tuple[Outline, ...], CoordinateSystem]:
    """The file's districts as outlines in metres, and the local projection they are in.

    `crs` is the file's coordinate system (GCJ-02 by default, as Chinese
    boundary files are). Rings of either orientation, MultiPolygons and holes are
    read as they are; an invalid polygon is repaired (`make_valid`) only when
    that keeps its area; errors name the feature and field.
    """
    p = Path(path)
    source = str(p)
    data = _load(p)
    system = parse_crs(crs)
    raw: list[tuple[str, str, Any]] = []
    for i, feat in enumerate(_features(data, source)):
        where = f"feature {i}"
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            raise FileFormatError(source, where, "properties", "an object", props)
        code = _adcode(props, source, where)
        where = f"feature {i} (adcode {code})"
        name = props.get("name")
        name = str(name) if name is not None else code
        try:
            geom = shapely.from_geojson(json.dumps(feat.get("geometry")))
        except Exception as exc:  # GEOSException or ValueError
            raise FileFormatError(source, where, "geometry", f"a GeoJSON polygon ({exc})") from None
        if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon) or geom.is_empty:
            raise FileFormatError(
                source,
                where,
                "geometry",
                "a Polygon or MultiPolygon",
                getattr(geom, "geom_type", geom),
            )
        raw.append((code, name, geom))
    if not raw:
        raise FileFormatError(source, "top level", "features", "at least one district")
    x0, y0, x1, y1 = shapely.total_bounds([g for _, _, g in raw])
    try:
        lon, lat = converter(system, WGS84).point((x0 + x1) / 2, (y0 + y1) / 2)
        metric = local_metric(lon, lat)
        to_m = converter(system, metric)
    except GridcoreError as exc:
        raise FileFormatError(source, "", "crs", f"lon/lat in {system} ({exc})") from None
    outlines: list[Outline] = []
    for code, name, geom in raw:
        projected = shapely.transform(geom, lambda xy: np.column_stack(to_m(xy[:, 0], xy[:, 1])))
        projected = shapely.normalize(projected)  # exterior rings clockwise or not: one form
        if not projected.is_valid:
            fixed = shapely.make_valid(projected)
            parts = [g for g in shapely.get_parts(fixed) if isinstance(g, shapely.Polygon)]
            fixed = shapely.MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else None)
            if fixed is None or abs(fixed.area - abs(projected.area)) > 1e-6 * abs(projected.area):
                raise FileFormatError(
                    source,
                    f"adcode {code}",
                    "geometry",
                    "a valid polygon",
                    shapely.is_valid_reason(projected),
                )
            projected = fixed
        try:
            outlines.append(Outline(code, name, projected))
        except GridcoreError as exc:
            raise FileFormatError(source, f"adcode {code}", "", str(exc)) from None
    return tuple(outlines), metric


def read_street_names(path: str | os.PathLike[str]) -> tuple[StreetName, ...]:
    """Streets from a CSV with `code` and `name` columns (one street a row, codes unique)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise FileFormatError(str(p), "", "", f"a readable file ({exc.strerror})") from None
    out: list[StreetName] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        if not name:
            raise FileFormatError(str(p), f"line {i}", "name", "a street name", row.get("name"))
        if code in seen:
            raise FileFormatError(str(p), f"line {i}", "code", "a code not used before", code)
        try:
            out.append(StreetName(code, name))
        except GridcoreError as exc:
            raise FileFormatError(str(p), f"line {i}", "code", str(exc), code) from None
        seen.add(code)
    if not out:
        raise FileFormatError(str(p), "", "", "at least one street row (columns code,name)")
    return tuple(out)
