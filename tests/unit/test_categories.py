"""Category taxonomy: the default, validation, tree queries, dict and file round trips."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gridcore.categories import (
    WORKING_DAY,
    Category,
    CategoryFieldError,
    ResolveLevel,
    Stage,
    Taxonomy,
    UnknownCategoryError,
    default_taxonomy,
    format_duration,
    parse_duration,
)
from gridcore.clock import CalendarSet
from gridcore.errors import FileFormatError, TaxonomyError
from gridcore.ids import CategoryCode
from gridcore.io.taxonomy import read_taxonomy, write_taxonomy

H = timedelta(hours=1)
ALL = {s: H for s in Stage}


def cc(code: str) -> CategoryCode:
    return CategoryCode(code)


def top(code: str = "X01", family: str = "event") -> Category:
    return Category(cc(code), "top", "顶", family)


def leaf(code: str = "X0101", parent: str | None = "X01", **kw: Any) -> Category:
    fields: dict[str, Any] = {"family": "event", "limits": ALL}
    fields.update(kw)
    return Category(cc(code), "leaf", "叶", parent=cc(parent) if parent else None, **fields)


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return default_taxonomy()


class TestDefaultTaxonomy:
    def test_has_the_three_families(self, tax: Taxonomy) -> None:
        """部件, 事件 and the governance matters of the seed."""
        assert {c.family for c in tax} == {"component", "event", "governance"}

    def test_component_and_event_big_classes(self, tax: Taxonomy) -> None:
        """Six component 大类 and five event 大类 as in the standards."""
        comp = [c.name for c in tax.roots() if c.family == "component"]
        ev = [c.name for c in tax.roots() if c.family == "event"]
        assert comp == [
            "public facilities",
            "roads and traffic",
            "city appearance",
            "greenery",
            "buildings and land",
            "other components",
        ]
        assert ev == [
            "city appearance",
            "advertising",
            "construction",
            "emergencies",
            "street order",
        ]

    def test_governance_categories_of_the_seed(self, tax: Taxonomy) -> None:
        """Epidemic control, rentals, security, fire, land, health, disputes, leaks, fraud, ..."""
        names = {c.name for c in tax.roots() if c.family == "governance"}
        assert names == {
            "epidemic control",
            "floating population and rentals",
            "public security",
            "fire safety",
            "land",
            "health and family planning",
            "disputes",
            "water leaks",
            "fraud",
            "facility requests",
        }

    def test_domain_examples_of_limits(self, tax: Taxonomy) -> None:
        """Exposed rubbish 1 working day, dirty road 5 h, illegal building 15 working days."""
        by_name = {c.name: c for c in tax.leaves()}
        assert by_name["exposed rubbish"].limit(Stage.HANDLE) == WORKING_DAY
        assert by_name["dirty road"].limit(Stage.HANDLE) == 5 * H
        assert by_name["illegal building"].limit(Stage.HANDLE) == 15 * WORKING_DAY

    def test_emergencies_run_round_the_clock(self, tax: Taxonomy) -> None:
        """Hotline-style emergencies: 2 h on 24x7; utilities 24 h."""
        collapse = tax.get("E0401")
        assert collapse.calendar == "24x7" and collapse.limit(Stage.HANDLE) == 2 * H
        assert tax.get("E0402").limit(Stage.HANDLE) == 24 * H

    def test_every_leaf_has_every_stage_and_a_known_calendar(self, tax: Taxonomy) -> None:
        """Leaves carry limits for all stages, on a calendar of the standard set."""
        names = set(CalendarSet.standard())
        for c in tax.leaves():
            assert set(c.limits) == set(Stage)
            assert c.calendar in names
            assert c.is_leaf

    def test_codes_nest_under_their_parent(self, tax: Taxonomy) -> None:
        """A 小类 code is its 大类 code plus two digits."""
        for c in tax.leaves():
            assert c.parent is not None
            assert c.code.startswith(c.parent) and len(c.code) == len(c.parent) + 2

    def test_parents_are_not_leaves(self, tax: Taxonomy) -> None:
        """大类 carry no limits."""
        for c in tax.roots():
            assert not c.is_leaf and tax.children(c.code)


class TestQueries:
    def test_get_ancestors_children(self, tax: Taxonomy) -> None:
        """Tree navigation."""
        assert tax.get("E0101").name_zh == "暴露垃圾"
        assert [c.code for c in tax.ancestors("E0101")] == ["E01"]
        assert "E0101" in [c.code for c in tax.children("E01")]
        assert tax.ancestors("E01") == ()

    def test_unknown_code_names_the_code(self, tax: Taxonomy) -> None:
        """A missing code raises a TaxonomyError naming it."""
        with pytest.raises(UnknownCategoryError, match="Z9999") as info:
            tax.get("Z9999")
        assert isinstance(info.value, TaxonomyError) and isinstance(info.value, LookupError)

    def test_contains_len_iter(self, tax: Taxonomy) -> None:
        """The container protocol."""
        assert "C0101" in tax and "nope" not in tax
        assert len(tax) == len(list(tax)) == len(tax.roots()) + len(tax.leaves())


class TestValidation:
    def test_duplicate_codes_are_refused(self) -> None:
        """Codes are unique."""
        with pytest.raises(TaxonomyError, match=r"'X01'.*'code'"):
            Taxonomy([top(), top(), leaf()])

    def test_missing_parent_is_refused(self) -> None:
        """A parent must exist."""
        with pytest.raises(TaxonomyError, match=r"'X0101'.*'parent'"):
            Taxonomy([leaf(parent="X02")])

    def test_cycles_are_refused(self) -> None:
        """A chain of parents may not loop."""
        a = Category(cc("A"), "a", "", "event", parent=cc("B"))
        b = Category(cc("B"), "b", "", "event", parent=cc("A"))
        with pytest.raises(TaxonomyError, match="cycle"):
            Taxonomy([a, b])

    def test_leaf_without_every_stage_is_refused(self) -> None:
        """A leaf needs a limit for every stage."""
        with pytest.raises(TaxonomyError, match=r"'X0101'.*limits\.check"):
            Taxonomy([top(), leaf(limits={s: H for s in Stage if s is not Stage.CHECK})])

    def test_parent_with_limits_is_refused(self) -> None:
        """Limits belong on leaves only."""
        parent = Category(cc("X01"), "t", "", "event", limits=ALL)
        with pytest.raises(TaxonomyError, match=r"'X01'.*'limits'"):
            Taxonomy([parent, leaf()])

    def test_child_of_another_family_is_refused(self) -> None:
        """A 小类 belongs to its 大类's family."""
        with pytest.raises(TaxonomyError, match=r"'X0101'.*'family'"):
            Taxonomy([top(family="component"), leaf()])

    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"severity": 0}, "severity"),
            ({"severity": 5}, "severity"),
            ({"severity": True}, "severity"),
            ({"calendar": ""}, "calendar"),
            ({"family": "weather"}, "family"),
            ({"resolve_level": "planet"}, "resolve_level"),
            ({"limits": {**ALL, Stage.HANDLE: timedelta(0)}}, "limits.handle"),
            ({"limits": {"later": H}}, "limits"),
        ],
    )
    def test_bad_fields_name_the_code_and_field(self, kw: dict[str, Any], field: str) -> None:
        """Each field's error names the category and the field."""
        with pytest.raises(CategoryFieldError) as info:
            leaf(**kw)
        assert info.value.field == field
        assert "'X0101'" in str(info.value)

    def test_string_keys_and_levels_are_converted(self) -> None:
        """Stage and level names given as strings become enums."""
        c = leaf(limits={s.value: H for s in Stage}, resolve_level="street")
        assert c.resolve_level is ResolveLevel.STREET
        assert list(c.limits) == list(Stage)


