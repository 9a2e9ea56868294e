"""Coordinate systems: WGS84, GCJ-02, BD-09 (lon/lat), projected CRSs in metres, local planes.

Chinese map services publish GCJ-02 (高德, 腾讯) or BD-09 (百度) coordinates; GPS
and Open311 positions are WGS84. GCJ-02 and BD-09 are not EPSG datums but
published obfuscations of WGS84, implemented here (no maintained, typed and
vectorised package does it; the formulas are short and public):

- WGS84 -> GCJ-02: the forward formula (Krasovsky ellipsoid constants, the
  sine series in ``lon - 105``, ``lat - 35``); the identity outside China's
  rectangle (72.004..137.8347 E, 0.8293..55.8271 N), as every implementation does.
- GCJ-02 -> WGS84: the forward formula inverted by fixed-point iteration until
  the forward image is within 1e-12 degrees (~0.1 µm) of the input.
- GCJ-02 <-> BD-09: Baidu's published rotation-and-scale; BD-09 -> GCJ-02
  iterated the same way so that the round trip is exact to 1e-12 degrees.

Projected CRSs (EPSG codes or PROJ strings, in metres) go through pyproj, the
`gridcore[geo]` extra, imported only when one is used. `LOCAL` is a plane in
metres with no anchor on the Earth (the synthetic cities): nothing converts
into or out of it. This module does no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from gridcore.errors import CoordinateError, GridcoreError

__all__ = [
    "BD09",
    "GCJ02",
    "LOCAL",
    "WGS84",
    "CRSError",
    "Converter",
    "CoordinateSystem",
    "bd09_to_gcj02",
    "converter",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "local_metric",
    "out_of_china",
    "parse_crs",
    "transform",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]
Kind = Literal["geographic", "projected", "local"]


class CRSError(GridcoreError, ValueError):
    """A coordinate system that is unknown, or a conversion that cannot be made."""


@attrs.frozen
class CoordinateSystem:
    """A coordinate system by name: `WGS84`, `GCJ02`, `BD09`, `LOCAL`, or a projected definition.

    `name` is what files store (``"EPSG:32650"``, a PROJ string...); `kind` is
    ``geographic`` (lon/lat degrees, x = longitude), ``projected`` (metres) or
    ``local`` (metres, unanchored).
    """

    name: str
    kind: Kind

    @property
    def metric(self) -> bool:
        """True when coordinates are metres (projected or local)."""
        return self.kind != "geographic"

    def __str__(self) -> str:
        return self.name


WGS84 = CoordinateSystem("WGS84", "geographic")
"""GPS, Open311, RFC 7946 GeoJSON: longitude, latitude in degrees (EPSG:4326, x = lon)."""
GCJ02 = CoordinateSystem("GCJ02", "geographic")
"""China's obfuscated lon/lat (高德, 腾讯 and most boundary files)."""
BD09 = CoordinateSystem("BD09", "geographic")
"""Baidu's lon/lat, a further offset of GCJ-02."""
LOCAL = CoordinateSystem("LOCAL", "local")
"""A plane in metres with no anchor on the Earth (synthetic cities)."""

_ALIASES: dict[str, CoordinateSystem] = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "epsg:4326": WGS84,
    "crs84": WGS84,
    "ogc:crs84": WGS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": WGS84,
    "urn:ogc:def:crs:epsg::4326": WGS84,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "local": LOCAL,
}


def _pyproj() -> Any:
    try:
        import pyproj
    except ImportError:
        raise CRSError(
            "projected coordinate systems need pyproj: install the extra with "
            "`pip install 'gridcore[geo]'`"
        ) from None
    return pyproj


def parse_crs(value: str | CoordinateSystem) -> CoordinateSystem:
    """The coordinate system named by `value` (case and hyphens as users write them).

    WGS84 (also EPSG:4326, CRS84), GCJ02 (GCJ-02), BD09 (BD-09), LOCAL, or any
    projected CRS in metres that pyproj knows (EPSG code, PROJ string, WKT).
    CRSError naming the value otherwise (a geographic EPSG other than 4326, a
    CRS in feet, an unknown name), or naming the `gridcore[geo]` extra when
    pyproj is needed and missing.
    """
    if isinstance(value, CoordinateSystem):
        return value
    if not isinstance(value, str) or not value.strip():
        raise CRSError(f"coordinate system {value!r}: expected a name such as 'WGS84' or 'EPSG:…'")
    known = _ALIASES.get(value.strip().lower())
    if known is not None:
        return known
    pyproj = _pyproj()
    try:
        crs = pyproj.CRS.from_user_input(value.strip())
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"coordinate system {value!r}: not known to PROJ ({exc})") from None
    if crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return WGS84
    if not crs.is_projected:
        raise CRSError(
            f"coordinate system {value!r}: a geographic CRS other than WGS84; expected WGS84, "
            "GCJ02, BD09 or a projected CRS in metres"
        )
    units = {ax.unit_name for ax in crs.axis_info}
    if not units <= {"metre", "meter"}:
        raise CRSError(f"coordinate system {value!r}: units {sorted(units)}, expected metres")
    return CoordinateSystem(value.strip(), "projected")


