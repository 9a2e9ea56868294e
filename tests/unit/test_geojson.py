"""GeoJSON at the edge: lossless round trips and errors that name the feature and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gridcore.errors import FileFormatError
from gridcore.io import hierarchy_to_geojson, read_geojson, write_geojson
from gridcore.synth import build_city


def test_round_trip_is_lossless(tmp_path: Path) -> None:
    """Write then read gives equal areas, scheme and version."""
    h = build_city("tianjin-pilot", seed=4)
    p = write_geojson(h, tmp_path / "city.geojson")
    h2 = read_geojson(p)
    assert h2.version == h.version and h2.scheme == h.scheme
    assert all(a == b for a, b in zip(h.areas, h2.areas, strict=True))


def test_features_carry_the_documented_properties(tmp_path: Path) -> None:
    """code, name, level (a name), parent, households on every feature."""
    h = build_city("shuanghu", seed=1)
    data = hierarchy_to_geojson(h)
    props = data["features"][-1]["properties"]
    assert {"code", "name", "level", "parent", "households"} <= set(props)
    assert props["level"] == "grid"


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "bad.geojson"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def test_missing_field_names_feature_and_field(tmp_path: Path) -> None:
    """A feature without households is named with its code and the field."""
    data = hierarchy_to_geojson(build_city("shuanghu", seed=1))
    del data["features"][5]["properties"]["households"]
    with pytest.raises(FileFormatError, match=r"feature 5 \(code '.*'\): field 'households'"):
        read_geojson(_write(tmp_path, data))


def test_wrong_level_name_is_refused(tmp_path: Path) -> None:
    """A level name that the scheme does not have is refused."""
    data = hierarchy_to_geojson(build_city("shuanghu", seed=1))
    data["features"][2]["properties"]["level"] = "ward"
    with pytest.raises(FileFormatError, match="field 'level'"):
        read_geojson(_write(tmp_path, data))


def test_invalid_json_names_line(tmp_path: Path) -> None:
    """Broken JSON names the line and column."""
    p = tmp_path / "broken.geojson"
    p.write_text('{"type": "FeatureCollection",\n "features": [}', encoding="utf-8")
    with pytest.raises(FileFormatError, match="line 2"):
        read_geojson(p)


def test_bad_hierarchy_in_file_is_refused(tmp_path: Path) -> None:
    """A structurally bad hierarchy names the file and the problem."""
    data = hierarchy_to_geojson(build_city("shuanghu", seed=1))
    data["features"][3]["properties"]["parent"] = "999999"
    with pytest.raises(FileFormatError, match=r"bad\.geojson"):
        read_geojson(_write(tmp_path, data))


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is half-written: a write that fails midway leaves the old file and no temp file."""
    h = build_city("shuanghu", seed=1)
    target = tmp_path / "x.geojson"
    target.write_text("old", encoding="utf-8")

    def boom(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("gridcore.io.atomic.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_geojson(h, target)
    assert [p.name for p in tmp_path.iterdir()] == ["x.geojson"]
    assert target.read_text(encoding="utf-8") == "old"


def test_written_file_has_the_usual_mode(tmp_path: Path) -> None:
    """The file is readable by others as any file is (not mkstemp's 0600)."""
    import os

    mask = os.umask(0o022)
    try:
        p = write_geojson(build_city("shuanghu", seed=1), tmp_path / "m.geojson")
    finally:
        os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o644