class TestDicts:
    def test_default_round_trips_through_dict(self, tax: Taxonomy) -> None:
        """to_dict then from_dict gives an equal taxonomy, and the dict is JSON-safe."""
        data = json.loads(json.dumps(tax.to_dict()))
        assert Taxonomy.from_dict(data) == tax

    def test_from_dict_names_source_index_code_and_field(self, tax: Taxonomy) -> None:
        """A bad entry is located by position and code."""
        data = tax.to_dict()
        data["categories"][3]["severity"] = 9
        code = data["categories"][3]["code"]
        with pytest.raises(CategoryFieldError) as info:
            Taxonomy.from_dict(data, source="city.json")
        msg = str(info.value)
        assert "city.json" in msg and "#3" in msg and code in msg and "severity" in msg

    def test_bad_duration_names_the_stage(self, tax: Taxonomy) -> None:
        """Durations must be ISO 8601 time parts or seconds."""
        data = tax.to_dict()
        data["categories"][1]["limits"]["handle"] = "P1D"
        with pytest.raises(CategoryFieldError, match=r"limits\.handle"):
            Taxonomy.from_dict(data)

    def test_unknown_field_is_refused(self, tax: Taxonomy) -> None:
        """Typos are not silently ignored."""
        data = tax.to_dict()
        data["categories"][0]["severty"] = 2
        with pytest.raises(CategoryFieldError, match="severty"):
            Taxonomy.from_dict(data)

    @pytest.mark.parametrize("d", [H, 105 * H, timedelta(minutes=30), timedelta(seconds=1.5)])
    def test_durations_round_trip(self, d: timedelta) -> None:
        """format_duration and parse_duration are inverse."""
        assert parse_duration(format_duration(d)) == d

    def test_numbers_are_seconds(self) -> None:
        """A bare number is seconds."""
        assert parse_duration(3600) == H


