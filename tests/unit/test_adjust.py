"""Dynamic adjustment (动态调整): split, merge, lineage and re-homing."""

from __future__ import annotations

import pytest
import shapely

from gridcore.adjust import GridPart, Lineage, merge_grids, rehome, split_grid, split_grid_in_two
from gridcore.errors import ConfigError, HierarchyError, LineageError, UnknownItemError
from gridcore.hierarchy import RURAL, Area, Hierarchy
from gridcore.synth import build_city
from gridcore.validation import validate

G = "12010100100105"  # a grid of tianjin-pilot


@pytest.fixture(scope="module")
def city() -> Hierarchy:
    return build_city("tianjin-pilot", seed=2)


def _rural() -> Hierarchy:
    """A path-scheme hierarchy without polygons, neighbours declared in a row."""
    groups = [f"c/t/v/h/g{i}" for i in range(1, 5)]
    return Hierarchy.build(
        [
            Area("c", "county", "county"),
            Area("c/t", "town", "township", "c"),
            Area("c/t/v", "village", "village", "c/t"),
            Area("c/t/v/h", "hamlet", "hamlet", "c/t/v"),
            *(
                Area(
                    g,
                    f"group {i}",
                    "household_group",
                    "c/t/v/h",
                    households=7 + i,
                    neighbours=[groups[j] for j in (i - 2, i) if 0 <= j < 4],
                )
                for i, g in enumerate(groups, start=1)
            ),
        ],
        RURAL,
    )


def _area_sum(h: Hierarchy) -> float:
    return float(shapely.area(h.grid_polygons()).sum())


class TestSplitInTwo:
    def test_split_conserves_households_area_and_components(self, city: Hierarchy) -> None:
        """Two new grids, same households, same covered area, same components."""
        h2, lin = split_grid_in_two(city, G)
        new = lin.forward(G)
        assert len(new) == 2 and G not in h2 and G in h2.retired
        assert sum(h2.households(c) for c in new) == city.households(G)
        assert h2.total_households == city.total_households
        assert _area_sum(h2) == pytest.approx(_area_sum(city), abs=1e-6)
        before, after = city.totals("120101001001"), h2.totals("120101001001")
        assert after == {**before, "grids": before["grids"] + 1}
        assert h2.version == city.version + 1

    def test_split_never_mutates_the_old_hierarchy(self, city: Hierarchy) -> None:
        """The old version still has the grid, unchanged."""
        before = city.area(G)
        split_grid_in_two(city, G)
        assert city.area(G) == before and city.version == 1 and not city.retired

    def test_new_codes_follow_the_highest_sequence(self, city: Hierarchy) -> None:
        """20 grids: the parts are 21 and 22; a second split never reuses a retired code."""
        h2, lin = split_grid_in_two(city, G)
        assert lin.forward(G) == ("12010100100121", "12010100100122")
        _h3, lin2 = split_grid_in_two(h2, "12010100100122")
        assert lin2.forward("12010100100122") == ("12010100100123", "12010100100124")

    def test_split_keeps_the_tiling_valid_and_neighbours_exact(self, city: Hierarchy) -> None:
        """Validation stays clean; the parts neighbour each other and the old neighbours."""
        h2, lin = split_grid_in_two(city, G, axis="y", fraction=0.3)
        assert validate(h2, households=(0, 1000)).ok
        a, b = lin.forward(G)
        assert b in h2.neighbours(a)
        old_nbs = set(city.neighbours(G))
        assert old_nbs <= set(h2.neighbours(a)) | set(h2.neighbours(b))

    def test_fraction_sets_the_area_share(self, city: Hierarchy) -> None:
        """fraction=0.25 gives a first part with a quarter of the area."""
        h2, lin = split_grid_in_two(city, G, fraction=0.25)
        a, _ = lin.forward(G)
        share = h2.area(a).polygon.area / city.area(G).polygon.area
        assert share == pytest.approx(0.25, abs=1e-6)

    def test_compound_goes_to_one_part(self, city: Hierarchy) -> None:
        """单元完整: the grid's one compound lands in exactly one part."""
        h2, lin = split_grid_in_two(city, G)
        held = [h2.area(c).compounds for c in lin.forward(G)]
        assert sorted(c for cs in held for c in cs) == list(city.area(G).compounds)

    def test_bad_fraction_or_missing_polygon_is_refused(self, city: Hierarchy) -> None:
        """fraction 1 and a grid without polygon are refused."""
        with pytest.raises(ConfigError, match="fraction"):
            split_grid_in_two(city, G, fraction=1.0)
        with pytest.raises(HierarchyError, match="no polygon"):
            split_grid_in_two(_rural(), "c/t/v/h/g1")

    def test_split_of_a_community_is_refused(self, city: Hierarchy) -> None:
        """Only leaves can be split."""
        with pytest.raises(HierarchyError, match="'community'"):
            split_grid_in_two(city, "120101001001")