def local_metric(lon: float, lat: float) -> CoordinateSystem:
    """A transverse Mercator in metres centred on (lon, lat) WGS84: areas and distances
    within a city are true to ~1e-5 (for tiling and measuring a real outline)."""
    if not (math.isfinite(lon) and math.isfinite(lat) and abs(lat) < 85):
        raise CRSError(f"local projection centre ({lon!r}, {lat!r}): expected a lon/lat point")
    return CoordinateSystem(
        f"+proj=tmerc +lat_0={lat:.6f} +lon_0={lon:.6f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +towgs84=0,0,0 +units=m +no_defs +type=crs",
        "projected",
    )


# -- GCJ-02 and BD-09 ---------------------------------------------------------------------

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the published formula uses
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-12
_MAX_ROUNDS = 30


def out_of_china(lon: Any, lat: Any) -> NDArray[np.bool_]:
    """True where a point lies outside the rectangle in which GCJ-02 offsets apply."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    out: NDArray[np.bool_] = (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)
    return out


def _offsets(lon: Any, lat: Any, m: Any) -> tuple[Any, Any]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat); `m` is math or numpy."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * m.sin(6.0 * x * pi) + 20.0 * m.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(m.fabs(x))
    dlat += common
    dlat += (20.0 * m.sin(y * pi) + 40.0 * m.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * m.sin(y / 12.0 * pi) + 320.0 * m.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(m.fabs(x))
    dlon += common
    dlon += (20.0 * m.sin(x * pi) + 40.0 * m.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * m.sin(x / 12.0 * pi) + 300.0 * m.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * m.sin(rad) ** 2
    sqrt_magic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * m.cos(rad) * pi)
    return dlon, dlat


def _arrays(lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
    x = np.array(lon, dtype=np.float64, ndmin=1)
    y = np.array(lat, dtype=np.float64, ndmin=1)
    if x.shape != y.shape:
        raise CoordinateError(f"coordinates: lon has shape {x.shape} and lat {y.shape}")
    return x, y


def _outside_rectangle(x: float, y: float) -> bool:
    return x < 72.004 or x > 137.8347 or y < 0.8293 or y > 55.8271


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
    """WGS84 lon/lat -> GCJ-02 (arrays; the identity outside China)."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _offsets(x, y, np)
    keep = out_of_china(x, y)
    return np.where(keep, x, x + dlon), np.where(keep, y, y + dlat)


