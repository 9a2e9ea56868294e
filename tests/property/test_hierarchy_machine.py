"""Random splits and merges against a trivially correct model of grids and their origins."""

from __future__ import annotations

import hypothesis.strategies as st
import shapely
from hypothesis import HealthCheck, note, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gridcore.adjust import Lineage, merge_grids, split_grid_in_two
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode
from gridcore.synth import build_city
from gridcore.validation import validate


class HierarchyEdits(RuleBasedStateMachine):
    """Model: grid code -> households, and grid code -> the original grids ("atoms") it covers."""

    def __init__(self) -> None:
        super().__init__()
        self.start: Hierarchy = build_city("tianjin-pilot", seed=7)
        self.h = self.start
        self.lineage = Lineage.identity(self.start)
        self.households: dict[AreaCode, int] = {
            g: self.start.households(g) for g in self.start.grids
        }
        self.atoms: dict[AreaCode, frozenset[AreaCode]] = {
            g: frozenset({g}) for g in self.start.grids
        }
        self.area0 = shapely.union_all(self.start.grid_polygons())
        self.seen: set[AreaCode] = set(self.start.grids)

    @rule(data=st.data(), fraction=st.floats(0.2, 0.8), axis=st.sampled_from(["auto", "x", "y"]))
    def split(self, data: st.DataObject, fraction: float, axis: str) -> None:
        g = data.draw(st.sampled_from(sorted(self.households)))
        note(f"split {g} at {fraction:.3f} along {axis}")
        old = self.h
        self.h, lin = split_grid_in_two(old, g, axis=axis, fraction=fraction)  # type: ignore[arg-type]
        parts = lin.forward(g)
        assert old.version + 1 == self.h.version and g in old  # the old version is untouched
        total = self.households.pop(g)
        origin = self.atoms.pop(g)
        for p in parts:
            self.households[p] = self.h.households(p)
            self.atoms[p] = origin
        assert sum(self.households[p] for p in parts) == total
        self._advance(lin, parts)

    @precondition(lambda self: len(self.households) > 1)
    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        g = data.draw(st.sampled_from(sorted(self.households)))
        other = data.draw(st.sampled_from(self.h.neighbours(g)))
        note(f"merge {g} + {other}")
        self.h, lin = merge_grids(self.h, [g, other])
        (new,) = lin.forward(g)
        self.households[new] = self.households.pop(g) + self.households.pop(other)
        self.atoms[new] = self.atoms.pop(g) | self.atoms.pop(other)
        self._advance(lin, (new,))

    def _advance(self, lin: Lineage, created: tuple[AreaCode, ...]) -> None:
        assert not set(created) & self.seen, "a retired code was reused"
        self.seen |= set(created)
        self.lineage = self.lineage.then(lin)

    @invariant()
    def grids_and_households_match_the_model(self) -> None:
        assert set(self.h.grids) == set(self.households)
        assert {g: self.h.households(g) for g in self.h.grids} == self.households
        assert self.h.total_households == self.start.total_households

    @invariant()
    def coverage_is_conserved_and_valid(self) -> None:
        union = shapely.union_all(self.h.grid_polygons())
        assert shapely.symmetric_difference(union, self.area0).area < 1e-6
        report = validate(self.h, households=(0, 10**6))
        assert report.ok, report.to_text()

    @invariant()
    def composed_lineage_matches_the_atoms(self) -> None:
        lin = self.lineage
        assert (lin.from_version, lin.to_version) == (self.start.version, self.h.version)
        for g, origin in self.atoms.items():
            assert set(lin.backward(g)) == set(origin)
        for atom in self.start.grids:
            assert set(lin.forward(atom)) == {g for g, o in self.atoms.items() if atom in o}


HierarchyEdits.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHierarchyEdits = HierarchyEdits.TestCase
