"""Readers give only typed errors, naming the file, feature or field, the value and what
was expected (the examples of issue 14; the fuzz in test_fuzz_readers.py covers the class)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely

from gridcore.errors import FileFormatError, GridcoreError, HierarchyError
from gridcore.hierarchy import Area, Hierarchy
from gridcore.io.geojson import hierarchy_from_geojson, hierarchy_to_geojson, read_geojson
from gridcore.io.staff_csv import read_roster_csv
from gridcore.io.taxonomy import read_taxonomy
from gridcore.sim.scenario import load_scenario
from gridcore.sweep import load_sweep
from gridcore.synth import build_city

CITY = build_city("shibanxi", seed=1)
DOC = hierarchy_to_geojson(CITY)


def _grid_feature(doc: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in doc["features"] if f["properties"]["level"] == "grid")


READERS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "geojson": ("city.geojson", read_geojson),
    "scenario toml": ("s.toml", load_scenario),
    "scenario json": ("s.json", load_scenario),
    "sweep": ("sweep.toml", load_sweep),
    "taxonomy json": ("t.json", read_taxonomy),
    "taxonomy toml": ("t.toml", read_taxonomy),
    "roster csv": ("people.csv", lambda p: read_roster_csv(p, p.with_name("a.csv"))),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_non_utf8_bytes_name_the_file_and_the_byte(tmp_path: Path, reader: str) -> None:
    """Latin-1 bytes where UTF-8 is expected: a FileFormatError naming the file."""
    name, read = READERS[reader]
    path = tmp_path / name
    path.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    (tmp_path / "a.csv").write_bytes(b"person,role,area,start,end\r\n")
    with pytest.raises(FileFormatError) as info:
        read(path)
    assert name in str(info.value) and "UTF-8" in str(info.value)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_device_or_folder_is_refused_not_read_forever(tmp_path: Path, reader: str) -> None:
    """/dev/zero (endless) or a folder where a file is expected: refused at once."""
    _, read = READERS[reader]
    for target in (Path("/dev/zero"), tmp_path):
        if not target.exists():
            continue
        with pytest.raises(GridcoreError):
            read(target)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "2"),
        ("version", True),
        ("version", 2.5),
        ("retired", 5),
        ("retired", [1, 2]),
        ("scheme", 3),
        ("scheme", ["urban"]),
        ("scheme", "martian"),
    ],
)
def test_geojson_metadata_of_the_wrong_type(field: str, value: Any) -> None:
    """gridcore.version / retired / scheme of the wrong type: named with the value."""
    doc = json.loads(json.dumps(DOC))
    doc["gridcore"][field] = value
    with pytest.raises(FileFormatError) as info:
        hierarchy_from_geojson(doc, source="city.geojson")
    e = info.value
    assert e.path == "city.geojson" and e.field == f"gridcore.{field}" and e.got == value


def test_geojson_metadata_that_is_not_an_object() -> None:
    """A `gridcore` member that is a string is refused, not ignored."""
    doc = json.loads(json.dumps(DOC))
    doc["gridcore"] = "urban"
    with pytest.raises(FileFormatError, match="'gridcore'"):
        hierarchy_from_geojson(doc, source="city.geojson")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("households", 1e30),
        ("households", 10**30),
        ("households", "250"),
        ("households", 2.5),
        ("households", True),
        ("compounds", {"a": 1}),
        ("compounds", [1, 2]),
        ("neighbours", "4205"),
        ("components", {"lamp": 2.5}),
    ],
)
def test_grid_fields_of_the_wrong_type(field: str, value: Any) -> None:
    """Each names the feature (index and code), the field and the value."""
    doc = json.loads(json.dumps(DOC))
    feat = _grid_feature(doc)
    feat["properties"][field] = value
    with pytest.raises(FileFormatError) as info:
        hierarchy_from_geojson(doc, source="city.geojson")
    e = info.value
    assert feat["properties"]["code"] in e.where and e.field.startswith(field)


@pytest.mark.parametrize("how", ["missing", "null"])
def test_a_grid_without_parent_is_not_a_second_root(how: str) -> None:
    """A grid whose parent key is missing (or null) is refused, naming the feature."""
    doc = json.loads(json.dumps(DOC))
    feat = _grid_feature(doc)
    if how == "missing":
        del feat["properties"]["parent"]
    else:
        feat["properties"]["parent"] = None
    with pytest.raises(FileFormatError) as info:
        hierarchy_from_geojson(doc, source="city.geojson")
    assert info.value.field == "parent" and feat["properties"]["code"] in info.value.where


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_in_a_polygon_given_to_hierarchy_build() -> None:
    """A NaN coordinate is refused when the Area is made, naming the area."""
    grid = next(a for a in CITY.areas if a.level == "grid")
    bad = shapely.Polygon([(0, 0), (1, float("nan")), (1, 1), (0, 0)])
    with pytest.raises(HierarchyError, match=grid.code):
        areas = [a for a in CITY.areas if a.code != grid.code]
        Hierarchy.build([*areas, Area(grid.code, grid.name, grid.level, grid.parent,
                                      households=grid.households, polygon=bad)])  # fmt: skip


def test_nan_in_a_geojson_polygon_names_the_feature() -> None:
    """The same through the reader: the feature is named."""
    doc = json.loads(json.dumps(DOC))
    feat = _grid_feature(doc)
    feat["geometry"]["coordinates"][0][1][0] = float("nan")
    with pytest.raises(FileFormatError) as info:
        hierarchy_from_geojson(doc, source="city.geojson")
    assert feat["properties"]["code"] in str(info.value) and info.value.field == "geometry"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"households": "250"},
        {"households": 2.5},
        {"households": 10**30},
        {"compounds": {"a": 1}},
        {"compounds": "abc"},
        {"components": {"lamp": None}},
        {"components": [("lamp",)]},
        {"parent": ["x"]},
        {"name": None},
    ],
)
def test_area_constructor_refuses_wrong_types(kwargs: dict[str, Any]) -> None:
    """The public constructor gives a HierarchyError, not a TypeError."""
    base: dict[str, Any] = {"code": "420501", "name": "g", "level": "grid", "parent": "4205"}
    with pytest.raises(HierarchyError):
        Area(**{**base, **kwargs})


def test_load_results_with_a_torn_summary_is_typed(tmp_path: Path) -> None:
    """load_results on a folder whose summary.json is not UTF-8 or not JSON: named."""
    from gridcore.sweep import load_results

    for body in (b"\xff{", b"{x"):
        (tmp_path / "summary.json").write_bytes(body)
        with pytest.raises(FileFormatError, match=r"summary\.json"):
            load_results(tmp_path)
