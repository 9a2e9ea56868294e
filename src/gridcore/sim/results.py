"""Simulation results as flat immutable records, and the results folder they are written to.

A `ReplicationResult` holds one replication's scalar metrics, its tables and its
self-checks; a `ScenarioResult` holds all replications and their means with 95%
intervals. `ScenarioResult.write(folder)` writes (byte for byte the same for the
same scenario and seed):

- `summary.json`: `<metric>_mean` at the top level for every metric (plus `p_wait`
  for queue-only runs), `metrics` (mean, ci_low, ci_high, half_width, n per metric),
  `checks` (each self-check, all replications), `theory` (queue-only: Erlang C);
- `scenario.json`: the scenario, loadable with `scenario_from_dict`;
- `replications.csv`: one row per replication, one column per metric;
- `checks.csv`: replication, check, ok, value, tolerance, detail;
- `<table>.csv`: each table, all replications stacked, `replication` first column.

See docs/simulation.md for the format.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from gridcore.io.folder import check_destination, content_hash, seal, write_whole
from gridcore.io.tables import write_csv, write_json
from gridcore.sim.scenario import Scenario
from gridcore.sim.stats import Estimate, estimate

__all__ = [
    "FORMAT",
    "Check",
    "Comparison",
    "ReplicationResult",
    "ScenarioResult",
    "Table",
    "comparison_key",
    "read_summary",
    "scenario_key",
]

FORMAT = "gridcore.sim.results/1"
"""The `format` value written in summary.json."""

Cell = str | int | float | bool | None


@attrs.frozen
class Table:
    """A named table: column names and rows of plain values (one replication's)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def column(self, name: str) -> list[Cell]:
        """The values of one column."""
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


@attrs.frozen
class Check:
    """A self-check of one replication: passed or not, with the measured value."""

    name: str
    ok: bool
    value: float
    tolerance: float
    detail: str = ""


@attrs.frozen
class ReplicationResult:
    """One replication's output: scalar metrics (sorted by name), tables and checks."""

    scenario: str
    replication: int
    metrics: tuple[tuple[str, float], ...]
    tables: tuple[Table, ...] = ()
    checks: tuple[Check, ...] = ()
    events: int = 0
    """SimPy events processed (for the events-per-second figures)."""

    def metric(self, name: str) -> float:
        """One metric's value (KeyError if the run did not measure it)."""
        for k, v in self.metrics:
            if k == name:
                return v
        raise KeyError(name)

    def as_dict(self) -> dict[str, float]:
        """The metrics as a dict."""
        return dict(self.metrics)

    def table(self, name: str) -> Table:
        """One table by name."""
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


def metrics_record(values: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """Metrics as the sorted tuple of pairs a `ReplicationResult` holds."""
    return tuple(sorted((k, float(v)) for k, v in values.items()))


def _metric_names(reps: Sequence[ReplicationResult]) -> list[str]:
    names: set[str] = set()
    for r in reps:
        names.update(k for k, _ in r.metrics)
    return sorted(names)


@attrs.frozen
class ScenarioResult:
    """All replications of one scenario, in replication order."""

    scenario: Scenario
    replications: tuple[ReplicationResult, ...]
    theory: tuple[tuple[str, float], ...] = ()
    """Analytic values to compare with (queue-only: Erlang C)."""

    def estimates(self) -> dict[str, Estimate]:
        """Mean and 95% interval of every metric across replications."""
        out = {}
        for name in _metric_names(self.replications):
            vals = [dict(r.metrics).get(name, math.nan) for r in self.replications]
            out[name] = estimate(vals)
        return out

    def checks_ok(self) -> bool:
        """Whether every self-check of every replication passed."""
        return all(c.ok for r in self.replications for c in r.checks)

    def summary(self) -> dict[str, Any]:
        """The summary.json mapping (before NaN cleaning)."""
        est = self.estimates()
        s = self.scenario
        out: dict[str, Any] = {
            "format": FORMAT,
            "scenario": s.name,
            "mode": "queue_only" if s.queue_only is not None else "grid",
            "seed": s.run.seed,
            "replications": len(self.replications),
            "days": s.run.days,
            "warmup_days": s.run.warmup_days,
        }
        for name, e in est.items():
            out[f"{name}_mean"] = e.mean
        if "p_wait" in est:
            out["p_wait"] = est["p_wait"].mean
        if s.queue_only is not None and "utilisation" in est:
            out["utilisation"] = est["utilisation"].mean
        out["metrics"] = {name: e.to_dict() for name, e in est.items()}
        checks: dict[str, Any] = {}
        for r in self.replications:
            for c in r.checks:
                entry = checks.setdefault(c.name, {"ok": True, "worst": 0.0, "tolerance": 0.0})
                entry["ok"] = entry["ok"] and c.ok
                if math.isfinite(c.value):
                    entry["worst"] = max(entry["worst"], abs(c.value))
                entry["tolerance"] = c.tolerance
        out["checks"] = checks
        out["checks_ok"] = self.checks_ok()
        if self.theory:
            out["theory"] = dict(self.theory)
        out["events"] = sum(r.events for r in self.replications)
        return out

    def key(self) -> str:
        """The hash of the scenario that the folder's manifest carries."""
        return scenario_key(self.scenario)

    def write(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the results folder whole (see the module docstring); returns its path.

        Refused (FileFormatError) when `folder` holds anything but a run of the same
        scenario, unless `overwrite`; the folder appears complete or not at all.
        """
        check_destination(folder, "run", self.key(), overwrite=overwrite)
        return write_whole(folder, "run", self.key(), self.fill)

    def fill(self, folder: str | Path) -> None:
        """Write the result's files into an existing folder (no manifest, not atomic)."""
        d = Path(folder)
        write_json(d / "summary.json", self.summary())
        write_json(d / "scenario.json", self.scenario.to_dict(), sort_keys=False)
        names = _metric_names(self.replications)
        rows: list[list[Cell]] = [
            [r.replication, *(dict(r.metrics).get(n, math.nan) for n in names)]
            for r in self.replications
        ]
        write_csv(d / "replications.csv", ["replication", *names], rows)
        check_rows: list[list[Cell]] = [
            [r.replication, c.name, c.ok, c.value, c.tolerance, c.detail]
            for r in self.replications
            for c in r.checks
        ]
        check_cols = ["replication", "check", "ok", "value", "tolerance", "detail"]
        write_csv(d / "checks.csv", check_cols, check_rows)
        table_names = sorted({t.name for r in self.replications for t in r.tables})
        for tname in table_names:
            cols: tuple[str, ...] = ()
            trows: list[list[Cell]] = []
            for r in self.replications:
                for t in r.tables:
                    if t.name == tname:
                        cols = t.columns
                        for row in t.rows:
                            out_row: list[Cell] = [r.replication]
                            out_row.extend(row)
                            trows.append(out_row)
            write_csv(d / f"{tname}.csv", ["replication", *cols], trows)
        if self.scenario.queue_only is None and self.replications:
            # the exact city the run used, for the report's map
            from gridcore.io.geojson import write_geojson
            from gridcore.sim.inputs import city_for

            write_geojson(city_for(self.scenario), d / "city.geojson")


@attrs.frozen
class Comparison:
    """A what-if against a base with common random numbers: per-metric differences."""

    base: ScenarioResult
    whatif: ScenarioResult

    def differences(self) -> dict[str, Estimate]:
        """Mean and 95% interval of (what-if - base), paired by replication."""
        out = {}
        b_reps = {r.replication: dict(r.metrics) for r in self.base.replications}
        for name in _metric_names(self.whatif.replications):
            diffs = []
            for r in self.whatif.replications:
                b = b_reps.get(r.replication, {}).get(name)
                if b is not None:
                    diffs.append(dict(r.metrics).get(name, math.nan) - b)
            out[name] = estimate(diffs)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per metric: base mean, what-if mean, difference and its interval."""
        be, we = self.base.estimates(), self.whatif.estimates()
        out = []
        for name, d in self.differences().items():
            out.append(
                {
                    "metric": name,
                    "base": be[name].mean if name in be else math.nan,
                    "whatif": we[name].mean,
                    "difference": d.mean,
                    "ci_low": d.low,
                    "ci_high": d.high,
                }
            )
        return out

    def key(self) -> str:
        """The hash of the pair of scenarios that the folder's manifest carries."""
        return comparison_key(self.base.scenario, self.whatif.scenario)

    def write(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write base/ and whatif/ result folders and comparison.csv + comparison.json,
        whole (see `ScenarioResult.write`); returns the folder."""
        check_destination(folder, "comparison", self.key(), overwrite=overwrite)
        return write_whole(folder, "comparison", self.key(), self._fill)

    def _fill(self, d: Path) -> None:
        for part, result in (("base", self.base), ("whatif", self.whatif)):
            (d / part).mkdir()
            result.fill(d / part)
            seal(d / part, "run", result.key())
        self.fill_comparison(d)

    def fill_comparison(self, d: Path) -> None:
        """Write comparison.csv and comparison.json into an existing folder."""
        rows = self.rows()
        cols = ["metric", "base", "whatif", "difference", "ci_low", "ci_high"]
        write_csv(d / "comparison.csv", cols, [[r[c] for c in cols] for r in rows])
        body = {
            "format": FORMAT,
            "base": self.base.scenario.name,
            "whatif": self.whatif.scenario.name,
            "differences": {r["metric"]: {k: r[k] for k in cols[1:]} for r in rows},
        }
        write_json(d / "comparison.json", body)


def scenario_key(scenario: Scenario) -> str:
    """The hash of a scenario in a run folder's manifest (its canonical JSON)."""
    return content_hash(scenario.to_dict())


def comparison_key(base: Scenario, whatif: Scenario) -> str:
    """The hash of a base and what-if pair in a comparison folder's manifest."""
    return content_hash({"base": base.to_dict(), "whatif": whatif.to_dict()})


def read_summary(folder: str | Path) -> dict[str, Any]:
    """Load a results folder's summary.json."""
    data: dict[str, Any] = json.loads((Path(folder) / "summary.json").read_text("utf-8"))
    return data
