"""(grid, category) -> owner: rules at any level, resolved once into compact arrays.

A rule names an area (grid, community, street, district, city...), a category
(a 小类 or any ancestor 大类) and the owner (a department id) that handles that
matter there. For a (grid, category) the winning rule is the one whose
category is nearest to the asked category (most specific category first), and
among those the one whose area is deepest (most specific level). Two rules on
the same area and category with different owners are a conflict (都管都不管):
neither is more specific. `coverage_report` lists conflicts and every
(area, leaf category) with no owner, so a rule set can be checked before it
is deployed (一件事一个部门管).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from gridcore.categories import Taxonomy
from gridcore.errors import CoverageError, RoutingError, UnknownItemError
from gridcore.hierarchy import Hierarchy
from gridcore.ids import AreaCode, CategoryCode

__all__ = [
    "Conflict",
    "CoverageReport",
    "Gap",
    "OwnerTable",
    "OwnershipRule",
    "OwnershipRules",
    "RuleTargetError",
    "coverage_report",
]


class RuleTargetError(UnknownItemError, RoutingError):
    """A rule naming an area or a category that does not exist."""


def _area(value: object) -> AreaCode:
    return AreaCode(str(value))


def _category(value: object) -> CategoryCode:
    return CategoryCode(str(value))


@attrs.frozen
class OwnershipRule:
    """In `area` (any level) and for `category` (or its descendants), `owner` handles the matter."""

    area: AreaCode = attrs.field(converter=_area)
    category: CategoryCode = attrs.field(converter=_category)
    owner: str
    name: str = ""
    """A name for reports; by default ``area/category->owner``."""

    @property
    def label(self) -> str:
        """The rule's name, or ``area/category->owner`` when it has none."""
        return self.name or f"{self.area}/{self.category}->{self.owner}"


@attrs.frozen
class Gap:
    """No rule gives an owner for `category` anywhere in `area` (all its `grids` grids)."""

    area: AreaCode
    level: str
    category: CategoryCode
    grids: int


@attrs.frozen
class Conflict:
    """Rules on the same area and category naming different owners (都管都不管)."""

    area: AreaCode
    category: CategoryCode
    owners: tuple[str, ...]
    rules: tuple[str, ...]
    cells: int
    """(grid, leaf category) pairs where these rules would be the winners."""


@attrs.frozen
class CoverageReport:
    """Every (area, leaf category) with no owner, and every conflict, naming the rules."""

    gaps: tuple[Gap, ...]
    conflicts: tuple[Conflict, ...]
    cells: int
    """(grid, leaf category) pairs checked."""
    uncovered_cells: int

    @property
    def ok(self) -> bool:
        """True when every (grid, leaf category) has exactly one owner."""
        return not self.gaps and not self.conflicts

    def raise_if_not_ok(self) -> None:
        """Raise CoverageError naming the first gap and the first conflict, if any."""
        if self.ok:
            return
        parts: list[str] = []
        if self.gaps:
            g = self.gaps[0]
            parts.append(
                f"{len(self.gaps)} gaps ({self.uncovered_cells} cells), first: no owner for "
                f"category {g.category!r} in {g.level} {g.area!r}"
            )
        if self.conflicts:
            c = self.conflicts[0]
            parts.append(
                f"{len(self.conflicts)} conflicts, first: category {c.category!r} in "
                f"{c.area!r} owned by {list(c.owners)} (rules {list(c.rules)})"
            )
        raise CoverageError("ownership rules: " + "; ".join(parts))


