"""Coordinate systems: GCJ-02 and BD-09 against published pairs, pyproj behind projected CRSs."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.crs import (
    BD09,
    GCJ02,
    LOCAL,
    WGS84,
    CRSError,
    bd09_to_gcj02,
    converter,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    transform,
    wgs84_to_gcj02,
)
from gridcore.errors import CoordinateError, GridcoreError

# (wgs lon, wgs lat) -> (gcj lon, gcj lat): the eviltransform test vectors (Shanghai,
# Shenzhen, Beijing), reproduced by every port of it
EVILTRANSFORM = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
# coordtransform's README fixture at (116.404, 39.915), forward directions (exact formulas)
FORWARD_AT_TIANANMEN = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "wgs84_to_bd09": (116.41662724378733, 39.922699552216216),
}
# ... and its one-step approximate inverses, which ours (iterated) must improve on
APPROX_INVERSE_AT_TIANANMEN = {
    "gcj02_to_wgs84": (116.39775550083061, 39.91359571849836),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
}
ROUND_TRIP_BOUND_DEG = 1e-10  # ~10 µm; measured worst over 200,000 points: 6e-14


def pair(xy: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    return float(xy[0][0]), float(xy[1][0])


class TestPublishedPairs:
    @pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM)
    def test_wgs84_to_gcj02_matches_the_published_vectors(
        self, wgs: tuple[float, float], gcj: tuple[float, float]
    ) -> None:
        """The forward formula reproduces the eviltransform vectors to 1e-12 degrees."""
        got = pair(wgs84_to_gcj02(*wgs))
        assert got == pytest.approx(gcj, abs=1e-12)
        back = pair(gcj02_to_wgs84(*gcj))
        assert back == pytest.approx(wgs, abs=ROUND_TRIP_BOUND_DEG)

    def test_forward_formulas_match_the_coordtransform_fixture(self) -> None:
        """WGS84->GCJ-02, GCJ-02->BD-09 and WGS84->BD-09 at Tiananmen, to 1e-12 degrees."""
        x, y = 116.404, 39.915
        exp = FORWARD_AT_TIANANMEN
        assert pair(wgs84_to_gcj02(x, y)) == pytest.approx(exp["wgs84_to_gcj02"], abs=1e-12)
        assert pair(gcj02_to_bd09(x, y)) == pytest.approx(exp["gcj02_to_bd09"], abs=1e-12)
        assert pair(transform(x, y, WGS84, BD09)) == pytest.approx(exp["wgs84_to_bd09"], abs=1e-12)
        assert converter(WGS84, BD09).point(x, y) == pytest.approx(exp["wgs84_to_bd09"], abs=1e-12)

    def test_iterated_inverses_agree_with_the_one_step_ones_and_are_exact(self) -> None:
        """The published one-step inverses are within 1e-6° (~10 cm) of ours; ours round-trip."""
        x, y = 116.404, 39.915
        wgs = pair(gcj02_to_wgs84(x, y))
        gcj = pair(bd09_to_gcj02(x, y))
        assert wgs == pytest.approx(APPROX_INVERSE_AT_TIANANMEN["gcj02_to_wgs84"], abs=1e-6)
        assert gcj == pytest.approx(APPROX_INVERSE_AT_TIANANMEN["bd09_to_gcj02"], abs=1e-6)
        assert pair(wgs84_to_gcj02(*wgs)) == pytest.approx((x, y), abs=1e-12)
        assert pair(gcj02_to_bd09(*gcj)) == pytest.approx((x, y), abs=1e-12)

    @pytest.mark.parametrize(
        "point",
        [(139.767125, 35.681236), (-104.9903, 39.7392), (-43.1729, -22.9068), (2.35, 48.85)],
    )
    def test_gcj02_is_the_identity_outside_china(self, point: tuple[float, float]) -> None:
        """Tokyo, Denver, Rio, Paris: no offset either way."""
        assert pair(wgs84_to_gcj02(*point)) == point
        assert pair(gcj02_to_wgs84(*point)) == point
        assert converter(GCJ02, WGS84).point(*point) == point


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(73.5, 135.0), lat=st.floats(18.0, 53.5))
def test_round_trips_are_exact_to_the_stated_bound(lon: float, lat: float) -> None:
    """WGS84 -> GCJ-02 -> WGS84 and GCJ-02 -> BD-09 -> GCJ-02, arrays and single points."""
    for there, back in ((WGS84, GCJ02), (GCJ02, BD09), (WGS84, BD09)):
        u, v = converter(there, back).point(lon, lat)
        assert converter(back, there).point(u, v) == pytest.approx(
            (lon, lat), abs=ROUND_TRIP_BOUND_DEG
        )
        # numpy's and libm's sines may differ in the last bit
        assert pair(transform(lon, lat, there, back)) == pytest.approx((u, v), abs=1e-12)


class TestParse:
    @pytest.mark.parametrize(
        ("name", "crs"),
        [("wgs84", WGS84), ("EPSG:4326", WGS84), ("OGC:CRS84", WGS84), ("GCJ-02", GCJ02),
         ("gcj02", GCJ02), ("BD-09", BD09), ("local", LOCAL)],
    )  # fmt: skip
    def test_names_as_users_write_them(self, name: str, crs: object) -> None:
        """Aliases, case and hyphens are accepted."""
        assert parse_crs(name) == crs

    def test_a_projected_crs_in_metres_is_kept_by_its_name(self) -> None:
        """EPSG:32650 (UTM 50N) is a projected CRS in metres."""
        utm = parse_crs("EPSG:32650")
        assert utm.kind == "projected" and utm.metric and utm.name == "EPSG:32650"

    @pytest.mark.parametrize(
        ("name", "why"),
        [("EPSG:4490", "geographic"), ("EPSG:2263", "metres"), ("nonsense", "not known"),
         ("", "expected a name")],
    )  # fmt: skip
    def test_systems_that_are_not_supported_are_refused_by_name(self, name: str, why: str) -> None:
        """A geographic CRS other than WGS84, feet, or an unknown name: CRSError naming it."""
        with pytest.raises(CRSError, match=why):
            parse_crs(name)

    def test_a_local_plane_converts_to_nothing_else(self) -> None:
        """LOCAL has no anchor: converting into or out of it is refused."""
        with pytest.raises(CRSError, match="no anchor"):
            converter(LOCAL, WGS84)
        assert converter(LOCAL, LOCAL).point(1.0, 2.0) == (1.0, 2.0)

    def test_missing_pyproj_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without pyproj, a projected CRS is a CRSError telling which extra to install."""
        monkeypatch.setitem(sys.modules, "pyproj", None)
        converter.cache_clear()
        try:
            with pytest.raises(CRSError, match=r"gridcore\[geo\]"):
                parse_crs("EPSG:32650")
            # the Chinese systems need no extra
            assert converter(GCJ02, WGS84).point(121.0, 31.0) != (121.0, 31.0)
        finally:
            converter.cache_clear()


