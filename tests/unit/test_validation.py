"""Validation report: households, polygons, overlaps, gaps, spills, 单元完整."""

from __future__ import annotations

import pytest
import shapely

from gridcore.errors import ConfigError
from gridcore.hierarchy import FIRE, Area, Hierarchy
from gridcore.synth import build_city
from gridcore.validation import Finding, FindingKind, validate


def _city(grids: list[tuple[str, int, object]], community_poly: object = None) -> Hierarchy:
    """City 4201 > district 01 > street 001 > community 001 > the given grids."""
    return Hierarchy.build(
        [
            Area("4201", "c", "city"),
            Area("420101", "d", "district", "4201"),
            Area("420101001", "s", "street", "420101"),
            Area("420101001001", "m", "community", "420101001", polygon=community_poly),
            *(
                Area(
                    f"420101001001{seq}",
                    f"g{seq}",
                    "grid",
                    "420101001001",
                    households=hh,
                    polygon=poly,
                )
                for seq, hh, poly in grids
            ),
        ]
    )


def _two(left: object, right: object, box: object = None) -> Hierarchy:
    return _city([("01", 250, left), ("02", 250, right)], box)


class TestValidate:
    def test_clean_tiling_has_no_findings(self) -> None:
        """Two boxes tiling their community: ok."""
        h = _two(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 0, 2, 1))
        report = validate(h)
        assert report.ok and len(report) == 0
        assert "no findings" in report.to_text()

    def test_synthetic_single_community_city_is_clean(self) -> None:
        """A preset built by synth passes validation."""
        assert validate(build_city("tianjin-pilot", seed=3)).ok

    def test_households_out_of_bounds_names_the_grid(self) -> None:
        """A grid of 150 households is reported with its count."""
        h = _city([("01", 150, None), ("02", 250, None)])
        (f,) = validate(h).findings
        assert f.kind is FindingKind.HOUSEHOLDS
        assert f.codes == ("42010100100101",) and f.measure == 150
        assert "150" in f.message and "200 to 300" in f.message

    def test_household_bounds_are_configurable(self) -> None:
        """Bounds (100, 200) flag the 250-household grids instead."""
        h = _city([("01", 150, None), ("02", 250, None)])
        assert [f.codes for f in validate(h, households=(100, 200))] == [("42010100100102",)]

    def test_overlap_between_grids_is_reported_with_its_area(self) -> None:
        """Boxes overlapping by 0.5 give one overlap finding naming both."""
        h = _two(shapely.box(0, 0, 1.5, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 0, 2, 1))
        (f,) = validate(h).by_kind()[FindingKind.OVERLAP]
        assert f.codes == ("42010100100101", "42010100100102")
        assert f.measure == pytest.approx(0.5)

    def test_overlap_below_tolerance_is_not_reported(self) -> None:
        """An overlap of 1e-3 passes with tolerance 1e-2."""
        h = _two(shapely.box(0, 0, 1.001, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 0, 2, 1))
        assert FindingKind.OVERLAP in validate(h).by_kind()
        assert validate(h, tolerance=1e-2).ok

    def test_gap_inside_the_parent_is_reported(self) -> None:
        """Grids leaving a 0.25 strip of the community uncovered: a gap on the community."""
        h = _two(shapely.box(0, 0, 1, 1), shapely.box(1.25, 0, 2, 1), shapely.box(0, 0, 2, 1))
        (f,) = validate(h).findings
        assert f.kind is FindingKind.GAP and f.codes == ("420101001001",)
        assert f.measure == pytest.approx(0.25)

    def test_hole_in_union_without_parent_polygon_is_a_gap(self) -> None:
        """No parent polygons: a hole in the union of the grids is still found."""
        ring = shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2))
        h = _two(
            ring.intersection(shapely.box(0, 0, 1.5, 3)),
            ring.intersection(shapely.box(1.5, 0, 3, 3)),
        )
        (f,) = validate(h).findings
        assert f.kind is FindingKind.GAP and f.measure == pytest.approx(1.0)

    def test_grid_outside_its_parent_is_reported(self) -> None:
        """A grid sticking out of its community by 0.5."""
        h = _two(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2.5, 1), shapely.box(0, 0, 2, 1))
        (f,) = validate(h).by_kind()[FindingKind.OUTSIDE_PARENT]
        assert f.codes == ("42010100100102", "420101001001")
        assert f.measure == pytest.approx(0.5)

    def test_invalid_polygon_gives_the_reason(self) -> None:
        """A bow-tie polygon is reported with shapely's reason."""
        bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
        h = _two(bowtie, shapely.box(1, 0, 2, 1))
        found = validate(h).by_kind()[FindingKind.INVALID_POLYGON]
        assert found[0].codes == ("42010100100101",)
        assert "Self-intersection" in found[0].message

    def test_missing_polygon_when_others_have_one(self) -> None:
        """One grid without a polygon among grids with polygons."""
        h = _two(shapely.box(0, 0, 1, 1), None)
        (f,) = validate(h).findings
        assert f.kind is FindingKind.MISSING_POLYGON and f.codes == ("42010100100102",)

    def test_no_polygons_at_all_is_fine(self) -> None:
        """A hierarchy without geometry has no geometry findings."""
        assert validate(_two(None, None)).ok

    def test_compound_declared_in_two_grids_is_split(self) -> None:
        """单元完整: the same compound in two grids."""
        areas = [
            Area("b", "big", "big_grid"),
            Area("b/m", "mid", "medium_grid", "b"),
            Area("b/m/1", "s1", "small_grid", "b/m", households=250, compounds=["X", "Y"]),
            Area("b/m/2", "s2", "small_grid", "b/m", households=250, compounds=["X"]),
        ]
        (f,) = validate(Hierarchy.build(areas, FIRE)).findings
        assert f.kind is FindingKind.COMPOUND_SPLIT
        assert f.codes == ("b/m/1", "b/m/2") and "'X'" in f.message

    def test_geometry_checks_can_be_skipped(self) -> None:
        """check_geometry=False reports no overlap."""
        h = _two(shapely.box(0, 0, 1.5, 1), shapely.box(1, 0, 2, 1))
        assert validate(h, check_geometry=False).ok

    def test_bad_settings_are_refused(self) -> None:
        """Negative tolerance or inverted bounds: ConfigError."""
        h = _two(None, None)
        with pytest.raises(ConfigError, match="tolerance"):
            validate(h, tolerance=-1)
        with pytest.raises(ConfigError, match="households"):
            validate(h, households=(300, 200))


