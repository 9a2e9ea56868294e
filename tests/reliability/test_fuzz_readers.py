"""Every reader and public constructor, fuzzed: only GridcoreError escapes, nothing is written.

Inputs are valid documents and files with a few edits (values replaced by other JSON
values, keys dropped or added, bytes flipped, cut or inserted, non-UTF-8 included) and
plain random bytes. The number of examples is the hypothesis profile's (`ci` in the
suite; `HYPOTHESIS_PROFILE=fuzz make fuzz` for a long run); the inputs tried per
reader are printed at the end of the session.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import shapely
import shapely.errors
from _fuzz_support import FUZZ, REFUSED, TRIED, json_values, mutated, mutated_bytes
from hypothesis import given
from hypothesis import strategies as st

from gridcore.categories import Taxonomy, default_taxonomy
from gridcore.errors import GridcoreError
from gridcore.hierarchy import Area, Hierarchy
from gridcore.io.geojson import hierarchy_from_geojson, hierarchy_to_geojson, read_geojson
from gridcore.io.staff_csv import read_roster_csv, write_roster_csv
from gridcore.io.taxonomy import read_taxonomy, write_taxonomy
from gridcore.sim.scenario import Scenario, load_scenario, preset_scenario, scenario_from_dict
from gridcore.staffing import Assignment, Person, Roster
from gridcore.sweep import load_sweep
from gridcore.synth import build_city, synthetic_city

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CITY = build_city("shibanxi", seed=1)
GEO_DOC = hierarchy_to_geojson(CITY, digits=1)
GEO_BYTES = json.dumps(GEO_DOC).encode()
SCEN_DOC = preset_scenario("shuanghu").to_dict()
TAX_DOC = default_taxonomy().to_dict()
SWEEP_TEXT = (EXAMPLES / "sweeps" / "yichang_staffing.toml").read_bytes()
SCEN_TOML = (EXAMPLES / "epidemic.toml").read_bytes()


def _staff_bytes() -> tuple[bytes, bytes]:
    roster = synthetic_city("shibanxi", seed=1).roster
    with tempfile.TemporaryDirectory() as tmp:
        p, a = Path(tmp) / "p.csv", Path(tmp) / "a.csv"
        write_roster_csv(roster, p, a)
        return p.read_bytes()[:2000], a.read_bytes()[:2000]


def _tax_bytes(suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"t{suffix}"
        write_taxonomy(default_taxonomy(), p)
        return p.read_bytes()


PEOPLE, ASSIGNMENTS = _staff_bytes()
TAX_FILES = {s: _tax_bytes(s) for s in (".json", ".toml")}


def _typed(reader: str, call: Callable[[], Any]) -> None:
    """Run one read: it succeeds or raises a GridcoreError; anything else fails the test."""
    TRIED[reader] += 1
    try:
        call()
    except GridcoreError:
        REFUSED[reader] += 1


def _files(folder: Path, data: dict[str, bytes], reader: str, call: Callable[..., Any]) -> None:
    """Write the files, read them; a read writes nothing (the folder is unchanged)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        paths = []
        for name, body in data.items():
            (d / name).write_bytes(body)
            paths.append(d / name)
        before = sorted((p.name, p.stat().st_mtime_ns) for p in d.iterdir())
        _typed(reader, lambda: call(*paths))
        assert sorted((p.name, p.stat().st_mtime_ns) for p in d.iterdir()) == before


@FUZZ
@given(mutated(GEO_DOC))
def test_geojson_documents(doc: Any) -> None:
    """hierarchy_from_geojson on edited FeatureCollections."""
    _typed("geojson (parsed)", lambda: hierarchy_from_geojson(doc, source="city.geojson"))


@FUZZ
@given(mutated_bytes(GEO_BYTES))
def test_geojson_files(data: bytes) -> None:
    """read_geojson on edited and random bytes."""
    _files(Path(), {"city.geojson": data}, "geojson (file)", read_geojson)


@FUZZ
@given(mutated(SCEN_DOC))
def test_scenario_documents(doc: Any) -> None:
    """scenario_from_dict on edited scenarios."""
    _typed("scenario (parsed)", lambda: scenario_from_dict(doc, "s.toml"))


@FUZZ
@given(mutated_bytes(SCEN_TOML), st.sampled_from([".toml", ".json"]))
def test_scenario_files(data: bytes, suffix: str) -> None:
    """load_scenario on edited TOML (and the same bytes named .json)."""
    _files(Path(), {f"s{suffix}": data}, "scenario (file)", load_scenario)


@FUZZ
@given(mutated_bytes(json.dumps(SCEN_DOC).encode()))
def test_scenario_json_files(data: bytes) -> None:
    """load_scenario on edited JSON scenarios."""
    _files(Path(), {"s.json": data}, "scenario (file)", load_scenario)


@FUZZ
@given(mutated_bytes(SWEEP_TEXT))
def test_sweep_files(data: bytes) -> None:
    """load_sweep on edited sweep files."""
    _files(Path(), {"s.toml": data}, "sweep file", load_sweep)