class TestSplitExplicit:
    def test_parts_that_leave_a_gap_are_refused(self, city: Hierarchy) -> None:
        """Half the grid given as the only polygon: refused, naming the grid."""
        poly = city.area(G).polygon
        x0, y0, x1, y1 = poly.bounds
        half = poly.intersection(shapely.box(x0, y0, (x0 + x1) / 2, y1))
        hh = city.households(G)
        with pytest.raises(HierarchyError, match=f"{G}.*differ"):
            split_grid(
                city, G, [GridPart(hh - 1, half), GridPart(1, poly.difference(half).buffer(-0.5))]
            )
        with pytest.raises(HierarchyError, match=f"{G}.*overlap"):
            split_grid(city, G, [GridPart(hh - 1, poly), GridPart(1, half)])

    def test_households_must_add_up(self, city: Hierarchy) -> None:
        """Parts holding one household too many are refused."""
        h2, lin = split_grid_in_two(city, G)
        polys = [h2.area(c).polygon for c in lin.forward(G)]
        with pytest.raises(HierarchyError, match="summing to"):
            split_grid(city, G, [GridPart(city.households(G), polys[0]), GridPart(1, polys[1])])

    def test_path_scheme_split_names_next_segments(self) -> None:
        """g2 of four groups splits into g5 and g6, which inherit its declared neighbours."""
        h = _rural()
        h2, lin = split_grid(h, "c/t/v/h/g2", [GridPart(5), GridPart(4, name="west")])
        assert lin.forward("c/t/v/h/g2") == ("c/t/v/h/g5", "c/t/v/h/g6")
        assert h2.area("c/t/v/h/g6").name == "west"
        assert set(h2.neighbours("c/t/v/h/g5")) == {"c/t/v/h/g1", "c/t/v/h/g3", "c/t/v/h/g6"}
        assert "c/t/v/h/g2" not in h2.neighbours("c/t/v/h/g1")

    def test_compounds_must_not_be_cut(self) -> None:
        """Declaring a compound in both parts is refused (单元完整)."""
        h = Hierarchy.build(
            [
                Area("c", "county", "county"),
                Area("c/t", "t", "township", "c"),
                Area("c/t/v", "v", "village", "c/t"),
                Area("c/t/v/h", "h", "hamlet", "c/t/v"),
                Area(
                    "c/t/v/h/1", "g", "household_group", "c/t/v/h", households=10, compounds=["A"]
                ),
            ],
            RURAL,
        )
        with pytest.raises(HierarchyError, match="单元完整"):
            split_grid(
                h, "c/t/v/h/1", [GridPart(5, compounds=("A",)), GridPart(5, compounds=("A",))]
            )


