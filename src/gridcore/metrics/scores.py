"""Composite scores: rates from a `MetricTable` weighted into one 0-100 score per group."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
import numpy as np

from gridcore.errors import ConfigError
from gridcore.metrics._columns import FloatArray
from gridcore.metrics.compute import MetricTable


def _pct(table: MetricTable, name: str) -> FloatArray:
    return np.asarray(table[name], np.float64) * 100.0


def _volume(table: MetricTable) -> FloatArray:
    n = np.asarray(table["n_cases"], np.float64)
    top = float(n.max()) if n.size else 0.0
    return n * (100.0 / top) if top > 0 else np.full(n.shape, np.nan)


SCORE_COMPONENTS: Mapping[str, Callable[[MetricTable], FloatArray]] = {
    "closure": lambda t: _pct(t, "closure_rate"),
    "on_time": lambda t: _pct(t, "on_time_rate"),
    "no_rework": lambda t: 100.0 - _pct(t, "rework_rate"),
    "accurate_dispatch": lambda t: _pct(t, "accurate_dispatch_rate"),
    "no_passing": lambda t: 100.0 - _pct(t, "passing_rate"),
    "within_community": lambda t: _pct(t, "share_within_community"),
    "within_street": lambda t: _pct(t, "share_within_street"),
    "volume": _volume,
}
"""Score components on a 0-100 scale; "volume" is cases relative to the busiest group."""


def _weights(value: Mapping[str, float]) -> Mapping[str, float]:
    return dict(value)


@attrs.frozen
class ScoreWeights:
    """Weights of `SCORE_COMPONENTS` that sum to 1 (within 1e-9), each in [0, 1]."""

    weights: Mapping[str, float] = attrs.field(converter=_weights)

    def __attrs_post_init__(self) -> None:
        for name, w in self.weights.items():
            if name not in SCORE_COMPONENTS:
                raise ConfigError(
                    f"score weight {name!r}: expected one of {', '.join(SCORE_COMPONENTS)}"
                )
            if not (isinstance(w, int | float) and 0.0 <= w <= 1.0):
                raise ConfigError(f"score weight {name!r} = {w!r}: expected a number in [0, 1]")
        s = float(sum(self.weights.values()))
        if not self.weights or abs(s - 1.0) > 1e-9:
            raise ConfigError(f"score weights {dict(self.weights)!r} sum to {s!r}: expected 1")


DEPARTMENT_WEIGHTS = ScoreWeights({"closure": 0.3, "on_time": 0.3, "no_rework": 0.3, "volume": 0.1})
"""A department's score: closure 30%, on time 30%, 100 - rework 30%, volume 10%."""


def composite_scores(
    table: MetricTable, weights: ScoreWeights | Mapping[str, float] = DEPARTMENT_WEIGHTS
) -> FloatArray:
    """Weighted score (0-100) per row of `table`; NaN where a weighted component is NaN."""
    sw = weights if isinstance(weights, ScoreWeights) else ScoreWeights(weights)
    score = np.zeros(len(table), np.float64)
    for name, w in sw.weights.items():
        if w:
            score = score + w * SCORE_COMPONENTS[name](table)
    return score