@FUZZ
@given(mutated_bytes(PEOPLE), mutated_bytes(ASSIGNMENTS), st.booleans())
def test_roster_csv_files(people: bytes, assignments: bytes, edit_people: bool) -> None:
    """read_roster_csv with one of its two files edited."""
    files = {"people.csv": people if edit_people else PEOPLE}
    files["assignments.csv"] = ASSIGNMENTS if edit_people else assignments
    _files(Path(), files, "roster csv", read_roster_csv)


@FUZZ
@given(mutated(TAX_DOC))
def test_taxonomy_documents(doc: Any) -> None:
    """Taxonomy.from_dict on edited taxonomies."""
    _typed("taxonomy (parsed)", lambda: Taxonomy.from_dict(doc, "t.json"))


@FUZZ
@given(
    st.sampled_from([".json", ".toml"]).flatmap(
        lambda s: st.tuples(st.just(s), mutated_bytes(TAX_FILES[s]))
    )
)
def test_taxonomy_files(case: tuple[str, bytes]) -> None:
    """read_taxonomy on edited JSON and TOML taxonomies."""
    suffix, data = case
    _files(Path(), {f"t{suffix}": data}, "taxonomy (file)", read_taxonomy)


_GRID = next(a for a in CITY.areas if a.level == "grid")
coords = st.floats(allow_nan=True, allow_infinity=True) | st.floats(-1e3, 1e3)


@st.composite
def polygons(draw: st.DrawFn) -> Any:
    pts = draw(st.lists(st.tuples(coords, coords), min_size=3, max_size=6))
    try:
        return shapely.Polygon([*pts, pts[0]])
    except shapely.errors.GEOSException:  # not a ring at all: shapely refuses to build it
        return shapely.Polygon([(0, 0), (1, float("nan")), (1, 1)])


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "code": json_values,
            "name": json_values,
            "level": json_values | st.sampled_from(["grid", "community", "city"]),
            "parent": json_values,
            "households": json_values,
            "polygon": polygons() | json_values,
            "components": json_values,
            "compounds": json_values,
            "neighbours": json_values,
        },
    )
)
def test_area_and_hierarchy_build(fields: dict[str, Any]) -> None:
    """Area(...) with any field replaced, built into the city with Hierarchy.build."""

    def build() -> None:
        kwargs: dict[str, Any] = {
            "code": _GRID.code,
            "name": _GRID.name,
            "level": _GRID.level,
            "parent": _GRID.parent,
            "households": _GRID.households,
            "polygon": _GRID.polygon,
            **fields,
        }
        area = Area(**kwargs)
        others = [a for a in CITY.areas if a.code != _GRID.code]
        Hierarchy.build([*others, area], CITY.scheme)

    _typed("Area + Hierarchy.build", build)


UTC8 = timezone(timedelta(hours=8))
instants = st.datetimes(timezones=st.just(UTC8)) | st.datetimes() | json_values


@FUZZ
@given(
    st.fixed_dictionaries(
        {"id": st.just("p1") | json_values, "name": st.just("Li") | json_values},
        optional={
            "roles": st.just(["full_duty_worker"]) | json_values,
            "capacity": st.just(2) | json_values,
            "department": st.just("dept:a") | json_values,
        },
    ),
    st.fixed_dictionaries(
        {
            "person": st.just("p1") | json_values,
            "role": st.just("full_duty_worker") | json_values,
            "area": st.just("4205") | json_values,
            "start": instants,
        },
        optional={"end": instants},
    ),
)
def test_person_assignment_roster(person: dict[str, Any], assignment: dict[str, Any]) -> None:
    """Person, Assignment and Roster with any field values."""

    def build() -> None:
        p = Person(**person)
        a = Assignment(**assignment)
        Roster([p], [a])

    _typed("Person/Assignment/Roster", build)


@FUZZ
@given(mutated(Scenario().to_dict()), json_values)
def test_sweep_grid_constructor(doc: Any, axes: Any) -> None:
    """Sweep.grid and from_list with any axes over an edited base."""
    from gridcore.sweep import Sweep

    def build() -> None:
        base = scenario_from_dict(doc)
        if isinstance(axes, dict):
            Sweep.grid(base, axes, replications=2).runs()
        else:
            Sweep.from_list(base, axes if isinstance(axes, list) else [axes], 2).runs()

    _typed("Sweep constructors", build)


RESULT_CSV = b"replication,grid,on_time_rate\r\n0,0101,0.9\r\n1,0102,\r\n"


@FUZZ
@given(mutated_bytes(RESULT_CSV))
def test_result_tables(data: bytes) -> None:
    """read_csv_rows (the report's and load_results' table reader) on edited tables."""
    from gridcore.sweep import read_csv_rows

    _files(Path(), {"grids.csv": data}, "result table csv", read_csv_rows)
