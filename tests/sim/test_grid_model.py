"""The grid model on small presets: real cases, conservation, determinism, what-ifs."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.metrics import compute_metrics
from gridcore.sim.commands import format_comparison, format_summary, register
from gridcore.sim.model import run_partition
from gridcore.sim.results import read_summary
from gridcore.sim.run import compare, run_replication, run_scenario
from gridcore.sim.scenario import apply_overlay, apply_overrides, preset_scenario


@pytest.fixture(scope="module")
def shuanghu():
    return apply_overrides(
        preset_scenario("shuanghu"), {"run.days": 20, "run.replications": 2, "run.seed": 3}
    )


@pytest.fixture(scope="module")
def result(shuanghu):
    return run_scenario(shuanghu)


def test_every_incident_is_accounted_for(result) -> None:
    """Conservation and Little's law hold on every replication."""
    assert result.checks_ok()
    names = {c.name for r in result.replications for c in r.checks}
    assert {"conservation", "little_grid_queue", "little_level_queue"} <= names


def test_metrics_come_from_the_real_metrics_module(result) -> None:
    """Cases, rates and shares per level are present and sane."""
    r = result.replications[0].as_dict()
    assert r["cases"] > 50
    assert 0.0 <= r["on_time_rate"] <= 1.0
    shares = sum(r[f"share_resolved_{lv}"] for lv in ("grid", "community", "street", "department"))
    assert shares == pytest.approx(1.0, abs=0.05)
    assert 0.0 < r["worker_utilisation"] < 1.0
    assert r["patrol_coverage"] > 0.9


def test_a_replication_is_a_pure_function_of_scenario_and_index(shuanghu, result) -> None:
    """run_replication alone gives the parallel run's numbers."""
    again = run_replication(shuanghu, 1)
    assert again.metrics == result.replications[1].metrics
    assert again.tables == result.replications[1].tables