class TestReport:
    def test_findings_are_sorted_by_kind_then_codes(self) -> None:
        """Households findings come before overlap findings; codes ascending."""
        h = _city(
            [("02", 100, shapely.box(0, 0, 1.5, 1)), ("01", 100, shapely.box(1, 0, 2, 1))],
            shapely.box(0, 0, 2, 1),
        )
        report = validate(h)
        kinds = [f.kind for f in report]
        assert kinds == [FindingKind.HOUSEHOLDS, FindingKind.HOUSEHOLDS, FindingKind.OVERLAP]
        assert [f.codes[0] for f in report][:2] == ["42010100100101", "42010100100102"]
        assert list(report.findings) == sorted(report.findings, key=Finding.sort_key)

    def test_rows_and_text_list_every_finding(self) -> None:
        """to_rows is flat; to_text has a header, a summary and one line per finding."""
        h = _city([("01", 100, None), ("02", 400, None)])
        report = validate(h)
        rows = report.to_rows()
        assert rows[0] == {
            "kind": "households_out_of_bounds",
            "codes": "42010100100101",
            "message": rows[0]["message"],
            "measure": 100.0,
        }
        text = report.to_text().splitlines()
        assert len(text) == 2 + len(report)
        assert report.counts() == {"households_out_of_bounds": 2}
        assert not report.ok
