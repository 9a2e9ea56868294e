"""The case steps' durations in a log, vectorised over the sorted event columns.

A step is a pair of actions in one case: from an event to the next event of another
kind after it (`start` -> `handle`, `handle` -> `close`/`rework`...). A pair whose end
never comes is censored at the log's last instant (the case was still in that step).
Durations are measured in working time where the simulation draws them in working
time (level staff's handling and every check, for categories on the working calendar)
and in wall time otherwise, so the fitted value is the scenario's own parameter.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.metrics import EventTable

__all__ = ["Step", "first_per_case", "step_durations"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class Step:
    """Durations of one step: the rows where it began, its wall and end instants (µs),
    whether it ended in the log, and the case of each row."""

    begin: IntArray
    begin_us: IntArray
    end_us: IntArray
    ended: BoolArray
    case: IntArray

    def __len__(self) -> int:
        return int(self.begin.size)


def action_mask(t: EventTable, *names: str) -> BoolArray:
    """Rows whose action is one of `names`."""
    codes = [i for i, a in enumerate(t.action_names) if a in names]
    out: BoolArray = np.isin(t.action, np.array(codes, np.int64))
    return out


def first_per_case(t: EventTable, mask: BoolArray) -> IntArray:
    """The first row of each case where `mask` holds (rows sorted by case)."""
    rows = np.flatnonzero(mask)
    _, first = np.unique(t.case[rows], return_index=True)
    out: IntArray = rows[first]
    return out


def _next_after(mask: BoolArray) -> IntArray:
    """For each row, the first later row where `mask` holds (len(mask) when none)."""
    n = mask.size
    idx = np.where(mask, np.arange(n), n)
    nxt = np.minimum.accumulate(idx[::-1])[::-1]
    out = np.full(n, n, np.int64)
    out[:-1] = nxt[1:]
    return out


def step_durations(t: EventTable, begin: IntArray, end_mask: BoolArray, as_of_us: int) -> Step:
    """The step from each row of `begin` to the next `end_mask` row of the same case."""
    nxt = _next_after(end_mask)[begin]
    n = len(t)
    same = nxt < n
    same[same] = t.case[nxt[same]] == t.case[begin[same]]
    end_us = np.where(same, t.at_us[np.minimum(nxt, n - 1)], as_of_us)
    return Step(begin, t.at_us[begin], end_us, same, t.case[begin])


def level_before(t: EventTable, rows: IntArray) -> IntArray:
    """The "level" of the last routing event at or before each row, in its case (-1: none)."""
    n = len(t)
    has = t.level >= 0
    last = np.maximum.accumulate(np.where(has, np.arange(n), -1))[rows]
    ok = last >= 0
    ok[ok] = t.case[last[ok]] == t.case[rows[ok]]
    out: IntArray = np.where(ok, t.level[np.maximum(last, 0)], -1)
    return out
