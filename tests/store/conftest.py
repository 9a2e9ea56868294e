"""Fixtures of the journal's contract suite: one store per backend, PostgreSQL included.

The PostgreSQL cluster is real (Debian's server, started in a temp folder as an
unprivileged user); when it cannot start, the tests that need it fail, never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import ThrowawayCluster

from gridcore.cases import CategoryDeadlines
from gridcore.categories import default_taxonomy
from gridcore.clock import CalendarSet
from gridcore.store import SqlCaseStore, open_store

POLICY = CategoryDeadlines(default_taxonomy(), CalendarSet.standard())
BACKENDS = ("sqlite-file", "sqlite-memory", "postgresql")
DURABLE = ("sqlite-file", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    """One throwaway PostgreSQL cluster for the whole session."""
    cluster = ThrowawayCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


def make_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh journal URL of that kind."""
    if kind == "sqlite-file":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    if kind == "sqlite-memory":
        return "sqlite://:memory:"
    cluster: ThrowawayCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh journal URL on each backend."""
    return make_url(request.param, tmp_path, request)


@pytest.fixture(params=DURABLE)
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh journal URL on each backend that outlives its connection."""
    return make_url(request.param, tmp_path, request)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlCaseStore]:
    """An open, empty journal (with the standard deadline policy) on each backend."""
    with open_store(store_url, policy=POLICY) as s:
        yield s
