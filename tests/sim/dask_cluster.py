"""A real Dask cluster for the tests that need one: `local_cluster()`, a generator a
test module's fixture yields from.

Not a conftest.py: the store tests import their fixtures module as `conftest`, and a
second conftest.py under tests/ would take that name when both folders are collected in
one call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def local_cluster() -> Iterator[Any]:
    """A `LocalCluster`: two worker processes, one thread each, no dashboard; closed after."""
    distributed = pytest.importorskip("distributed")
    lc = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield lc
    finally:
        lc.close()