class TestProjected:
    def test_gcj02_to_utm_and_back(self) -> None:
        """Through WGS84 and pyproj: the round trip is exact to 1e-9 degrees."""
        x, y = converter(GCJ02, "EPSG:32650").point(116.404, 39.915)
        assert 400_000 < x < 500_000 and 4_400_000 < y < 4_500_000
        assert converter("EPSG:32650", GCJ02).point(x, y) == pytest.approx(
            (116.404, 39.915), abs=1e-9
        )

    def test_arrays_and_single_points_give_the_same_numbers(self) -> None:
        """`Converter.point` (floats) and the array call agree (to the last bits of a sine)."""
        conv = converter(BD09, "EPSG:32650")
        xs, ys = np.array([116.404, 121.5]), np.array([39.915, 31.2])
        ax, ay = conv(xs, ys)
        for i in range(2):
            assert conv.point(float(xs[i]), float(ys[i])) == pytest.approx((ax[i], ay[i]), abs=1e-6)

    def test_non_finite_points_are_refused_on_the_inverse(self) -> None:
        """The iterated inverse refuses NaN rather than looping."""
        with pytest.raises(CoordinateError, match="row 1"):
            gcj02_to_wgs84([116.0, float("nan")], [39.0, 39.0])
        with pytest.raises(GridcoreError):
            converter(GCJ02, WGS84).point(float("inf"), 39.0)
