"""Sweeps: expansion, common random numbers, stable keys, resume, failures, bad files."""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.cli import main
from gridcore.errors import ConfigError, FileFormatError, ScenarioError
from gridcore.sim.scenario import Scenario, apply_overrides
from gridcore.sweep import (
    Point,
    SerialExecutor,
    Sweep,
    SweepProgress,
    canonical_json,
    executor_from_spec,
    flatten_metrics,
    load_results,
    load_sweep,
    run_key,
    run_sweep,
)

CALLS: list[tuple[str, int]] = []


def fake_runner(scenario: Scenario, replication: int) -> dict[str, Any]:
    """A tiny stand-in for the simulation: a pure function of the scenario and index."""
    CALLS.append((scenario.name, replication))
    rng = np.random.default_rng([scenario.run.seed, replication])
    noise = float(rng.normal())
    w = scenario.staffing.workers_per_grid
    return {"wait": 10.0 / (1.0 + w) + noise, "noise": noise, "nested": {"days": scenario.run.days}}


def failing_runner(scenario: Scenario, replication: int) -> dict[str, Any]:
    """Fails at one point and replication, like a simulation that hits a bug."""
    if scenario.staffing.workers_per_grid == 2 and replication == 1:
        raise RuntimeError("boom at w=2 r=1")
    return fake_runner(scenario, replication)


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def _base() -> Scenario:
    return apply_overrides(Scenario(name="base"), {"run.seed": 7, "run.days": 3})


def _sweep(reps: int = 3) -> Sweep:
    return Sweep.grid(
        _base(),
        {"staffing.workers_per_grid": [1, 2, 3], "duties.patrols_per_day": [1, 3]},
        replications=reps,
        name="t",
    )


class TestExpansion:
    def test_grid_is_the_cartesian_product_first_key_slowest(self) -> None:
        """3 x 2 values give 6 points in row-major order, each with its overrides."""
        s = _sweep()
        assert len(s.points) == 6
        assert s.points[1].as_dict() == {
            "staffing.workers_per_grid": 1,
            "duties.patrols_per_day": 3,
        }
        assert s.fields == ("staffing.workers_per_grid", "duties.patrols_per_day")
        assert len(s.runs()) == 18

    def test_point_scenarios_carry_their_overrides(self) -> None:
        """Each run's scenario has the point's values and the sweep's replications."""
        for run in _sweep(2).runs():
            o = run.point.as_dict()
            assert run.scenario.staffing.workers_per_grid == o["staffing.workers_per_grid"]
            assert run.scenario.duties.patrols_per_day == o["duties.patrols_per_day"]
            assert run.scenario.run.replications == 2

    def test_list_points_keep_their_labels(self) -> None:
        """An explicit list makes one point per table; `label` names it."""
        s = Sweep.from_list(
            _base(), [{"label": "flat", "routing.mode": "flattened"}, {"run.days": 5}], 2
        )
        assert [p.label for p in s.points] == ["flat", "run.days=5"]
        assert s.fields == ("routing.mode", "run.days")

    def test_common_random_numbers_same_seed_per_replication_at_every_point(
        self, tmp_path: Path
    ) -> None:
        """Replication r sees the same base seed at every point; only the overrides differ."""
        runs = _sweep(4).runs()
        for r in range(4):
            seeds = {x.scenario.run.seed for x in runs if x.replication == r}
            assert seeds == {7}
        res = run_sweep(_sweep(4), tmp_path, SerialExecutor(), runner=fake_runner)
        rows = {(r["point"], r["metric"]): r for r in res.aggregate}
        # the noise term is common to all points: identical means and intervals
        noise = {round(rows[(p, "noise")]["mean"], 12) for p in range(6)}
        assert len(noise) == 1

    def test_sweeping_the_seed_is_refused(self) -> None:
        """A point may not change run.seed: that would break common random numbers."""
        with pytest.raises(ScenarioError, match=r"run\.seed"):
            Sweep.grid(_base(), {"run.seed": [1, 2]}, replications=2)

    def test_bad_override_names_the_point_and_key(self) -> None:
        """An override the scenario refuses is reported with the key and point."""
        with pytest.raises(ScenarioError, match=r"staffing\.nope"):
            Sweep.grid(_base(), {"staffing.nope": [1]}, replications=1).runs()