def test_the_results_folder_is_byte_for_byte_reproducible(shuanghu, result, tmp_path: Path) -> None:
    """Same scenario and seed, same files."""
    result.write(tmp_path / "a")
    run_scenario(shuanghu).write(tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    summary = read_summary(tmp_path / "a")
    assert summary["mode"] == "grid" and "on_time_rate_mean" in summary
    assert (tmp_path / "a" / "grid_workers.csv").exists()
    assert (tmp_path / "a" / "backlog.csv").exists()


def test_flattening_is_compared_with_common_random_numbers(shuanghu) -> None:
    """Flattened routing sees the same incidents and never needs relay escalations."""
    base = apply_overrides(shuanghu, {"run.replications": 2})
    cmp = compare(base, apply_overlay(base, "flattened"))
    b, w = cmp.base.replications[0].as_dict(), cmp.whatif.replications[0].as_dict()
    assert b["incidents"] == w["incidents"]
    assert w["accurate_dispatch_rate"] >= b["accurate_dispatch_rate"]
    text = format_comparison(cmp)
    assert "difference" in text


def test_fewer_patrols_find_fewer_latent_incidents(shuanghu) -> None:
    """One patrol a day: lower patrol time and later discovery."""
    base = run_partition(shuanghu, 0, 0)
    one = run_partition(apply_overlay(shuanghu, "one_patrol"), 0, 0)
    b, o = dict(base.counters), dict(one.counters)
    assert o["t_patrol"] < b["t_patrol"]
    assert o["incidents"] == b["incidents"]


def test_summary_table_lists_the_main_figures(result) -> None:
    """The printed summary shows response, on-time rate, shares and utilisation."""
    text = format_summary(result)
    for word in ("response time", "on-time", "resolved at grid", "utilisation"):
        assert word in text


def test_the_command_line_runs_a_preset(tmp_path: Path, capsys) -> None:
    """`simulate --preset shuanghu` writes the folder and prints the table."""
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    register(sub)
    args = parser.parse_args(
        [
            "simulate",
            "--preset",
            "shuanghu",
            "--days",
            "5",
            "--replications",
            "1",
            "--seed",
            "1",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert args.func(args) == 0
    assert "scenario 'shuanghu'" in capsys.readouterr().out
    assert read_summary(tmp_path)["replications"] == 1


def test_an_emergency_cuts_a_patrol_short() -> None:
    """A critical case reported while its grid's workers patrol interrupts a patrol: the
    patrol counts for the share walked, and the worker goes on working."""
    from gridcore.sim.model import _Street

    critical = ["G0101", "G0401", "G0802", "C0501", "E0401"]  # the severity-4 leaves
    s = apply_overrides(
        preset_scenario("shuanghu"),
        {
            "run.days": 4,
            "run.warmup_days": 0,
            "run.seed": 2,
            "incidents.resident_share": 1.0,
            "surges": [{"categories": critical, "factor": 1500.0, "start_day": 0, "days": 4}],
        },
    )
    street = _Street(s, 0, 0, keep_events=True)
    ctr = dict(street.run().counters)
    cut = ctr["emergency_interrupts"]
    assert cut >= 3
    started = sum(street.g_patrols)
    # each cut-short patrol counts for less than a whole one; none is lost or counted twice
    assert started - cut < ctr["patrols_done"] < started
    # the interrupted workers went on: cases reported before the last day were all verified
    reported = {e.case_id for e in street.kept if e.action == "report" and e.at.day < 6}
    verified = {e.case_id for e in street.kept if e.action == "verify"}
    assert reported and reported <= verified


def test_a_released_street_leaves_next_to_nothing_for_the_collector() -> None:
    """`run(release=True)` (as `run_partition` calls it) ends the street's parked processes
    and drops its state before the collector resumes: reference counting frees the run,
    and the collector finds a small fraction of the cycles an unreleased run leaves."""
    import gc

    from gridcore.sim.model import _Street

    s = apply_overrides(
        preset_scenario("shuanghu"), {"run.days": 3, "run.warmup_days": 0, "run.seed": 4}
    )
    was = gc.isenabled()
    found: dict[bool, int] = {}
    try:
        for release in (False, True):
            gc.collect()
            gc.disable()
            street = _Street(s, 0, 0)
            res = street.run(release=release)
            del street
            found[release] = gc.collect()
            gc.enable()
            assert res.events > 300
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
    assert found[False] > 300
    assert found[True] * 5 < found[False]


def test_a_street_run_pauses_the_cyclic_collector_only_when_asked_and_restores_it(
    monkeypatch,
) -> None:
    """`pause_gc=True`: the collector is off while a street runs and back as it was after,
    also when the run fails; a caller who had it off keeps it off. Without it (the
    library's default) the run leaves the collector alone."""
    import gc

    from gridcore.sim import model

    s = apply_overrides(
        preset_scenario("shuanghu"), {"run.days": 2, "run.warmup_days": 0, "run.seed": 4}
    )
    seen: list[bool] = []
    real_sweep = model._Street.sweep

    def sweep(self: model._Street) -> None:
        seen.append(gc.isenabled())
        real_sweep(self)

    monkeypatch.setattr(model._Street, "sweep", sweep)
    was = gc.isenabled()
    try:
        gc.enable()
        run_partition(s, 0, 0)
        assert seen and all(seen)  # not asked: left on
        seen.clear()
        run_partition(s, 0, 0, pause_gc=True)
        assert seen and not any(seen)  # paused during the run
        assert gc.isenabled()  # restored
        gc.disable()
        run_partition(s, 0, 0, pause_gc=True)
        assert not gc.isenabled()  # the caller's choice stands

        def broken(self: model._Street) -> None:
            raise RuntimeError("boom")

        gc.enable()
        monkeypatch.setattr(model._Street, "result", broken)
        with pytest.raises(RuntimeError, match="boom"):
            run_partition(s, 0, 0, pause_gc=True)
        assert gc.isenabled()  # restored on failure too
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_a_paused_collector_changes_no_result() -> None:
    """The collector pause is a speed option only: a street's result is the same."""
    s = apply_overrides(
        preset_scenario("shuanghu"), {"run.days": 2, "run.warmup_days": 0, "run.seed": 5}
    )
    paused, plain = run_partition(s, 0, 0, pause_gc=True), run_partition(s, 0, 0)
    assert attrs.evolve(paused, facts=None) == attrs.evolve(plain, facts=None)
    assert paused.facts is not None and plain.facts is not None
    assert paused.facts.case_ids == plain.facts.case_ids
    assert repr(compute_metrics(paused.facts).to_rows()) == repr(
        compute_metrics(plain.facts).to_rows()
    )


_HALVES = st.integers(-(10**9), 10**9).map(lambda k: (k + 0.5) / 1000.0)  # ties and near


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), _HALVES, st.floats(-1e5, 1e5)),
        max_size=40,
    ),
    st.sampled_from([0, 3, 6]),
)
def test_bulk_rounding_gives_pythons_round(xs: list[float], nd: int) -> None:
    """`_rounded` (the per-case table's bulk rounding) gives exactly what `round(x, nd)`
    gives, sign of zero included, and None for NaN and infinities."""
    from gridcore.sim.model import _round, _rounded

    got = _rounded(np.array(xs, dtype=np.float64), nd)
    assert [repr(v) for v in got] == [repr(_round(x, nd)) for x in xs]
