"""`MetricsFold`: the total row of `compute_metrics` over many chunks of case facts,
folded chunk by chunk, so that a long run never holds every case's facts at once.

`fold.add(facts)` takes a chunk's counts (whole numbers: they add exactly) and the
response and resolution times of its cases (eight bytes a case: the mean and the
percentiles need them all); `fold.table()` is then equal, column for column and bit
for bit, to `compute_metrics(CaseFacts.concat(chunks))` for the chunks in the order
they were added. The counting rules and the rates are those of `compute.py` (the same
functions); only the grouping is fixed to one total row, without a working calendar.
A property test holds the fold equal to the plain computation
(`tests/property/test_metrics_properties.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from gridcore.errors import ConfigError
from gridcore.metrics._columns import FloatArray
from gridcore.metrics.compute import (
    MetricTable,
    _group_stats,
    _Groups,
    case_counts,
    compute_metrics,
    count_block,
    level_block,
    level_counts,
    spans_of,
)
from gridcore.metrics.facts import _EMPTY_FACTS, CaseFacts

__all__ = ["MetricsFold"]


class MetricsFold:
    """The total row of `compute_metrics` over chunks of case facts added one by one."""

    def __init__(self, percentiles: Sequence[float] = (50.0, 90.0, 95.0)) -> None:
        for q in percentiles:
            if not 0.0 <= q <= 100.0:
                raise ConfigError(f"percentile {q!r}: expected a number in [0, 100]")
        self.percentiles = tuple(percentiles)
        self._counts: dict[str, int] = {}
        self._levels: dict[str, int] = {}
        self._spans: dict[str, list[FloatArray]] = {"response": [], "resolution": []}
        self.cases = 0

    def add(self, facts: CaseFacts) -> None:
        """Fold one chunk in (the chunks' case ids are expected to be distinct)."""
        one = _Groups(np.zeros(len(facts), np.int64), 1)
        for into, counts in (
            (self._counts, case_counts(facts, one)),
            (self._levels, level_counts(facts, one)),
        ):
            for name, value in counts.items():
                into[name] = into.get(name, 0) + int(value[0])
        for name, (valid, end_us) in spans_of(facts).items():
            self._spans[name].append((end_us[valid] - facts.reported_us[valid]) / 1e6)
        self.cases += len(facts)

    def table(self) -> MetricTable:
        """The one-row `MetricTable` of everything added so far."""
        if not self._counts:
            return compute_metrics(_EMPTY_FACTS, percentiles=self.percentiles)
        counts = _states_in_order(self._counts)
        cols: dict[str, npt.NDArray[Any]] = count_block(
            {k: np.array([v], np.int64) for k, v in counts.items()}
        )
        for name, parts in self._spans.items():
            seconds = np.concatenate(parts) if parts else np.zeros(0, np.float64)
            g = np.zeros(seconds.size, np.int64)
            valid = np.ones(seconds.size, np.bool_)
            for stat, values in _group_stats(g, 1, seconds, valid, self.percentiles).items():
                cols[f"{name}_s_{stat}"] = values
        levels = {k: np.array([v], np.int64) for k, v in self._levels.items()}
        cols.update(level_block(levels, cols["n_closed"]))
        return MetricTable(keys=(), columns=MappingProxyType(cols))


def _states_in_order(counts: dict[str, int]) -> dict[str, int]:
    """The counts with the `n_state_*` columns right after `n_cases`, as `case_counts`
    orders them (a state first seen in a later chunk is added after the others)."""
    states = {k: v for k, v in counts.items() if k.startswith("n_state_")}
    rest = {k: v for k, v in counts.items() if not k.startswith("n_state_")}
    return {"n_cases": rest.pop("n_cases"), **states, **rest}
