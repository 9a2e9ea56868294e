"""Hierarchy at 50,000 grids: build, structural queries and validation, against naive baselines.

Run: .venv/bin/pytest benchmarks/bench_hierarchy.py --benchmark-only
The naive baseline is a dict of parent codes walked upwards and a linear scan of
all grids, which is what a first implementation would do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gridcore.hierarchy import Hierarchy
from gridcore.synth import CitySpec, build_city
from gridcore.validation import FindingKind, validate

SPEC = CitySpec("big", grids=50_000, districts=10, streets=110, communities=1_100)
QUERIES = 200


@pytest.fixture(scope="module")
def city() -> Hierarchy:
    return build_city(SPEC, seed=1)


@pytest.fixture(scope="module")
def picks(city: Hierarchy) -> list[tuple[str, str]]:
    rng = np.random.default_rng(7)
    grids = city.grids
    i = rng.integers(0, len(grids), size=(QUERIES, 2))
    return [(grids[a], grids[b]) for a, b in i]


@pytest.fixture(scope="module")
def parents(city: Hierarchy) -> dict[str, str | None]:
    return {a.code: a.parent for a in city.areas}


def _naive_ancestors(parents: dict[str, str | None], code: str) -> list[str]:
    out = []
    p = parents[code]
    while p is not None:
        out.append(p)
        p = parents[p]
    return out


def _naive_lca(parents: dict[str, str | None], a: str, b: str) -> str | None:
    up = {a, *_naive_ancestors(parents, a)}
    for c in (b, *_naive_ancestors(parents, b)):
        if c in up:
            return c
    return None


def _naive_grids_under(city: Hierarchy, parents: dict[str, str | None], code: str) -> list[str]:
    return [g for g in city.grids if code == g or code in _naive_ancestors(parents, g)]


def _per_call(benchmark: Any, fn: Callable[[], Any]) -> Any:
    return benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)


def test_build_city_50k(benchmark: Any) -> None:
    h = benchmark.pedantic(build_city, args=(SPEC, 1), rounds=1, iterations=1)
    assert len(h.grids) == 50_000


def test_ancestors(benchmark: Any, city: Hierarchy, picks: list[tuple[str, str]]) -> None:
    out = _per_call(benchmark, lambda: [city.ancestors(a) for a, _ in picks])
    assert all(len(x) == 4 for x in out)


def test_ancestors_naive_baseline(
    benchmark: Any, parents: dict[str, str | None], picks: list[tuple[str, str]]
) -> None:
    out = _per_call(benchmark, lambda: [_naive_ancestors(parents, a) for a, _ in picks])
    assert all(len(x) == 4 for x in out)


def test_lowest_common_ancestor(
    benchmark: Any, city: Hierarchy, picks: list[tuple[str, str]]
) -> None:
    out = _per_call(benchmark, lambda: [city.lowest_common_ancestor(a, b) for a, b in picks])
    assert all(x is not None for x in out)


def test_lowest_common_ancestor_naive_baseline(
    benchmark: Any, parents: dict[str, str | None], picks: list[tuple[str, str]]
) -> None:
    out = _per_call(benchmark, lambda: [_naive_lca(parents, a, b) for a, b in picks])
    assert all(x is not None for x in out)


def _streets(city: Hierarchy, picks: list[tuple[str, str]]) -> list[str]:
    return [city.ancestor_at(a, "street") for a, _ in picks[:20]]


def test_grids_under_street(benchmark: Any, city: Hierarchy, picks: list[tuple[str, str]]) -> None:
    streets = _streets(city, picks)
    out = _per_call(benchmark, lambda: [city.grids_under(s) for s in streets])
    assert sum(len(x) for x in out) > 0


def test_grids_under_street_naive_baseline(
    benchmark: Any, city: Hierarchy, parents: dict[str, str | None], picks: list[tuple[str, str]]
) -> None:
    streets = _streets(city, picks)[:2]  # a linear scan is slow: two streets per round
    out = benchmark.pedantic(
        lambda: [_naive_grids_under(city, parents, s) for s in streets], rounds=2, iterations=1
    )
    assert [len(x) for x in out] == [len(city.grids_under(s)) for s in streets]


def test_neighbours(benchmark: Any, city: Hierarchy, picks: list[tuple[str, str]]) -> None:
    city.neighbours(picks[0][0])  # the table is built once per hierarchy, outside timing
    out = _per_call(benchmark, lambda: [city.neighbours(a) for a, _ in picks])
    assert all(len(x) >= 1 for x in out)


def test_validate_50k(benchmark: Any, city: Hierarchy) -> None:
    report = benchmark.pedantic(validate, args=(city,), rounds=1, iterations=1)
    assert report.grids == 50_000
    assert FindingKind.OVERLAP not in report.by_kind()  # synthetic grids never overlap