class TestKeys:
    def test_keys_are_stable_and_distinct(self) -> None:
        """The same scenario and index give the same key; any change gives another."""
        s = _base()
        assert run_key(s, 0) == run_key(apply_overrides(s, {}), 0)
        assert run_key(s, 0) != run_key(s, 1)
        assert run_key(s, 0) != run_key(apply_overrides(s, {"run.days": 4}), 0)
        keys = [r.key for r in _sweep().runs()]
        assert len(set(keys)) == len(keys)

    def test_key_ignores_the_name_and_replication_count(self) -> None:
        """Renaming or adding replications reuses the stored runs."""
        s = _base()
        t = apply_overrides(s, {"name": "other", "run.replications": 9})
        assert run_key(s, 2) == run_key(t, 2)

    def test_key_is_a_known_value(self) -> None:
        """The key does not depend on the process (no salted hash, no dict order)."""
        k = run_key(Scenario(), 0)
        assert len(k) == 32 and k == run_key(Scenario(), 0)

    @settings(max_examples=30, deadline=None)
    @given(st.dictionaries(st.text(max_size=5), st.integers() | st.floats(allow_nan=False)))
    def test_canonical_json_ignores_insertion_order(self, d: dict[str, Any]) -> None:
        """Two mappings with the same items give the same canonical text."""
        rev = dict(reversed(list(d.items())))
        assert canonical_json(d) == canonical_json(rev)


class TestRunning:
    def test_resume_does_no_work_when_finished(self, tmp_path: Path) -> None:
        """A second run of a finished sweep calls the runner zero times."""
        res = run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=fake_runner)
        assert res.executed == 12 and res.ok and len(CALLS) == 12
        CALLS.clear()
        again = run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=fake_runner)
        assert CALLS == [] and again.executed == 0 and again.reused == 12
        assert again.aggregate == res.aggregate

    def test_interrupted_sweep_resumes_where_it_stopped(self, tmp_path: Path) -> None:
        """Runs stored before an interruption are not run again; adding replications reuses."""
        run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=fake_runner)
        stored = sorted((tmp_path / "runs").glob("*.json"))
        for f in stored[:5]:
            f.unlink()  # as if the sweep had been killed before these finished
        CALLS.clear()
        res = run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=fake_runner)
        assert len(CALLS) == 5 and res.reused == 7
        CALLS.clear()
        res3 = run_sweep(_sweep(3), tmp_path, SerialExecutor(), runner=fake_runner)
        assert len(CALLS) == 6 and {r for _, r in CALLS} == {2} and res3.reused == 12

    def test_ctrl_c_keeps_the_finished_runs_and_a_rerun_finishes(self, tmp_path: Path) -> None:
        """An interrupt mid-sweep propagates; the stored runs are reused by the next run."""

        def interrupted(scenario: Scenario, replication: int) -> dict[str, Any]:
            if len(CALLS) == 5:
                raise KeyboardInterrupt
            return fake_runner(scenario, replication)

        with pytest.raises(KeyboardInterrupt):
            run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=interrupted)
        assert len(list((tmp_path / "runs").glob("*.json"))) == 5
        assert (tmp_path / "aggregate.csv").exists()  # what was done is aggregated
        CALLS.clear()
        res = run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=fake_runner)
        assert len(CALLS) == 7 and res.reused == 5 and res.ok

    def test_a_torn_record_is_run_again(self, tmp_path: Path) -> None:
        """A half-written file (from a crash) is not taken for a result."""
        run_sweep(_sweep(1), tmp_path, SerialExecutor(), runner=fake_runner)
        f = sorted((tmp_path / "runs").glob("*.json"))[0]
        f.write_text('{"key": "x", "sta', encoding="utf-8")
        CALLS.clear()
        run_sweep(_sweep(1), tmp_path, SerialExecutor(), runner=fake_runner)
        assert len(CALLS) == 1

    def test_a_failing_run_is_reported_and_the_others_finish(self, tmp_path: Path) -> None:
        """One run raises: it is recorded with its key, overrides and traceback; 17 finish."""
        res = run_sweep(_sweep(3), tmp_path, SerialExecutor(), runner=failing_runner)
        assert not res.ok and len(res.failures) == 2  # w=2 at both patrol values, r=1
        f = res.failures[0]
        assert dict(f.overrides)["staffing.workers_per_grid"] == 2 and f.replication == 1
        assert "RuntimeError: boom" in f.headline() and "Traceback" in f.error
        assert len(list((tmp_path / "runs").glob("*.json"))) == 16
        stored = json.loads((tmp_path / "failed" / f"{f.key}.json").read_text("utf-8"))
        assert stored["status"] == "failed" and "boom" in stored["error"]
        listed = json.loads((tmp_path / "failures.json").read_text("utf-8"))
        assert [x["key"] for x in listed] == [x.key for x in res.failures]
        agg = {(r["point"], r["metric"]): r for r in res.aggregate}
        assert agg[(2, "wait")]["n"] == 2 and agg[(0, "wait")]["n"] == 3

    def test_failed_runs_are_retried_once_fixed(self, tmp_path: Path) -> None:
        """A later run of the sweep retries the failed runs only."""
        run_sweep(_sweep(3), tmp_path, SerialExecutor(), runner=failing_runner)
        CALLS.clear()
        res = run_sweep(_sweep(3), tmp_path, SerialExecutor(), runner=fake_runner)
        assert len(CALLS) == 2 and res.ok
        assert not list((tmp_path / "failed").glob("*.json"))

    def test_progress_counts_done_and_failed(self, tmp_path: Path) -> None:
        """The callback sees every finished run; the last report has nothing left."""
        seen: list[SweepProgress] = []
        run_sweep(_sweep(2), tmp_path, SerialExecutor(), seen.append, runner=failing_runner)
        last = seen[-1]
        assert (last.total, last.done, last.failed, last.remaining_s) == (12, 10, 2, 0.0)
        assert len(seen) == 13  # the start, then one per run
        assert "10/12 done" in last.to_text()

    def test_process_pool_gives_the_serial_results(self, tmp_path: Path) -> None:
        """The same sweep on two processes stores the same metrics as in-process."""
        a = run_sweep(_sweep(2), tmp_path / "a", SerialExecutor(), runner=fake_runner)
        with cf.ProcessPoolExecutor(2) as ex:
            b = run_sweep(_sweep(2), tmp_path / "b", ex, runner=fake_runner)
        assert a.aggregate == b.aggregate

    def test_aggregate_has_mean_and_interval_per_point_and_metric(self, tmp_path: Path) -> None:
        """aggregate.csv/json: one row per (point, metric) with a t interval."""
        res = run_sweep(_sweep(3), tmp_path, SerialExecutor(), runner=fake_runner)
        assert len(res.aggregate) == 6 * 3  # wait, noise, nested.days
        row = next(r for r in res.aggregate if r["metric"] == "wait" and r["point"] == 0)
        assert row["ci_low"] < row["mean"] < row["ci_high"] and row["n"] == 3
        assert row["staffing.workers_per_grid"] == 1
        data = json.loads((tmp_path / "aggregate.json").read_text("utf-8"))
        assert len(data["rows"]) == 18
        header = (tmp_path / "aggregate.csv").read_text("utf-8").splitlines()[0]
        assert header.startswith("point,label,staffing.workers_per_grid,duties.patrols_per_day")

    def test_load_results_gives_one_row_per_run(self, tmp_path: Path) -> None:
        """load_results on a sweep folder: runs with their point fields and metrics."""
        run_sweep(_sweep(2), tmp_path, SerialExecutor(), runner=fake_runner)
        rows = load_results(tmp_path)
        if not isinstance(rows, list):  # pandas installed
            rows = rows.to_dict("records")
        assert len(rows) == 12 and {r["status"] for r in rows} == {"ok"}
        assert all(math.isfinite(r["wait"]) for r in rows)
        agg = load_results(tmp_path, table="aggregate")
        assert len(agg) == 18

    def test_load_results_on_something_else_is_named(self, tmp_path: Path) -> None:
        """A folder that is neither a sweep nor a run is refused by name."""
        with pytest.raises(FileFormatError, match=r"sweep\.json, comparison\.csv or summary\.json"):
            load_results(tmp_path)


