"""Fixtures shared by the simulation tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    """A real Dask `LocalCluster`: two worker processes, one thread each, no dashboard
    (started once for every test that asks for it)."""
    distributed = pytest.importorskip("distributed")
    lc = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield lc
    finally:
        lc.close()