def _wgs84_to_gcj02_point(x: float, y: float) -> tuple[float, float]:
    if _outside_rectangle(x, y):
        return x, y
    dlon, dlat = _offsets(x, y, math)
    return x + dlon, y + dlat


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat -> BD-09 (Baidu's published formula)."""
    x, y = _arrays(lon, lat)
    return _gcj02_to_bd09(x, y, np)


def _gcj02_to_bd09(x: Any, y: Any, m: Any) -> tuple[Any, Any]:
    atan2 = math.atan2 if m is math else np.arctan2
    z = m.sqrt(x * x + y * y) + 0.00002 * m.sin(y * _X_PI)
    theta = atan2(y, x) + 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _gcj02_to_bd09_point(x: float, y: float) -> tuple[float, float]:
    u, v = _gcj02_to_bd09(x, y, math)
    return float(u), float(v)


def _invert(
    forward: Callable[[Any, Any], tuple[Any, Any]], x: FloatArray, y: FloatArray, what: str
) -> tuple[FloatArray, FloatArray]:
    """Solve forward(u, v) = (x, y) by fixed-point iteration (the offsets vary slowly)."""
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CoordinateError(f"{what}: row {i} ({x[i]!r}, {y[i]!r}) is not a finite point")
    u, v = x.copy(), y.copy()
    for _ in range(_MAX_ROUNDS):
        fx, fy = forward(u, v)
        ex, ey = fx - x, fy - y
        u -= ex
        v -= ey
        if (
            max(float(np.abs(ex).max(initial=0)), float(np.abs(ey).max(initial=0)))
            <= _TOLERANCE_DEG
        ):
            break
    return u, v


def _invert_point(
    forward: Callable[[float, float], tuple[float, float]], x: float, y: float, what: str
) -> tuple[float, float]:
    if not (math.isfinite(x) and math.isfinite(y)):
        raise CoordinateError(f"{what}: ({x!r}, {y!r}) is not a finite point")
    u, v = x, y
    for _ in range(_MAX_ROUNDS):
        fx, fy = forward(u, v)
        ex, ey = fx - x, fy - y
        u -= ex
        v -= ey
        if abs(ex) <= _TOLERANCE_DEG and abs(ey) <= _TOLERANCE_DEG:
            break
    return u, v


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat -> WGS84, the forward formula inverted to 1e-12 degrees."""
    x, y = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, x, y, "GCJ-02 to WGS84")


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
    """BD-09 lon/lat -> GCJ-02: the published approximation refined by iteration to 1e-12°."""
    x, y = _arrays(lon, lat)
    return _invert(gcj02_to_bd09, x, y, "BD-09 to GCJ-02")


# -- conversions between any two ----------------------------------------------------------

Convert = Callable[[Any, Any], tuple[Any, Any]]


def _same(x: Any, y: Any) -> tuple[Any, Any]:
    return x, y


def _gcj02_to_wgs84_point(x: float, y: float) -> tuple[float, float]:
    return _invert_point(_wgs84_to_gcj02_point, x, y, "GCJ-02 to WGS84")


def _bd09_to_gcj02_point(x: float, y: float) -> tuple[float, float]:
    return _invert_point(_gcj02_to_bd09_point, x, y, "BD-09 to GCJ-02")


# (to WGS84, from WGS84) for arrays, then for single points
_ARRAYS: dict[CoordinateSystem, tuple[Convert, Convert]] = {
    WGS84: (_same, _same),
    GCJ02: (gcj02_to_wgs84, wgs84_to_gcj02),
    BD09: (
        lambda x, y: gcj02_to_wgs84(*bd09_to_gcj02(x, y)),
        lambda x, y: gcj02_to_bd09(*wgs84_to_gcj02(x, y)),
    ),
}
_POINTS: dict[CoordinateSystem, tuple[Convert, Convert]] = {
    WGS84: (_same, _same),
    GCJ02: (_gcj02_to_wgs84_point, _wgs84_to_gcj02_point),
    BD09: (
        lambda x, y: _gcj02_to_wgs84_point(*_bd09_to_gcj02_point(x, y)),
        lambda x, y: _gcj02_to_bd09_point(*_wgs84_to_gcj02_point(x, y)),
    ),
}


def _projections(crs: CoordinateSystem) -> tuple[Convert, Convert]:
    """(to WGS84, from WGS84) through pyproj, for arrays and floats alike."""
    pyproj = _pyproj()
    inv = pyproj.Transformer.from_crs(crs.name, "EPSG:4326", always_xy=True)
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs.name, always_xy=True)

    def run(tr: Any, x: Any, y: Any) -> tuple[Any, Any]:
        try:
            return tr.transform(x, y, errcheck=True)  # type: ignore[no-any-return]
        except pyproj.exceptions.ProjError as exc:
            raise CoordinateError(
                f"coordinates cannot be converted between {crs} and WGS84: {exc}"
            ) from None

    def to_wgs(x: Any, y: Any) -> tuple[Any, Any]:
        return run(inv, x, y)

    def from_wgs(x: Any, y: Any) -> tuple[Any, Any]:
        return run(fwd, x, y)

    return to_wgs, from_wgs


@attrs.frozen
class Converter:
    """Converts coordinates from `source` to `target` (through WGS84 lon/lat); built once.

    Call it on arrays; `point` converts one point with plain floats (no numpy).
    """

    source: CoordinateSystem
    target: CoordinateSystem
    _many: Convert = attrs.field(repr=False)
    _one: Convert = attrs.field(repr=False)

    def __call__(self, xs: Any, ys: Any) -> tuple[FloatArray, FloatArray]:
        x, y = _arrays(xs, ys)
        u, v = self._many(x, y)
        return np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)

    def point(self, x: float, y: float) -> tuple[float, float]:
        """One point converted (floats in, floats out)."""
        u, v = self._one(float(x), float(y))
        return float(u), float(v)


@lru_cache(maxsize=64)
def converter(source: str | CoordinateSystem, target: str | CoordinateSystem) -> Converter:
    """The converter from `source` to `target` (cached); CRSError into or out of LOCAL."""
    src, dst = parse_crs(source), parse_crs(target)
    if src == dst:
        return Converter(src, dst, _same, _same)
    if LOCAL in (src, dst):
        raise CRSError(
            f"cannot convert from {src} to {dst}: a LOCAL plane has no anchor on the Earth"
        )
    to_many, to_one = _chain(src, 0)
    from_many, from_one = _chain(dst, 1)
    return Converter(
        src,
        dst,
        lambda x, y: from_many(*to_many(x, y)),
        lambda x, y: from_one(*to_one(x, y)),
    )


def _chain(crs: CoordinateSystem, way: int) -> tuple[Convert, Convert]:
    if crs in _ARRAYS:
        return _ARRAYS[crs][way], _POINTS[crs][way]
    proj = _projections(crs)[way]
    return proj, proj


def transform(
    xs: Any, ys: Any, source: str | CoordinateSystem, target: str | CoordinateSystem
) -> tuple[FloatArray, FloatArray]:
    """Coordinates converted from `source` to `target` (arrays; x = longitude for lon/lat)."""
    return converter(source, target)(xs, ys)