def test_flatten_metrics_walks_nested_numbers() -> None:
    """Scalars by dotted name; lists and strings are left out."""
    got = flatten_metrics({"a": 1, "b": {"c": 2.5, "d": "x"}, "e": [1, 2], "f": False})
    assert got == {"a": 1.0, "b.c": 2.5, "f": 0.0}


class TestLoadSweep:
    def _write(self, tmp_path: Path, text: str) -> Path:
        p = tmp_path / "s.toml"
        p.write_text(text, encoding="utf-8")
        return p

    def test_grid_file_with_preset_base(self, tmp_path: Path) -> None:
        """A preset, base overrides and a grid of two keys load into a sweep."""
        p = self._write(
            tmp_path,
            """
[sweep]
preset = "shuanghu"
replications = 2
[sweep.set]
"run.days" = 2
[sweep.grid]
"staffing.workers_per_grid" = [1, 2]
"duties.patrols_per_day" = [1, 2, 3]
""",
        )
        s = load_sweep(p)
        assert s.name == "s" and len(s.points) == 6 and s.replications == 2
        assert s.base.run.days == 2 and s.base.city.preset == "shuanghu"

    def test_points_file_with_inline_scenario_and_nested_keys(self, tmp_path: Path) -> None:
        """[[sweep.points]] with nested tables and an inline base scenario."""
        p = self._write(
            tmp_path,
            """
[run]
days = 3
seed = 5
[city]
preset = "shibanxi"
[sweep]
name = "flat"
[[sweep.points]]
label = "relay"
[[sweep.points]]
label = "flat"
routing.mode = "flattened"
""",
        )
        s = load_sweep(p)
        assert [x.label for x in s.points] == ["relay", "flat"]
        assert s.runs()[-1].scenario.routing.mode == "flattened"
        assert s.base.run.seed == 5

    def test_unquoted_dotted_grid_keys_mean_the_same(self, tmp_path: Path) -> None:
        """`queue_only.workers = [2, 3]` (a TOML dotted key) sweeps that field."""
        p = self._write(
            tmp_path,
            "[queue_only]\nworkers = 2\n[sweep]\n[sweep.grid]\nqueue_only.workers = [2, 3]\n",
        )
        s = load_sweep(p)
        assert s.fields == ("queue_only.workers",)
        assert [r.scenario.queue_only.workers for r in s.runs()[::2]] == [2, 3]

    def test_scenario_file_is_relative_to_the_sweep(self, tmp_path: Path) -> None:
        """sweep.scenario names a scenario file next to the sweep file."""
        (tmp_path / "base.toml").write_text("[run]\ndays = 4\n", encoding="utf-8")
        p = self._write(tmp_path, '[sweep]\nscenario = "base.toml"\n[sweep.grid]\n"run.days" = [1]')
        assert load_sweep(p).base.run.days == 4

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ("[run]\ndays = 3\n", "sweep"),
            ("[sweep]\nreplications = 0\n", "sweep.replications"),
            ("[sweep]\nreplication = 3\n", "sweep.replication"),
            ('[sweep]\npreset = "atlantis"\n', "preset"),
            ('[sweep.grid]\n"staffing.workers_per_grid" = 2\n', "sweep.grid.staffing"),
            ('[sweep.grid]\n"staffing.workers_per_grid" = []\n', "sweep.grid.staffing"),
            ('[sweep.grid]\n"run.seed" = [1, 2]\n', "run.seed"),
            ('[sweep.grid]\n"staffing.workers_per_grid" = [-1]\n', "staffing.workers_per_grid"),
            ('[sweep]\npreset = "yichang"\n[run]\ndays = 2\n', "sweep.scenario"),
            ('[sweep]\n[sweep.set]\n"run.dayz" = 2\n', "run.dayz"),
        ],
    )
    def test_bad_file_names_the_key(self, tmp_path: Path, text: str, key: str) -> None:
        """Each bad sweep file raises ScenarioError naming the key and the file."""
        p = self._write(tmp_path, text)
        with pytest.raises(ScenarioError) as info:
            load_sweep(p)
        assert key in str(info.value) and "s.toml" in str(info.value)
        assert "expected" in str(info.value)

    def test_unparsable_toml_names_the_file(self, tmp_path: Path) -> None:
        """Broken TOML is a FileFormatError naming the file."""
        p = self._write(tmp_path, "[sweep\n")
        with pytest.raises(FileFormatError, match=r"s\.toml"):
            load_sweep(p)


