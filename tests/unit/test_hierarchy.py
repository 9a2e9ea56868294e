"""The hierarchy: level schemes, codes, building and structural queries."""

from __future__ import annotations

import pytest
import shapely

from gridcore.errors import CodeError, HierarchyError, UnknownItemError
from gridcore.hierarchy import FIRE, RURAL, URBAN, Area, Hierarchy, Level, LevelScheme
from gridcore.ids import AreaCode


def small_urban() -> Hierarchy:
    """City 4205 > district 01 > street 001 > two communities > 2 + 1 grids, unit squares."""
    a = [
        Area(AreaCode("4205"), "Yichang", "city"),
        Area(AreaCode("420501"), "Xiling", "district", AreaCode("4205")),
        Area(AreaCode("420501001"), "Street 1", "street", AreaCode("420501")),
        Area(AreaCode("420501001001"), "C1", "community", AreaCode("420501001")),
        Area(AreaCode("420501001002"), "C2", "community", AreaCode("420501001")),
        Area(
            AreaCode("42050100100101"),
            "G1",
            "grid",
            AreaCode("420501001001"),
            households=250,
            polygon=shapely.box(0, 0, 1, 1),
            components={"lamps": 3},
        ),
        Area(
            AreaCode("42050100100102"),
            "G2",
            "grid",
            AreaCode("420501001001"),
            households=220,
            polygon=shapely.box(1, 0, 2, 1),
            components={"lamps": 4},
        ),
        Area(
            AreaCode("42050100100201"),
            "G3",
            "grid",
            AreaCode("420501001002"),
            households=280,
            polygon=shapely.box(0, 1, 2, 2),
        ),
    ]
    return Hierarchy.build(a, URBAN)


class TestCodes:
    def test_urban_grid_code_has_fourteen_digits_and_names_its_level(self) -> None:
        """A 14-digit code is a grid; its parent is the 12-digit community prefix."""
        p = URBAN.parse("42050100100101")
        assert p.level == "grid"
        assert p.segments == ("4205", "01", "001", "001", "01")
        assert URBAN.parent_code("42050100100101") == "420501001001"

    def test_admin_code_pads_to_twelve_digits_above_the_grid(self) -> None:
        """The administrative form is 12 digits for city to community, 14 for a grid."""
        assert URBAN.admin_code("420501") == "420501000000"
        assert URBAN.admin_code("420501001001") == "420501001001"
        assert URBAN.admin_code("42050100100101") == "42050100100101"

    @pytest.mark.parametrize("bad", ["", "42a5", "42050", "4205010010010", "420501001001011"])
    def test_malformed_urban_codes_are_refused(self, bad: str) -> None:
        """Codes with letters or a length that is no level's are refused with CodeError."""
        with pytest.raises(CodeError):
            URBAN.parse(bad)

    def test_path_scheme_codes_are_segment_paths(self) -> None:
        """Rural and fire codes are '/'-joined segments, one per level."""
        assert RURAL.parse("QQ/01/003").level == "village"
        assert FIRE.parse("B1/M2/S3").level == "small_grid"
        assert RURAL.parent_code("QQ/01/003") == "QQ/01"
        with pytest.raises(CodeError):
            FIRE.parse("B1/M2/S3/X")
        with pytest.raises(CodeError):
            RURAL.parse("QQ/0 1")

    def test_format_checks_segment_widths(self) -> None:
        """Formatting a digit code checks each segment's width."""
        assert URBAN.format(["4205", "01"]) == "420501"
        with pytest.raises(CodeError):
            URBAN.format(["4205", "1"])

    def test_user_defined_scheme(self) -> None:
        """A scheme is data: any levels, digits or paths."""
        s = LevelScheme("campus", (Level("campus"), Level("building"), Level("floor")))
        h = Hierarchy.build(
            [
                Area("A", "A", "campus"),
                Area("A/B1", "b", "building", "A"),
                Area("A/B1/F1", "f", "floor", "A/B1", households=10),
            ],
            s,
        )
        assert h.grids == ("A/B1/F1",)
        with pytest.raises(HierarchyError):
            LevelScheme("dup", (Level("x"), Level("x")))
        with pytest.raises(HierarchyError):
            LevelScheme("nowidth", (Level("x"),), kind="digits")


class TestBuild:
    def test_duplicate_code_is_refused(self) -> None:
        """Two areas with the same code: the build names the code."""
        areas = [*small_urban().areas, Area("420501", "again", "district", "4205")]
        with pytest.raises(HierarchyError, match="duplicate area code '420501'"):
            Hierarchy.build(areas)

    def test_missing_parent_is_refused(self) -> None:
        """A parent code that is not in the build is named."""
        with pytest.raises(HierarchyError, match="parent '420502' does not exist"):
            Hierarchy.build([Area("4205", "c", "city"), Area("420502001", "s", "street", "420502")])

    def test_wrong_level_under_parent_is_refused(self) -> None:
        """A community directly under a district is refused."""
        with pytest.raises(HierarchyError, match="expected a 'street'"):
            Hierarchy.build(
                [
                    Area("4205", "c", "city"),
                    Area("420501", "d", "district", "4205"),
                    Area("420501001001", "x", "community", "420501"),
                ]
            )

    def test_leaf_above_leaf_level_is_refused(self) -> None:
        """A community with no grids is refused: leaves must be grids."""
        with pytest.raises(HierarchyError, match="has no children"):
            Hierarchy.build(
                [
                    Area("4205", "c", "city"),
                    Area("420501", "d", "district", "4205"),
                    Area("420501001", "s", "street", "420501"),
                    Area("420501001001", "x", "community", "420501001"),
                ]
            )

    def test_code_not_prefixed_by_parent_is_refused(self) -> None:
        """A grid whose code does not start with its community's code is refused."""
        with pytest.raises(HierarchyError, match="not its prefix"):
            Hierarchy.build(
                [
                    Area("4205", "c", "city"),
                    Area("420501", "d", "district", "4205"),
                    Area("420501001", "s", "street", "420501"),
                    Area("420501001001", "x", "community", "420501001"),
                    Area("42050100100201", "g", "grid", "420501001001", households=1),
                ]
            )

    def test_code_of_another_level_is_refused(self) -> None:
        """An area whose code layout is of another level is refused."""
        with pytest.raises(HierarchyError):
            Hierarchy.build([Area("420501", "c", "city")])

    def test_negative_households_are_refused(self) -> None:
        """Households are a count."""
        with pytest.raises(HierarchyError, match="households = -1"):
            Area("42050100100101", "g", "grid", "420501001001", households=-1)

    def test_empty_build_is_refused(self) -> None:
        """A hierarchy needs areas."""
        with pytest.raises(HierarchyError):
            Hierarchy.build([])