class TestFiles:
    @pytest.mark.parametrize("suffix", [".json", ".toml"])
    def test_write_then_read_round_trips(self, tax: Taxonomy, tmp_path: Path, suffix: str) -> None:
        """Both formats give back the same taxonomy."""
        path = tmp_path / f"tax{suffix}"
        write_taxonomy(tax, path)
        assert read_taxonomy(path) == tax
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left

    def test_toml_written_by_hand_is_read(self, tmp_path: Path) -> None:
        """A city's own TOML file loads."""
        path = tmp_path / "city.toml"
        path.write_text(
            """
[[categories]]
code = "W01"
name = "water"
family = "governance"

[[categories]]
code = "W0101"
name = "leak"
name_zh = "漏水"
family = "governance"
parent = "W01"
severity = 2
resolve_level = "community"
calendar = "24x7"
limits = { verify = "PT10M", dispatch = 600, sign_for = "PT15M", handle = "PT24H", check = 3600 }
""",
            encoding="utf-8",
        )
        t = read_taxonomy(path)
        assert t.get("W0101").limit(Stage.CHECK) == H

    def test_bad_field_in_file_names_file_category_and_field(
        self, tax: Taxonomy, tmp_path: Path
    ) -> None:
        """FileFormatError carries the path, the entry and the field."""
        data = tax.to_dict()
        data["categories"][2]["calendar"] = ""
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(FileFormatError) as info:
            read_taxonomy(path)
        err = info.value
        assert err.path == str(path) and err.field == "calendar"
        assert "#2" in err.where and data["categories"][2]["code"] in err.where

    def test_invalid_json_names_the_line(self, tmp_path: Path) -> None:
        """Syntax errors point at the line."""
        path = tmp_path / "broken.json"
        path.write_text('{\n  "categories": [\n', encoding="utf-8")
        with pytest.raises(FileFormatError, match="line"):
            read_taxonomy(path)

    def test_unknown_suffix_is_refused(self, tax: Taxonomy, tmp_path: Path) -> None:
        """Only .json and .toml."""
        with pytest.raises(FileFormatError, match="yaml"):
            write_taxonomy(tax, tmp_path / "tax.yaml")
        with pytest.raises(FileFormatError, match=r"\.json or \.toml"):
            read_taxonomy(tmp_path / "tax.yaml")

    def test_missing_file_is_a_file_format_error(self, tmp_path: Path) -> None:
        """A missing file names the path."""
        with pytest.raises(FileFormatError, match=r"nope\.json"):
            read_taxonomy(tmp_path / "nope.json")

    def test_failed_write_leaves_the_old_file(
        self, tax: Taxonomy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Writing is atomic: if the final replace fails, the old file and no temp remain."""
        path = tmp_path / "tax.json"
        path.write_text("old", encoding="utf-8")

        def boom(src: str, dst: str) -> None:
            raise OSError("disk full")

        monkeypatch.setattr("gridcore.io.taxonomy.os.replace", boom)
        with pytest.raises(FileFormatError, match="disk full"):
            write_taxonomy(tax, path)
        assert path.read_text(encoding="utf-8") == "old"
        assert [p.name for p in tmp_path.iterdir()] == ["tax.json"]
