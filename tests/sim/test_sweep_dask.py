"""A sweep through a real Dask cluster gives the local process pool's results.

Starts a `dask.distributed.LocalCluster` with two worker processes, runs a small sweep of
real queue-only simulations through `client.get_executor()` and through the CLI's
``dask://HOST:PORT`` spec, and compares every stored run with a local pool's.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dask_cluster import local_cluster

from gridcore.cli import main
from gridcore.sim.run import run_replication
from gridcore.sim.scenario import scenario_from_dict
from gridcore.sweep import Sweep, executor_from_spec, run_sweep

distributed = pytest.importorskip("distributed")

SWEEP_TOML = """
[sweep]
name = "mmc"
replications = 3
[sweep.grid]
"queue_only.workers" = [2, 3]
"queue_only.arrivals_per_hour" = [1.0, 1.5]
[run]
days = 10
seed = 5
[queue_only]
workers = 2
arrivals_per_hour = 1.0
mean_handling_minutes = 60
"""


def _sweep() -> Sweep:
    base = scenario_from_dict(
        {
            "name": "mmc",
            "run": {"days": 10, "seed": 5},
            "queue_only": {"workers": 2, "arrivals_per_hour": 1.0, "mean_handling_minutes": 60},
        }
    )
    return Sweep.grid(
        base,
        {"queue_only.workers": [2, 3], "queue_only.arrivals_per_hour": [1.0, 1.5]},
        replications=3,
        name="mmc",
    )


def _stored(folder: Path) -> dict[str, Any]:
    return {
        p.stem: json.loads(p.read_text("utf-8"))["metrics"]
        for p in sorted((folder / "runs").glob("*.json"))
    }


@pytest.fixture(scope="module")
def local_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: the same sweep on a local process pool."""
    folder = tmp_path_factory.mktemp("local")
    with cf.ProcessPoolExecutor(2) as ex:
        res = run_sweep(_sweep(), folder, ex, runner=run_replication)
    assert res.ok and res.executed == 12
    return _stored(folder)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    yield from local_cluster()


def test_dask_client_executor_gives_the_local_pool_results(
    cluster: Any, local_results: dict[str, Any], tmp_path: Path
) -> None:
    """Every run through client.get_executor() stores the local pool's metrics, none merged."""
    with distributed.Client(cluster) as client, distributed.get_task_stream(client) as ts:
        ex = client.get_executor()
        res = run_sweep(_sweep(), tmp_path, ex, runner=run_replication)
    assert res.ok and res.executed == 12 and res.reused == 0
    # twelve distinct tasks ran on the cluster: no two calls were merged into one
    assert len({t["key"] for t in ts.data}) == 12
    got = _stored(tmp_path)
    assert got == local_results  # same keys, equal metrics


def test_cli_dask_spec_runs_the_sweep_file(
    cluster: Any, local_results: dict[str, Any], tmp_path: Path
) -> None:
    """`gridcore sweep FILE --executor dask://HOST:PORT` on the cluster matches too."""
    f = tmp_path / "mmc.toml"
    f.write_text(SWEEP_TOML, encoding="utf-8")
    address = cluster.scheduler_address.split("://", 1)[1]
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--executor", f"dask://{address}"]) == 0
    assert _stored(out) == local_results
    # a second run over the cluster finds everything stored and does no work
    ex = executor_from_spec(f"dask://{address}")
    try:
        again = run_sweep(_sweep(), out, ex, runner=run_replication)
    finally:
        ex.shutdown()
    assert again.executed == 0 and again.reused == 12