class TestQueries:
    def test_parent_children_ancestors_path(self) -> None:
        """Structural queries follow the tree."""
        h = small_urban()
        assert h.parent("42050100100101") == "420501001001"
        assert h.parent("4205") is None
        assert h.children("420501001") == ("420501001001", "420501001002")
        assert h.ancestors("42050100100101") == ("420501001001", "420501001", "420501", "4205")
        assert h.path("420501001") == ("4205", "420501", "420501001")
        assert h.ancestor_at("42050100100201", "street") == "420501001"
        assert h.roots == ("4205",)

    def test_descendants_and_grids_under_are_contiguous(self) -> None:
        """Grids under an area are its leaves, in depth-first order."""
        h = small_urban()
        assert h.grids_under("420501001001") == ("42050100100101", "42050100100102")
        assert h.grids_under("4205") == h.grids
        assert h.grids_under("42050100100201") == ("42050100100201",)
        assert set(h.descendants("420501001")) == {
            "420501001001",
            "420501001002",
            "42050100100101",
            "42050100100102",
            "42050100100201",
        }

    def test_lowest_common_ancestor(self) -> None:
        """The LCA of two grids of one community is the community; of an area and itself, itself."""
        h = small_urban()
        assert h.lowest_common_ancestor("42050100100101", "42050100100102") == "420501001001"
        assert h.lowest_common_ancestor("42050100100101", "42050100100201") == "420501001"
        assert h.lowest_common_ancestor("420501", "420501") == "420501"

    def test_totals_roll_up(self) -> None:
        """Households and components are summed from the leaves."""
        h = small_urban()
        assert h.households("420501001001") == 470
        assert h.total_households == 750
        assert h.totals("420501001001") == {"households": 470, "grids": 2, "lamps": 7}

    def test_neighbours_share_an_edge_not_a_corner(self) -> None:
        """G1 and G2 share an edge; G3 touches both along the top edge."""
        h = small_urban()
        assert h.neighbours("42050100100101") == ("42050100100102", "42050100100201")
        assert h.neighbour_pairs() == (
            ("42050100100101", "42050100100102"),
            ("42050100100101", "42050100100201"),
            ("42050100100102", "42050100100201"),
        )

    def test_corner_contact_is_not_a_neighbour(self) -> None:
        """Two squares meeting at one point are not neighbours."""
        h = Hierarchy.build(
            [
                Area("A", "a", "big_grid"),
                Area("A/M", "m", "medium_grid", "A"),
                Area("A/M/1", "1", "small_grid", "A/M", polygon=shapely.box(0, 0, 1, 1)),
                Area("A/M/2", "2", "small_grid", "A/M", polygon=shapely.box(1, 1, 2, 2)),
            ],
            FIRE,
        )
        assert h.neighbours("A/M/1") == ()

    def test_declared_neighbours_without_polygons(self) -> None:
        """Without polygons, declared neighbours are used, symmetrically."""
        h = Hierarchy.build(
            [
                Area("A", "a", "big_grid"),
                Area("A/M", "m", "medium_grid", "A"),
                Area("A/M/1", "1", "small_grid", "A/M", neighbours=["A/M/2"]),
                Area("A/M/2", "2", "small_grid", "A/M"),
            ],
            FIRE,
        )
        assert h.neighbours("A/M/2") == ("A/M/1",)

    def test_unknown_code_raises_unknown_item_error(self) -> None:
        """An unknown code is named, never a bare KeyError."""
        h = small_urban()
        with pytest.raises(UnknownItemError, match="unknown area '999'"):
            h.parent("999")
        assert "999" not in h

    def test_area_polygon_of_a_parent_without_one_is_the_union(self) -> None:
        """A community without its own polygon is the union of its grids."""
        h = small_urban()
        assert h.area_polygon("420501001001").area == pytest.approx(2.0)

    def test_replace_areas_makes_a_new_version(self) -> None:
        """Replacing areas leaves the old hierarchy untouched."""
        h = small_urban()
        g = h.area("42050100100102")
        h2 = h.replace_areas(
            ["42050100100102"],
            [
                Area(
                    "42050100100103",
                    "G2b",
                    "grid",
                    "420501001001",
                    households=g.households,
                    polygon=g.polygon,
                )
            ],
            retire=["42050100100102"],
        )
        assert h2.version == h.version + 1
        assert "42050100100102" in h and "42050100100102" not in h2
        assert h2.retired == {"42050100100102"}
        assert h2.total_households == h.total_households
