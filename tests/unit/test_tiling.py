"""Tiling real outlines: GCJ-02 boundary files in, a seamless valid hierarchy in metres out."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from gridcore.crs import GCJ02, converter
from gridcore.errors import ConfigError, FileFormatError
from gridcore.gridcodes import check_grid_code
from gridcore.io.boundary import read_outlines, read_street_names
from gridcore.io.geojson import read_geojson
from gridcore.routing import RoutingIndex
from gridcore.tiling import StreetName, tile_outlines
from gridcore.validation import validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "boundaries" / "xiling-420502.geojson"
STREETS = ROOT / "examples" / "boundaries" / "xiling-streets.csv"


def ring(cx: float, cy: float, r: float, n: int, clockwise: bool) -> list[list[float]]:
    """A wobbly ring of `n` vertices around (cx, cy) in lon/lat, rounded as map services do."""
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n * (-1 if clockwise else 1)
        rr = r * (1 + 0.2 * math.sin(3 * t))
        pts.append([round(cx + rr * math.cos(t), 6), round(cy + 0.8 * rr * math.sin(t), 6)])
    return [*pts, pts[0]]


def boundary_file(tmp_path: Path, features: list[dict[str, object]]) -> Path:
    p = tmp_path / "boundary.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return p


def district(adcode: object, cx: float, with_hole: bool = True) -> dict[str, object]:
    """A GCJ-02 district: a clockwise MultiPolygon with a hole and an island."""
    main = [ring(cx, 30.7, 0.02, 30, clockwise=True)]
    if with_hole:
        main.append(ring(cx + 0.003, 30.7, 0.004, 10, clockwise=False))
    island = [ring(cx + 0.03, 30.69, 0.003, 8, clockwise=True)]
    return {
        "type": "Feature",
        "properties": {"adcode": adcode, "name": f"district {adcode}"},
        "geometry": {"type": "MultiPolygon", "coordinates": [main, island]},
    }


class TestReadOutlines:
    def test_a_gcj02_multipolygon_with_a_hole_and_a_clockwise_ring_is_read_in_metres(
        self, tmp_path: Path
    ) -> None:
        """Integer adcode, clockwise exterior, hole and island: one outline of ~10 km²."""
        outlines, metric = read_outlines(boundary_file(tmp_path, [district(420502, 111.3)]))
        (o,) = outlines
        assert o.code == "420502" and o.name == "district 420502"
        assert metric.kind == "projected" and "tmerc" in metric.name
        assert isinstance(o.polygon, shapely.MultiPolygon) and o.polygon.is_valid
        assert len(o.polygon.geoms[0].interiors) == 1
        assert 5e6 < o.polygon.area < 2e7  # metres², not degrees²
        # the projection reads the file as GCJ-02: its centre maps back onto the outline
        back = converter(metric, GCJ02).point(*o.polygon.geoms[0].centroid.coords[0])
        assert back[0] == pytest.approx(111.3, abs=0.01)

    @pytest.mark.parametrize(
        ("props", "field"),
        [({"adcode": "4205"}, "adcode"), ({"adcode": True}, "adcode"), ({}, "adcode")],
    )
    def test_a_feature_without_a_usable_adcode_is_refused_naming_it(
        self, tmp_path: Path, props: dict[str, object], field: str
    ) -> None:
        """No adcode, a short one or a boolean: FileFormatError naming the feature and field."""
        feat = district(420502, 111.3)
        feat["properties"] = props
        with pytest.raises(FileFormatError, match=rf"feature 0.*{field}"):
            read_outlines(boundary_file(tmp_path, [feat]))

    def test_a_city_level_adcode_is_refused(self, tmp_path: Path) -> None:
        """420500 is a city's code: a district is expected."""
        with pytest.raises(FileFormatError, match="county-level"):
            read_outlines(boundary_file(tmp_path, [district(420500, 111.3)]))

    def test_a_line_geometry_is_refused(self, tmp_path: Path) -> None:
        """A LineString is no outline."""
        feat = district(420502, 111.3)
        feat["geometry"] = {"type": "LineString", "coordinates": [[111, 30], [112, 31]]}
        with pytest.raises(FileFormatError, match="Polygon or MultiPolygon"):
            read_outlines(boundary_file(tmp_path, [feat]))


