"""Grid code standards: 14 and 15 digits with their segment rules, CJ/T 349-2010's 20 digits."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore.errors import CodeError, GridcoreError
from gridcore.gridcodes import (
    GRID14,
    GRID15,
    ObjectCode,
    check_grid_code,
    community_kind,
    street_kind,
)
from gridcore.hierarchy import Area, Hierarchy
from gridcore.ids import AreaCode
from gridcore.io.geojson import read_geojson, write_geojson


class TestFourteenDigits:
    def test_a_grid_code_splits_into_county_street_community_grid(self) -> None:
        """42050200100101: county 420502, street 001, community 001, grid 01."""
        parsed = check_grid_code("42050200100101")
        assert parsed.segments == ("420502", "001", "001", "01") and parsed.level == "grid"
        assert GRID14.parse("420502001").level == "street"

    @pytest.mark.parametrize(
        ("segment", "kind"),
        [
            ("001", "街道"),
            ("099", "街道"),
            ("100", "镇"),
            ("199", "镇"),
            ("200", "乡"),
            ("399", "乡"),
        ],
    )
    def test_street_segment_ranges_name_the_kind_of_unit(self, segment: str, kind: str) -> None:
        """001-099 街道, 1xx 镇, 2xx-3xx 乡."""
        assert street_kind(segment) == kind

    @pytest.mark.parametrize(
        ("segment", "kind"),
        [("001", "居委会"), ("199", "居委会"), ("200", "村委会"), ("399", "村委会")],
    )
    def test_community_segment_ranges_name_the_kind_of_committee(
        self, segment: str, kind: str
    ) -> None:
        """001-199 居委会, 2xx-3xx 村委会."""
        assert community_kind(segment) == kind

    @pytest.mark.parametrize(
        ("code", "rule"),
        [
            ("42050200000101", "street segment '000'"),
            ("42050240000101", "street segment '400'"),
            ("42050200100001", "community segment '000'"),
            ("42050200170001", "community segment '700'"),
            ("42050000100101", "not ending in 00"),
            ("99050200100101", "province"),
            ("4205020010010", "expected 14 digits"),
            ("4205020010010a", "expected 14 digits"),
        ],
    )
    def test_codes_breaking_a_rule_are_refused_naming_code_and_rule(
        self, code: str, rule: str
    ) -> None:
        """Each refusal is a CodeError naming the code and the rule it breaks."""
        with pytest.raises(CodeError, match=rule) as info:
            check_grid_code(code)
        assert code in str(info.value)

    def test_00_is_a_community_that_is_not_subdivided(self) -> None:
        """Grid segment 00: the community is its own grid."""
        assert check_grid_code("42050200100100").segments[-1] == "00"

    def test_a_hierarchy_in_the_scheme_refuses_a_bad_street_code(self) -> None:
        """Hierarchy.build checks the rules of the scheme's codes, naming the code."""
        good = [
            Area(AreaCode("420502"), "西陵区", "county"),
            Area(AreaCode("420502001"), "西陵街道", "street", AreaCode("420502")),
            Area(AreaCode("420502001001"), "c", "community", AreaCode("420502001")),
            Area(AreaCode("42050200100101"), "g", "grid", AreaCode("420502001001"), households=250),
        ]
        h = Hierarchy.build(good, GRID14)
        assert len(h.grids) == 1
        bad = [*good[:1], Area(AreaCode("420502500"), "s", "street", AreaCode("420502"))]
        with pytest.raises(CodeError, match=r"'420502500'.*street segment '500'"):
            Hierarchy.build(bad, GRID14)

    def test_a_file_in_the_scheme_reads_back_in_it(self, tmp_path: Path) -> None:
        """write_geojson names the scheme; read_geojson finds grid14 by its name."""
        areas = [
            Area(AreaCode("420502"), "西陵区", "county"),
            Area(AreaCode("420502101"), "镇", "street", AreaCode("420502")),
            Area(AreaCode("420502101201"), "村", "community", AreaCode("420502101")),
            Area(AreaCode("42050210120100"), "g", "grid", AreaCode("420502101201"), households=9),
        ]
        h = read_geojson(write_geojson(Hierarchy.build(areas, GRID14), tmp_path / "g.geojson"))
        assert h.scheme is GRID14 and h.grids == ("42050210120100",)


class TestFifteenDigits:
    def test_a_three_digit_grid_number(self) -> None:
        """15 digits: grid numbers up to 999, 000 undivided."""
        assert check_grid_code("420502001001123").segments[-1] == "123"
        assert GRID15.parse("420502001001000").level == "grid"
        with pytest.raises(CodeError, match="street segment '000'"):
            check_grid_code("420502000001001")


class TestObjectCode:
    def test_a_20_digit_code_is_an_object_type_and_a_grid_code(self) -> None:
        """CJ/T 349-2010: 6-digit object type + the 14-digit grid code."""
        oc = ObjectCode.parse("01010142050200100101")
        assert oc.object_type == "010101" and oc.grid == "42050200100101"
        assert str(oc) == "01010142050200100101"

    @pytest.mark.parametrize(
        ("code", "rule"),
        [
            ("0101014205020010010", "expected 20 digits"),
            ("00000042050200100101", "not all zeros"),
            ("01010142050240000101", "street segment '400'"),
        ],
    )
    def test_bad_object_codes_are_refused_naming_the_rule(self, code: str, rule: str) -> None:
        """Length, type and grid rules each name themselves."""
        with pytest.raises(CodeError, match=rule):
            ObjectCode.parse(code)


@given(
    county=st.sampled_from(["420502", "500112", "110105", "440305"]),
    street=st.integers(1, 399),
    community=st.integers(1, 399),
    grid=st.integers(0, 99),
)
def test_every_code_within_the_ranges_parses_and_round_trips(
    county: str, street: int, community: int, grid: int
) -> None:
    """Codes built within the ranges parse, name their kinds and format back to themselves."""
    segs = (county, f"{street:03d}", f"{community:03d}", f"{grid:02d}")
    code = GRID14.format(segs)
    parsed = check_grid_code(code)
    assert parsed.segments == segs
    assert street_kind(segs[1]) in {"街道", "镇", "乡"}
    assert community_kind(segs[2]) in {"居委会", "村委会"}
    assert ObjectCode.parse(f"123456{code}").grid == code


@given(street=st.integers(400, 999) | st.just(0))
def test_every_street_segment_outside_the_ranges_is_refused(street: int) -> None:
    """000 and 400-999 are no street-level unit."""
    with pytest.raises(GridcoreError):
        check_grid_code(f"420502{street:03d}00101")