class TestMerge:
    def test_merge_of_neighbours_sums_households(self, city: Hierarchy) -> None:
        """Two neighbouring grids become one with their households and union polygon."""
        other = city.neighbours(G)[0]
        h2, lin = merge_grids(city, [G, other], name="joined")
        (new,) = lin.forward(G)
        assert lin.forward(other) == (new,)
        assert lin.backward(new) == tuple(sorted([G, other]))
        assert h2.households(new) == city.households(G) + city.households(other)
        assert h2.area(new).name == "joined"
        assert _area_sum(h2) == pytest.approx(_area_sum(city), abs=1e-6)
        assert validate(h2, households=(0, 1000)).ok

    def test_merge_of_grids_apart_is_refused(self, city: Hierarchy) -> None:
        """Grids with no shared boundary: refused naming them."""
        far = next(g for g in city.grids if g != G and g not in city.neighbours(G))
        with pytest.raises(HierarchyError, match=f"{far}|{G}") as err:
            merge_grids(city, [G, far])
        assert "adjacent" in str(err.value)

    def test_merge_across_parents_is_refused(self) -> None:
        """Grids of two communities cannot merge."""
        h = build_city("xiling", seed=1)
        a, b = next((g, n) for g in h.grids for n in h.neighbours(g) if h.parent(n) != h.parent(g))
        with pytest.raises(HierarchyError, match="different parents"):
            merge_grids(h, [a, b])

    def test_merge_needs_two_grids(self, city: Hierarchy) -> None:
        """One code (even repeated) is refused; unknown codes raise UnknownItemError."""
        with pytest.raises(HierarchyError, match="two or more"):
            merge_grids(city, [G, G])
        with pytest.raises(UnknownItemError):
            merge_grids(city, [G, "12010100100199"])

    def test_path_scheme_merge_relinks_declared_neighbours(self) -> None:
        """Merging g2 and g3 gives g5, neighbour of g1 and g4."""
        h2, lin = merge_grids(_rural(), ["c/t/v/h/g2", "c/t/v/h/g3"])
        assert lin.forward("c/t/v/h/g3") == ("c/t/v/h/g5",)
        assert h2.neighbours("c/t/v/h/g5") == ("c/t/v/h/g1", "c/t/v/h/g4")
        assert h2.households("c/t/v/h/g5") == 9 + 10


class TestLineage:
    def test_unchanged_codes_map_to_themselves(self, city: Hierarchy) -> None:
        """Other grids and the community are identity in the lineage."""
        _, lin = split_grid_in_two(city, G)
        other = city.grids[0]
        assert lin.forward(other) == (other,) and lin.backward(other) == (other,)
        assert lin.forward("120101001001") == ("120101001001",)

    def test_unknown_codes_are_refused(self, city: Hierarchy) -> None:
        """A code of neither version: UnknownItemError; a retired code has no backward."""
        _, lin = split_grid_in_two(city, G)
        with pytest.raises(UnknownItemError):
            lin.forward("99999999999999")
        with pytest.raises(UnknownItemError):
            lin.backward(G)

    def test_split_then_merge_composes_back_to_one_code(self, city: Hierarchy) -> None:
        """Split G then merge its parts: G maps to the merged code and back."""
        h2, a = split_grid_in_two(city, G)
        _h3, b = merge_grids(h2, a.forward(G))
        both = a.then(b)
        (merged,) = both.forward(G)
        assert both.backward(merged) == (G,)
        assert (both.from_version, both.to_version) == (1, 3)
        assert both.retired == {G} and both.created == {merged}

    def test_lineages_that_do_not_chain_are_refused(self, city: Hierarchy) -> None:
        """v1->v2 then v1->v2 again: LineageError naming the versions."""
        _, a = split_grid_in_two(city, G)
        with pytest.raises(LineageError, match="v1->v2"):
            a.then(a)

    def test_identity_is_neutral(self, city: Hierarchy) -> None:
        """identity.then(x) maps like x."""
        _, a = split_grid_in_two(city, G)
        both = Lineage.identity(city).then(a)
        assert both.forward(G) == a.forward(G) and both.forward_changes == a.forward_changes


class TestRehome:
    def test_cases_follow_merges_and_splits(self, city: Hierarchy) -> None:
        """Values of merged grids gather under the new code; split values go to every part."""
        other = city.neighbours(G)[0]
        h2, a = merge_grids(city, [G, other])
        (merged,) = a.forward(G)
        _h3, b = split_grid_in_two(h2, merged)
        keep = next(g for g in city.grids if g not in (G, other))
        out = rehome({G: "case-1", other: "case-2", keep: "case-3"}, a.then(b))
        parts = b.forward(merged)
        assert out == {
            keep: ("case-3",),
            parts[0]: ("case-1", "case-2"),
            parts[1]: ("case-1", "case-2"),
        }

    def test_on_split_can_refuse_or_choose(self, city: Hierarchy) -> None:
        """'refuse' raises LineageError; a chooser puts the value in one part."""
        _, lin = split_grid_in_two(city, G)
        with pytest.raises(LineageError, match="split"):
            rehome({G: 1}, lin, on_split="refuse")
        out = rehome({G: 1}, lin, on_split=lambda code, value, new: new[-1])
        assert out == {lin.forward(G)[-1]: (1,)}
