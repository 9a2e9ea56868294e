"""The queue-only mode against queueing theory (Erlang C), and the results folder."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gridcore.sim.results import read_summary
from gridcore.sim.run import replication_seed, run_replication, run_scenario
from gridcore.sim.scenario import apply_overrides, load_scenario, scenario_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _mmc(c: int, rho: float, customers: int, replications: int, seed: int = 2024):
    """A queue-only scenario of about `customers` measured customers in all."""
    mean_s = 60.0
    per_hour = rho * c * 60.0 / mean_s
    days = customers / replications / (per_hour * 24.0)
    return scenario_from_dict(
        {
            "name": f"mm{c}-{rho}",
            "run": {
                "days": days,
                "warmup_days": days * 0.02,
                "seed": seed,
                "replications": replications,
            },
            "queue_only": {
                "workers": c,
                "arrivals_per_hour": per_hour,
                "mean_handling_minutes": mean_s,
            },
        }
    )


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(2) as ex:
        yield ex


# (c, utilisation, customers): enough customers that 3% is > 3 standard errors (measured:
# the relative sd of the mean wait over 200k customers is 0.9% at M/M/1 0.5, 2% at 0.8,
# 5.5% at M/M/3 0.9).
POINTS = [
    (1, 0.5, 400_000),
    (1, 0.8, 1_200_000),
    (2, 0.8, 1_200_000),
    (5, 0.7, 1_000_000),
    (3, 0.9, 5_000_000),
]


@pytest.mark.parametrize(("c", "rho", "customers"), POINTS)
def test_queue_only_reproduces_erlang_c(c: int, rho: float, customers: int, pool) -> None:
    """Mean wait in queue and P(wait) within 3% of Erlang C."""
    s = _mmc(c, rho, customers, replications=8)
    r = run_scenario(s, executor=pool)
    theory = dict(r.theory)
    est = r.estimates()
    wait_err = est["queue_wait_minutes"].mean / theory["queue_wait_minutes"] - 1
    p_err = est["p_wait"].mean / theory["p_wait"] - 1
    assert abs(wait_err) < 0.03, (c, rho, wait_err)
    assert abs(p_err) < 0.03, (c, rho, p_err)
    assert est["utilisation"].mean == pytest.approx(rho, rel=0.01)
    assert r.checks_ok()


def test_the_issue_file_writes_wait_and_p_wait_at_the_top(tmp_path: Path) -> None:
    """examples/mmc.toml as written: summary.json holds queue_wait_minutes_mean and p_wait."""
    s = load_scenario(EXAMPLES / "mmc.toml")
    r = run_scenario(s)
    r.write(tmp_path / "out")
    summary = read_summary(tmp_path / "out")
    reps = [run_replication(s, i) for i in range(4)]
    want_wait = sum(x.metric("queue_wait_minutes") for x in reps) / 4
    want_p = sum(x.metric("p_wait") for x in reps) / 4
    assert summary["queue_wait_minutes_mean"] == pytest.approx(want_wait)
    assert summary["p_wait"] == pytest.approx(want_p)
    assert summary["replications"] == 4 and summary["mode"] == "queue_only"
    # within a few standard errors of Erlang C's 64.7 minutes
    assert 40 < summary["queue_wait_minutes_mean"] < 90


def test_same_scenario_and_seed_give_identical_folders(tmp_path: Path) -> None:
    """Byte-for-byte identical output, serial or parallel."""
    s = apply_overrides(load_scenario(EXAMPLES / "mmc.toml"), {"run.days": 40})
    run_scenario(s).write(tmp_path / "a")
    with ProcessPoolExecutor(2) as ex:
        run_scenario(s, executor=ex).write(tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_replication_seeds_do_not_depend_on_the_count() -> None:
    """Replication i's seed is SeedSequence(seed).spawn(n)[i] for any n > i."""
    s = load_scenario(EXAMPLES / "mmc.toml")
    spawned = np.random.SeedSequence(11).spawn(7)[3]
    mine = replication_seed(s, 3)
    assert mine.generate_state(4).tolist() == spawned.generate_state(4).tolist()


def test_results_tables_load_as_csv(tmp_path: Path) -> None:
    """replications.csv and checks.csv are plain CSV with a header row."""
    s = apply_overrides(load_scenario(EXAMPLES / "mmc.toml"), {"run.days": 20})
    run_scenario(s).write(tmp_path)
    head = (tmp_path / "replications.csv").read_text().splitlines()[0].split(",")
    assert head[0] == "replication" and "p_wait" in head
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["checks_ok"] is True
