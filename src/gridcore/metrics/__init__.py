"""Metrics over case event logs: pure, vectorised functions (结案率, 按期结案率, 返工率, 推诿 ...).

An `EventTable` (`events.py`) turns an iterable of case events into numpy columns in one
lean pass; `EventTable.facts()` folds them into one row per case (`CaseFacts`,
`facts.py`), and `compute_metrics` (`compute.py`) groups those rows by area, grid,
person, department, category or period and returns a flat `MetricTable` (a dict of
numpy columns, `to_rows()` for a list of dicts). `composite_scores` (`scores.py`)
weights rates into one score per group. `_instants.py` turns instants into int64
microseconds in bulk; `_columns.py` holds the code-column plumbing. Formulas, names and
edge cases: `docs/metrics.md`.

"Due to close" (应结案): a case that is closed at the evaluation instant `as_of`, or whose
current handling deadline (the last "due" payload) is at or before `as_of`, not counting
cases cancelled, merged or voided, nor parked ones (their clock is stopped).
Zero denominators give NaN, never 0 and never an error.
"""

from gridcore.metrics._columns import LEVELS, NO_TIME, MetricsError
from gridcore.metrics._columns import _isin_names as _isin_names  # read by property tests
from gridcore.metrics._instants import _parse_instants as _parse_instants  # ditto
from gridcore.metrics.compute import GROUP_KEYS, MetricTable, compute_metrics
from gridcore.metrics.events import EventLike, EventTable
from gridcore.metrics.facts import CaseFacts
from gridcore.metrics.scores import (
    DEPARTMENT_WEIGHTS,
    SCORE_COMPONENTS,
    ScoreWeights,
    composite_scores,
)

__all__ = [
    "DEPARTMENT_WEIGHTS",
    "GROUP_KEYS",
    "LEVELS",
    "NO_TIME",
    "SCORE_COMPONENTS",
    "CaseFacts",
    "EventLike",
    "EventTable",
    "MetricTable",
    "MetricsError",
    "ScoreWeights",
    "composite_scores",
    "compute_metrics",
]
