"""Routing in real coordinate systems: points in another CRS, metres for lon/lat maps, files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely

from gridcore.crs import GCJ02, LOCAL, WGS84, CRSError, converter, parse_crs
from gridcore.errors import FileFormatError
from gridcore.hierarchy import Area, Hierarchy
from gridcore.ids import AreaCode
from gridcore.io.geojson import hierarchy_to_geojson, read_geojson, write_geojson
from gridcore.routing import RoutingIndex

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMMUNITY = AreaCode("420502001001")
# a 2 x 1 km block of Yichang (西陵区) in GCJ-02 lon/lat, cut into two grids at its middle
LON0, LAT0 = 111.28, 30.70
DLON, DLAT = 0.02, 0.009


def yichang_block(crs: str = "GCJ02") -> Hierarchy:
    polys = [
        shapely.box(LON0, LAT0, LON0 + DLON / 2, LAT0 + DLAT),
        shapely.box(LON0 + DLON / 2, LAT0, LON0 + DLON, LAT0 + DLAT),
    ]
    if crs != "GCJ02":
        conv = converter(GCJ02, crs)
        polys = list(
            shapely.transform(
                np.asarray(polys, dtype=object),
                lambda xy: np.column_stack(conv(xy[:, 0], xy[:, 1])),
            )
        )
    areas = [
        Area(AreaCode("4205"), "宜昌市", "city"),
        Area(AreaCode("420502"), "西陵区", "district", AreaCode("4205")),
        Area(AreaCode("420502001"), "西陵街道", "street", AreaCode("420502")),
        Area(COMMUNITY, "社区", "community", AreaCode("420502001")),
    ]
    for i, p in enumerate(polys):
        areas.append(
            Area(AreaCode(f"{COMMUNITY}{i + 1:02d}"), f"g{i + 1}", "grid", COMMUNITY, polygon=p)
        )
    return Hierarchy.build(areas, crs=crs)


class TestPointsInAnotherSystem:
    def test_a_wgs84_position_is_converted_before_it_is_located(self) -> None:
        """A GPS fix in WGS84 lands in the grid that holds its GCJ-02 image."""
        index = RoutingIndex.build(yichang_block())
        gx, gy = LON0 + DLON * 0.75, LAT0 + DLAT / 2  # in grid 2, in GCJ-02
        wx, wy = converter(GCJ02, WGS84).point(gx, gy)
        assert abs(wx - gx) > 1e-3  # the offset is hundreds of metres: not a no-op
        assert index.locate(gx, gy) == f"{COMMUNITY}02"
        assert index.locate(wx, wy, crs="WGS84") == f"{COMMUNITY}02"
        assert index.locate(wx, wy) != f"{COMMUNITY}02"  # read as GCJ-02, it lies elsewhere
        assert index.route(wx, wy, "C0101", NOW, crs=WGS84).grid == f"{COMMUNITY}02"
        assert index.locate_many([wx], [wy], crs="WGS84").tolist() == [1]
        bx, by = converter(GCJ02, "BD09").point(gx, gy)
        assert index.locate(bx, by, crs="BD-09") == f"{COMMUNITY}02"

    def test_a_hierarchy_in_a_projected_crs_takes_lon_lat_points(self) -> None:
        """A map in UTM 49N metres routes a WGS84 fix the same as its projected image."""
        h = yichang_block("EPSG:32649")
        index = RoutingIndex.build(h)
        assert index.frame == parse_crs("EPSG:32649") and index.crs == h.crs
        gx, gy = LON0 + DLON * 0.25, LAT0 + DLAT / 2
        wx, wy = converter(GCJ02, WGS84).point(gx, gy)
        assert index.locate(wx, wy, crs="WGS84") == f"{COMMUNITY}01"

    def test_a_local_plane_refuses_points_in_lon_lat(self) -> None:
        """A synthetic city has no anchor: a WGS84 point cannot be placed in it."""
        h = Hierarchy.build(yichang_block().areas, crs=LOCAL)
        index = RoutingIndex.build(h)
        with pytest.raises(CRSError, match="no anchor"):
            index.locate(111.0, 30.0, crs="WGS84")


class TestDistancesAreMetres:
    def test_snap_distance_on_a_lon_lat_map_is_in_metres(self) -> None:
        """On a GCJ-02 map the index measures in a local projection: 30 m out, snap 50 m."""
        h = yichang_block()
        index = RoutingIndex.build(h, snap=50.0)
        assert index.frame.kind == "projected"
        # 30 m east of the block's east edge (in the index's own metric frame)
        to_m = converter(GCJ02, index.frame)
        ex, ey = to_m.point(LON0 + DLON, LAT0 + DLAT / 2)
        x, y = converter(index.frame, GCJ02).point(ex + 30.0, ey)
        loc = index.locate_detail(x, y)
        assert loc.grid == f"{COMMUNITY}02" and loc.snapped
        assert loc.distance == pytest.approx(30.0, abs=0.5)
        far = index.locate_detail(*converter(index.frame, GCJ02).point(ex + 80.0, ey))
        assert far.grid is None and far.distance == pytest.approx(80.0, abs=1.0)

    def test_distances_to_a_lon_lat_map_are_metres(self) -> None:
        """0.01° east of the block at latitude 30.7 is ~957 m away, and buckets are metres."""
        index = RoutingIndex.build(yichang_block())
        assert index.stats()["bucket_size"] > 1  # metres wide, not degrees
        d = index.locate_nearest(LON0 + DLON + 0.01, LAT0 + DLAT / 2)[1]
        assert d == pytest.approx(0.01 * 111_320 * np.cos(np.radians(30.7)), rel=0.01)


class TestFiles:
    def test_the_crs_is_written_and_read_back(self, tmp_path: Path) -> None:
        """write_geojson states the CRS; read_geojson restores it."""
        h = yichang_block()
        data = hierarchy_to_geojson(h)
        assert data["gridcore"]["crs"] == "GCJ02"
        back = read_geojson(write_geojson(h, tmp_path / "c.geojson"))
        assert back.crs == GCJ02
        utm = read_geojson(write_geojson(yichang_block("EPSG:32649"), tmp_path / "u.geojson"))
        assert utm.crs == parse_crs("EPSG:32649")

    def test_files_without_a_statement_follow_their_kind(self, tmp_path: Path) -> None:
        """A gridcore file without `crs` is LOCAL (written before CRSs); a plain GeoJSON WGS84."""
        data = hierarchy_to_geojson(yichang_block())
        del data["gridcore"]["crs"]
        p = tmp_path / "old.geojson"
        p.write_text(json.dumps(data), encoding="utf-8")
        assert read_geojson(p).crs == LOCAL
        del data["gridcore"]
        p.write_text(json.dumps(data), encoding="utf-8")
        assert read_geojson(p).crs == WGS84
        data["crs"] = {"type": "name", "properties": {"name": "EPSG:32649"}}
        p.write_text(json.dumps(data), encoding="utf-8")
        assert read_geojson(p).crs == parse_crs("EPSG:32649")
        assert read_geojson(p, crs="GCJ02").crs == GCJ02

    def test_an_unknown_crs_in_a_file_is_a_format_error_naming_it(self, tmp_path: Path) -> None:
        """`gridcore.crs` = "Mars" is refused, naming the file, the field and the value."""
        data = hierarchy_to_geojson(yichang_block())
        data["gridcore"]["crs"] = "Mars"
        p = tmp_path / "bad.geojson"
        p.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(FileFormatError, match=r"gridcore.crs.*Mars"):
            read_geojson(p)