class TestTile:
    def test_the_tiling_is_seamless_inside_the_outline_and_validates(self, tmp_path: Path) -> None:
        """Two districts, 120 grids: validate finds nothing; every grid lies in its outline."""
        outlines, metric = read_outlines(
            boundary_file(tmp_path, [district(420502, 111.3), district(420503, 111.38, False)])
        )
        h = tile_outlines(outlines, 120, seed=3, crs=metric)
        assert len(h.grids) == 120 and h.crs == metric
        report = validate(h)
        assert report.ok, report.to_text()
        for o in outlines:
            grids = [h.area(g).polygon for g in h.grids_under(o.code)]
            assert all(g.code.startswith(o.code) for g in map(h.area, h.grids_under(o.code)))
            union = shapely.union_all(grids)
            assert shapely.symmetric_difference(union, o.polygon).area < 1e-3
            assert all(shapely.difference(g, o.polygon).area < 1e-6 for g in grids)
        # grids come out of similar size
        sizes = np.array([h.area(g).polygon.area for g in h.grids])
        assert sizes.max() / sizes.min() < 8

    def test_the_same_seed_gives_the_same_map_and_another_seed_another(self) -> None:
        """Reproducible: equal areas for equal seeds."""
        outlines, metric = read_outlines(EXAMPLE)
        a = tile_outlines(outlines, 60, seed=5, crs=metric)
        b = tile_outlines(outlines, 60, seed=5, crs=metric)
        c = tile_outlines(outlines, 60, seed=6, crs=metric)
        assert a.areas == b.areas
        assert a.areas != c.areas

    def test_codes_follow_the_urban_scheme_under_the_outline_and_the_named_streets(self) -> None:
        """Street codes and names from the CSV; communities and grids numbered beneath."""
        outlines, metric = read_outlines(EXAMPLE)
        streets = read_street_names(STREETS)
        h = tile_outlines(outlines, 200, seed=1, crs=metric, streets=streets)
        assert h.at_level("district") == ("420502",)
        assert {h.area(s).name for s in h.at_level("street")} == {s.name for s in streets}
        assert set(h.at_level("street")) == {s.code for s in streets}
        assert all(len(g) == 14 and g.startswith("420502") for g in h.grids)
        for g in h.grids:  # every code keeps the 14-digit standard's segment rules
            assert check_grid_code(g).segments[0] == "420502"

    def test_grids_route_points_given_in_gcj02(self) -> None:
        """The tiled map is in metres; a GCJ-02 point inside the outline finds its grid."""
        outlines, metric = read_outlines(EXAMPLE)
        h = tile_outlines(outlines, 50, seed=2, crs=metric)
        index = RoutingIndex.build(h, snap=25.0)
        assert index.locate(111.300, 30.710, crs="GCJ02") is not None
        assert index.locate(111.45, 30.9, crs="GCJ02") is None  # far outside

    def test_counts_that_do_not_fit_are_refused(self) -> None:
        """Fewer grids than districts, or a street under another district."""
        outlines, metric = read_outlines(EXAMPLE)
        with pytest.raises(ConfigError, match="grids"):
            tile_outlines(outlines, 0, seed=1, crs=metric)
        with pytest.raises(ConfigError, match="under no outline"):
            tile_outlines(
                outlines, 10, seed=1, crs=metric, streets=[StreetName("420503001", "elsewhere")]
            )
        with pytest.raises(ConfigError, match="9 digits"):
            StreetName("4205020010", "too long")


class TestStreetCsv:
    def test_a_duplicate_code_is_refused_naming_the_line(self, tmp_path: Path) -> None:
        """Line 3 repeats line 2's code."""
        p = tmp_path / "s.csv"
        p.write_text("code,name\n420502001,a\n420502001,b\n", "utf-8")
        with pytest.raises(FileFormatError, match="line 3"):
            read_street_names(p)


def test_cli_tiles_a_boundary_file_and_validate_passes(tmp_path: Path) -> None:
    """`gridcore city --boundary ... --streets ...` then `gridcore validate`: exit 0 twice."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = tmp_path / "xiling.geojson"
    args = ["--boundary", str(EXAMPLE), "--grids", "80", "--seed", "4", "--out", str(out)]
    run = subprocess.run(
        [sys.executable, "-m", "gridcore", "city", *args, "--streets", str(STREETS)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "80 grids" in run.stdout and "households/km²" in run.stdout
    check = subprocess.run(
        [sys.executable, "-m", "gridcore", "validate", str(out)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    h = read_geojson(out)
    assert h.crs.kind == "projected" and len(h.grids) == 80
    again = subprocess.run(
        [sys.executable, "-m", "gridcore", "city", *args], capture_output=True, text=True,
        env=env, check=False,
    )  # fmt: skip
    assert again.returncode == 2 and "exist" in again.stderr  # never overwrites silently