class OwnerTable:
    """Resolved owners: distinct rows of owner indexes and a grid -> row map.

    `owner(grid, category)` answers one lookup; `owners_many` answers arrays of
    grid and category positions with two gathers.
    """

    __slots__ = (
        "_cat_pos",
        "_flat",
        "_flat_list",
        "_grid_pos",
        "_grid_row",
        "_grid_row_list",
        "_rule_rows",
        "category_codes",
        "grid_codes",
        "owners",
        "rules",
    )

    def __init__(
        self,
        grid_codes: tuple[AreaCode, ...],
        category_codes: tuple[CategoryCode, ...],
        owners: tuple[str, ...],
        rules: tuple[OwnershipRule, ...],
        grid_row: NDArray[np.int32],
        rule_rows: NDArray[np.int32],
    ) -> None:
        self.grid_codes = grid_codes
        self.category_codes = category_codes
        self.owners = owners
        """Distinct owner ids; owner indexes point into this tuple (-1: no owner)."""
        self.rules = rules
        self._grid_row = grid_row
        self._rule_rows = rule_rows
        rule_owner = np.array([owners.index(r.owner) for r in rules] + [-1], dtype=np.int32)
        # rule index -1 (no rule) reads the trailing -1 owner
        self._flat = rule_owner[rule_rows].ravel().astype(np.int32)
        self._flat_list: list[int] = self._flat.tolist()
        self._grid_row_list: list[int] = (grid_row * len(category_codes)).tolist()
        self._grid_pos = {c: i for i, c in enumerate(grid_codes)}
        self._cat_pos = {c: i for i, c in enumerate(category_codes)}

    @property
    def distinct_rows(self) -> int:
        """Number of distinct owner rows (grids sharing the same rules share a row)."""
        return int(self._rule_rows.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the lookup arrays."""
        return int(self._flat.nbytes + self._grid_row.nbytes)

    def grid_position(self, grid: str) -> int:
        """The position of a grid code; UnknownItemError naming it if absent."""
        try:
            return self._grid_pos[grid]  # type: ignore[index]
        except KeyError:
            raise UnknownItemError("grid", grid, "owner table") from None

    def category_position(self, category: str) -> int:
        """The position of a category code; UnknownItemError naming it if absent."""
        try:
            return self._cat_pos[category]  # type: ignore[index]
        except KeyError:
            raise UnknownItemError("category", category, "owner table") from None

    def category_positions(self, categories: Iterable[str]) -> NDArray[np.int32]:
        """Positions of many category codes; UnknownItemError naming the first unknown one."""
        get = self._cat_pos.get
        out = [get(c, -1) for c in categories]  # type: ignore[call-overload]
        arr = np.array(out, dtype=np.int32)
        if (arr < 0).any():
            bad = list(categories)[int(np.flatnonzero(arr < 0)[0])]
            raise UnknownItemError("category", bad, "owner table")
        return arr

    def lookup_parts(self) -> tuple[dict[str, int], list[int], list[int], tuple[str, ...]]:
        """What `owner_at` reads, for a caller's hot loop: category -> position, grid
        position -> row offset, the flat owner indexes and the owner ids."""
        cat_pos: dict[str, int] = self._cat_pos  # type: ignore[assignment]
        return cat_pos, self._grid_row_list, self._flat_list, self.owners

    def owner_at(self, grid_position: int, category_position: int) -> str | None:
        """The owner for positions (no checks beyond Python's own indexing)."""
        k = self._flat_list[self._grid_row_list[grid_position] + category_position]
        return None if k < 0 else self.owners[k]

    def owner(self, grid: str, category: str) -> str | None:
        """The owner of `category` in `grid`, or None when no rule covers it."""
        return self.owner_at(self.grid_position(grid), self.category_position(category))

    def rule(self, grid: str, category: str) -> OwnershipRule | None:
        """The winning rule for `category` in `grid` (explains `owner`), or None."""
        g, c = self.grid_position(grid), self.category_position(category)
        k = int(self._rule_rows[self._grid_row[g], c])
        return None if k < 0 else self.rules[k]

    def owners_many(self, grid_positions: Any, category_positions: Any) -> NDArray[np.int32]:
        """Owner indexes into `owners` (-1: no owner) for arrays of positions."""
        g = np.asarray(grid_positions)
        c = np.asarray(category_positions)
        if g.shape != c.shape:
            raise RoutingError(
                f"owners_many: {g.shape} grid positions and {c.shape} category positions, "
                "expected the same shape"
            )
        n_g, n_c = len(self.grid_codes), len(self.category_codes)
        if g.size and (int(g.min()) < 0 or int(g.max()) >= n_g):
            raise RoutingError(f"owners_many: grid positions must lie in [0, {n_g})")
        if c.size and (int(c.min()) < 0 or int(c.max()) >= n_c):
            raise RoutingError(f"owners_many: category positions must lie in [0, {n_c})")
        idx = self._grid_row[g].astype(np.intp)
        idx *= n_c
        idx += c
        result: NDArray[np.int32] = self._flat[idx]
        return result


def _check_targets(
    rules: Sequence[OwnershipRule], hierarchy: Hierarchy, taxonomy: Taxonomy
) -> None:
    for i, r in enumerate(rules):
        if r.area not in hierarchy:
            raise RuleTargetError("area", r.area, f"rule {i} {r.label!r}")
        if r.category not in taxonomy:
            raise RuleTargetError("category", r.category, f"rule {i} {r.label!r}")


class OwnershipRules:
    """An immutable rule set; `resolve` it against a hierarchy and a taxonomy."""

    __slots__ = ("rules",)

    def __init__(self, rules: Iterable[OwnershipRule]) -> None:
        self.rules: tuple[OwnershipRule, ...] = tuple(rules)
        for i, r in enumerate(self.rules):
            if not isinstance(r, OwnershipRule):
                raise RoutingError(f"rule {i}: {r!r} is not an OwnershipRule")
            if not r.owner:
                raise RoutingError(f"rule {i} {r.label!r}: owner is empty")

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Any:
        return iter(self.rules)

    def conflicts(self) -> dict[tuple[AreaCode, CategoryCode], tuple[int, ...]]:
        """(area, category) -> indexes of rules there, where they name different owners."""
        by_key: dict[tuple[AreaCode, CategoryCode], list[int]] = {}
        for i, r in enumerate(self.rules):
            by_key.setdefault((r.area, r.category), []).append(i)
        return {k: tuple(v) for k, v in by_key.items() if len({self.rules[i].owner for i in v}) > 1}

    def resolve(
        self, hierarchy: Hierarchy, taxonomy: Taxonomy, *, allow_conflicts: bool = False
    ) -> OwnerTable:
        """The owner table; RuleTargetError for an unknown area or category in a rule.

        A conflict raises CoverageError naming the rules, unless `allow_conflicts`
        (then the rule listed first wins, deterministically).
        """
        return _resolve(self, hierarchy, taxonomy, allow_conflicts)[0]


def _resolve(
    rules: OwnershipRules, hierarchy: Hierarchy, taxonomy: Taxonomy, allow_conflicts: bool
) -> tuple[OwnerTable, NDArray[np.int64]]:
    """The owner table and, per distinct row, how many grids use it."""
    rs = rules.rules
    _check_targets(rs, hierarchy, taxonomy)
    conflicts = rules.conflicts()
    if conflicts and not allow_conflicts:
        (area, cat), idx = next(iter(conflicts.items()))
        raise CoverageError(
            f"ownership rules: category {cat!r} in area {area!r} has owners "
            f"{sorted({rs[i].owner for i in idx})} from rules {[rs[i].label for i in idx]}; "
            "expected one owner (都管都不管)"
        )
    cats = tuple(c.code for c in taxonomy)
    cat_pos = {c: i for i, c in enumerate(cats)}
    # parents before children, so a category inherits its parent's resolved winner
    depth = {c.code: len(taxonomy.ancestors(c.code)) for c in taxonomy}
    topo = sorted(range(len(cats)), key=lambda i: depth[cats[i]])
    parent_pos = [
        -1 if taxonomy.get(c).parent is None else cat_pos[taxonomy.get(c).parent]  # type: ignore[index]
        for c in cats
    ]
    # rules per area: category position -> rule index (first listed wins a conflict)
    area_rules: dict[AreaCode, dict[int, int]] = {}
    for i, r in enumerate(rs):
        area_rules.setdefault(r.area, {}).setdefault(cat_pos[r.category], i)
    rule_areas = sorted(area_rules)
    area_id = {a: i for i, a in enumerate(rule_areas)}
    levels = hierarchy.scheme.level_names
    grids = hierarchy.grids
    n = len(grids)
    # signature of a grid: the rule-bearing area at each level of its path (-1: none)
    sig = np.full((n, len(levels)), -1, dtype=np.int64)
    for d, lv in enumerate(levels):
        if not any(hierarchy.level_of(a) == lv for a in rule_areas):
            continue
        anc = hierarchy.grid_ancestor_codes(lv)
        sig[:, d] = [area_id.get(a, -1) for a in anc]
    uniq, inverse = np.unique(sig, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    rule_rows = np.full((len(uniq), len(cats)), -1, dtype=np.int32)
    for row, s in enumerate(uniq.tolist()):
        merged: dict[int, int] = {}
        for a in s:  # top level first: deeper areas override
            if a >= 0:
                merged.update(area_rules[rule_areas[a]])
        win = [-1] * len(cats)
        for c in topo:
            k = merged.get(c)
            if k is None:
                p = parent_pos[c]
                k = win[p] if p >= 0 else -1
            win[c] = k
        rule_rows[row] = win
    owners = tuple(sorted({r.owner for r in rs}))
    table = OwnerTable(grids, cats, owners, rs, inverse.astype(np.int32), rule_rows)
    return table, np.bincount(inverse, minlength=len(uniq))


def _grid_runs(
    hierarchy: Hierarchy,
) -> list[tuple[str, tuple[AreaCode, ...], NDArray[np.int64], NDArray[np.int64]]]:
    """Per level, top first: the areas and the slices [lo, hi) of grid positions under them."""
    out: list[tuple[str, tuple[AreaCode, ...], NDArray[np.int64], NDArray[np.int64]]] = []
    for lv in hierarchy.scheme.level_names:
        anc = hierarchy.grid_ancestor_codes(lv)
        starts = [0] + [i for i in range(1, len(anc)) if anc[i] != anc[i - 1]]
        lo = np.array(starts, dtype=np.int64)
        hi = np.append(lo[1:], len(anc))
        out.append((lv, tuple(anc[i] for i in starts), lo, hi))
    return out


def coverage_report(
    rules: OwnershipRules | Iterable[OwnershipRule], hierarchy: Hierarchy, taxonomy: Taxonomy
) -> CoverageReport:
    """Check that every (grid, leaf category) has exactly one owner (一件事一个部门管).

    Gaps are reported per leaf category at the largest areas whose grids all
    lack an owner; conflicts per (area, category) with the rules involved and
    the number of (grid, leaf category) pairs they would decide. A rule naming
    an unknown area or category raises RuleTargetError.
    """
    rs = rules if isinstance(rules, OwnershipRules) else OwnershipRules(rules)
    table, _ = _resolve(rs, hierarchy, taxonomy, allow_conflicts=True)
    leaves = [table.category_position(c.code) for c in taxonomy.leaves()]
    per_grid = table._rule_rows[table._grid_row][:, leaves]  # (grids, leaves) winning rule
    runs = _grid_runs(hierarchy)
    gaps: list[Gap] = []
    missing = per_grid < 0
    uncovered = int(missing.sum())
    if uncovered:
        for j in np.flatnonzero(missing.any(axis=0)):
            cs = np.concatenate(([0], np.cumsum(missing[:, j])))
            # areas nest: once an area is reported, its descendants are not
            reported = np.zeros(len(missing) + 1, dtype=np.bool_)
            for lv, codes, lo, hi in runs:
                new = ((cs[hi] - cs[lo]) == (hi - lo)) & ~reported[lo]
                for k in np.flatnonzero(new):
                    a, b = int(lo[k]), int(hi[k])
                    reported[a:b] = True
                    gaps.append(Gap(codes[k], lv, table.category_codes[leaves[j]], b - a))
    conflicts: list[Conflict] = []
    for (area, cat), idx in rs.conflicts().items():
        winner = idx[0]
        cells = int((per_grid == winner).sum())
        conflicts.append(
            Conflict(
                area,
                cat,
                tuple(sorted({rs.rules[i].owner for i in idx})),
                tuple(rs.rules[i].label for i in idx),
                cells,
            )
        )
    return CoverageReport(tuple(gaps), tuple(conflicts), int(per_grid.size), uncovered)