class TestExecutors:
    def test_unknown_spec_is_refused(self) -> None:
        """An executor spec that is not local, serial or dask:// is named."""
        with pytest.raises(ConfigError, match="ray://x"):
            executor_from_spec("ray://x")

    def test_local_is_a_process_pool(self) -> None:
        """`local` gives a process pool of the asked size."""
        ex = executor_from_spec("local", 2)
        try:
            assert isinstance(ex, cf.ProcessPoolExecutor)
        finally:
            ex.shutdown()

    def test_missing_dask_is_a_config_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the dist extra, a dask:// spec says which extra to install."""
        import sys

        monkeypatch.setitem(sys.modules, "distributed", None)
        with pytest.raises(ConfigError, match=r"gridcore\[dist\]"):
            executor_from_spec("dask://127.0.0.1:8786")


def test_point_label_of_the_base_point() -> None:
    """A point without overrides is labelled `base`."""
    assert Point(0, ()).label == "base"


def test_cli_sweep_bad_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gridcore sweep` with a bad file prints one line naming the key and exits 2."""
    p = tmp_path / "bad.toml"
    p.write_text("[sweep]\nreplications = -3\n", encoding="utf-8")
    assert main(["sweep", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "sweep.replications" in err and "Traceback" not in err


def test_cli_sweep_runs_reports_progress_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gridcore sweep` runs a real queue-only sweep, prints progress on stderr, resumes."""
    f = tmp_path / "mmc.toml"
    f.write_text(
        """
[sweep]
replications = 2
[sweep.grid]
"queue_only.workers" = [2, 3]
[run]
days = 3
seed = 1
[queue_only]
workers = 2
arrivals_per_hour = 1.0
mean_handling_minutes = 60
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--executor", "serial"]) == 0
    cap = capsys.readouterr()
    assert "4/4 done, 0 failed" in cap.err and "4 run now" in cap.out
    assert main(["sweep", str(f), "--out", str(out), "--executor", "serial"]) == 0
    assert "0 run now, 4 reused" in capsys.readouterr().out
    assert (out / "aggregate.csv").exists() and (out / "runs.csv").exists()
