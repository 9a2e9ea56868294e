"""What a sweep is: a base scenario, its points (overrides on dotted keys), replications.

`Sweep.runs()` expands a sweep into `RunSpec`s with common random numbers: replication
``r`` gets the same seed (the base ``run.seed``, spawned by ``r``) at every point, so
differences between points are not noise.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from gridcore.errors import ScenarioError
from gridcore.sim.scenario import Scenario, apply_overrides
from gridcore.sweep.keys import run_key

__all__ = ["MAX_RUNS", "Point", "RunSpec", "Sweep"]

MAX_RUNS = 100_000
"""The most runs (points x replications) a sweep may have."""

# Keys that would break common random numbers or the replication count if a point
# changed them; `sweep.set` may still set them for every point at once.
_UNSWEEPABLE = ("run.seed", "run.replications", "name")


def _pairs(value: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), v) for k, v in items)


@attrs.frozen
class Point:
    """One point of a sweep: its index and the overrides that make it."""

    index: int
    overrides: tuple[tuple[str, Any], ...] = attrs.field(converter=_pairs)
    name: str = ""

    @property
    def label(self) -> str:
        """A short human label: the given name, else ``key=value, ...`` (``base`` if none)."""
        if self.name:
            return self.name
        if not self.overrides:
            return "base"
        return ", ".join(f"{k}={_short(v)}" for k, v in self.overrides)

    def as_dict(self) -> dict[str, Any]:
        """The overrides as a mapping."""
        return dict(self.overrides)


def _short(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v


@attrs.frozen
class RunSpec:
    """One run of a sweep: a point's scenario and a replication index, with its stored key."""

    point: Point
    replication: int
    scenario: Scenario = attrs.field(repr=False)
    key: str


@attrs.frozen
class Sweep:
    """A base scenario, the points to run (overrides on dotted keys) and the replications.

    >>> from gridcore.sim.scenario import Scenario
    >>> s = Sweep.grid(Scenario(), {"staffing.workers_per_grid": [1, 2]}, replications=3)
    >>> [p.label for p in s.points], len(s.runs())
    (['staffing.workers_per_grid=1', 'staffing.workers_per_grid=2'], 6)
    """

    base: Scenario = attrs.field(repr=False)
    points: tuple[Point, ...]
    replications: int
    name: str = "sweep"
    fields: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if isinstance(self.replications, bool) or not (
            isinstance(self.replications, int) and self.replications >= 1
        ):
            raise ScenarioError("sweep.replications", self.replications, "an integer >= 1")
        if not self.points:
            raise ScenarioError("sweep.points", [], "at least one point")
        _check_runs(len(self.points), self.replications)
        for p in self.points:
            for k, v in p.overrides:
                if k in _UNSWEEPABLE:
                    raise ScenarioError(
                        k,
                        v,
                        "a key other than run.seed, run.replications or name in a sweep point "
                        "(replications share seeds across points; set them in [sweep] or "
                        "[sweep.set])",
                    )

    @classmethod
    def grid(
        cls,
        base: Scenario,
        axes: Mapping[str, Sequence[Any]],
        replications: int | None = None,
        name: str = "sweep",
    ) -> Sweep:
        """The cartesian product of the values of each dotted key (first key varies slowest)."""
        for key, values in axes.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise ScenarioError(f"sweep.grid.{key}", values, "a non-empty array of values")
        keys = list(axes)
        _check_runs(math.prod(len(axes[k]) for k in keys), replications or 1)
        combos = itertools.product(*(axes[k] for k in keys))
        points = tuple(Point(i, tuple(zip(keys, c, strict=True))) for i, c in enumerate(combos))
        reps = base.run.replications if replications is None else replications
        return cls(base, points, reps, name, tuple(keys))

    @classmethod
    def from_list(
        cls,
        base: Scenario,
        overrides: Sequence[Mapping[str, Any]],
        replications: int | None = None,
        name: str = "sweep",
    ) -> Sweep:
        """One point per mapping of overrides (a ``"label"`` key names the point)."""
        points = []
        fields: list[str] = []
        for i, o in enumerate(overrides):
            if not isinstance(o, Mapping):
                raise ScenarioError(f"sweep.points[{i}]", o, "a table of dotted keys")
            label = o.get("label", "")
            if not isinstance(label, str):
                raise ScenarioError(f"sweep.points[{i}].label", label, "a string")
            pairs = [(k, v) for k, v in o.items() if k != "label"]
            fields.extend(k for k, _ in pairs if k not in fields)
            points.append(Point(i, tuple(pairs), label))
        reps = base.run.replications if replications is None else replications
        return cls(base, tuple(points), reps, name, tuple(fields))

    def scenario_at(self, point: Point) -> Scenario:
        """The scenario of one point: the base with the point's overrides and replications."""
        overrides = {**point.as_dict(), "run.replications": self.replications}
        try:
            s = apply_overrides(self.base, overrides)
        except ScenarioError as exc:
            raise ScenarioError(
                exc.key, exc.value, exc.expected, f"sweep point {point.index} ({point.label})"
            ) from None
        return attrs.evolve(s, name=f"{self.name}/{point.index}")

    def runs(self) -> tuple[RunSpec, ...]:
        """Every run, point by point; replication r has the same seed at every point."""
        out: list[RunSpec] = []
        for p in self.points:
            s = self.scenario_at(p)
            out.extend(RunSpec(p, r, s, run_key(s, r)) for r in range(self.replications))
        return tuple(out)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: name, fields, replications, base and points."""
        return {
            "name": self.name,
            "fields": list(self.fields),
            "replications": self.replications,
            "base": self.base.to_dict(),
            "points": [
                {"point": p.index, "label": p.label, "overrides": p.as_dict()} for p in self.points
            ],
        }


def _check_runs(points: int, replications: int) -> None:
    if points * replications > MAX_RUNS:
        raise ScenarioError(
            "sweep.grid",
            f"{points} points x {replications} replications",
            f"at most {MAX_RUNS:,} runs",
        )
