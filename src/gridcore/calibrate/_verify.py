"""The verification work (`times.verify`) separated from the wait for a grid worker.

A resident's report waits in its grid's queue until a worker on call is free, then the
worker verifies it (`times.verify`, wall time) and logs `verify` at the end. The log shows
the report and the verification, not when the work began; but it does show when the
work could have begun at the earliest, and when nothing unlogged could have delayed it:

- not before the report, nor before the verifying worker's previous logged event (a
  worker does one thing at a time, and every case task ends with an event in its name:
  another verification, a handling);
- not before on-call time begins (a report made off call waits for it; an emergency,
  severity >= `EMERGENCY`, is taken at once);
- and the worker was doing nothing unlogged then unless duties were running: patrols,
  household visits and inspections are not case events, happen only in the working
  periods of working days and last at most `max(patrol_minutes, block_minutes)` past
  one. A verification whose earliest start falls there is left out (counted).

So for every other verification the work began exactly at that earliest start, and the
time to the `verify` event is the verification work itself. The duty plan (on-call and
working periods, the working calendar) is the base scenario's: it is configuration, not
in a log. A report not verified by the log's end is censored there. See
docs/calibration.md.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.calibrate._arrivals import local_us
from gridcore.calibrate._durations import _next_after, action_mask
from gridcore.metrics import EventTable
from gridcore.sim.scenario import clock_period

__all__ = ["EMERGENCY", "VerifySteps", "verify_steps"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EMERGENCY = 4
"""The severity a grid worker takes at once, on call or not (the model's `EMERGENCY`)."""
_US_MIN = 60_000_000
_US_DAY = 1440 * _US_MIN


@attrs.frozen(eq=False)
class VerifySteps:
    """The verifications whose work began at a known instant: `begin_us` (that instant),
    `end_us` (the `verify` event, or the log's end), `ended`; and what was left out."""

    begin_us: IntArray
    end_us: IntArray
    ended: BoolArray
    left_out: dict[str, int]


def _periods(texts: tuple[str, ...]) -> list[tuple[int, int]]:
    """ "08:30-12:00" -> (510, 720), minutes of the day (the scenario's own parser)."""
    return [clock_period(p) for p in texts]


def _previous_by_actor(t: EventTable) -> IntArray:
    """For each row, the latest instant before it of an event by the same actor (int64 min
    when none)."""
    n = len(t)
    order = np.lexsort((t.at_us, t.actor))
    a, at = t.actor[order], t.at_us[order]
    run = np.ones(n, np.bool_)  # first row of each (actor, instant) run
    run[1:] = (a[1:] != a[:-1]) | (at[1:] != at[:-1])
    first = np.maximum.accumulate(np.where(run, np.arange(n), 0))
    prev = first - 1
    ok = prev >= 0
    ok[ok] = a[prev[ok]] == a[ok]
    out = np.full(n, np.iinfo(np.int64).min, np.int64)
    out[order] = np.where(ok, at[np.maximum(prev, 0)], np.iinfo(np.int64).min)
    return out


def _next_on_call(tod: IntArray, calls: list[tuple[int, int]]) -> IntArray:
    """Minutes from each time of day (minutes) to on-call time: 0 when on call."""
    wait = np.full(tod.size, 2 * 1440, np.int64)
    for a, b in calls:
        inside = (tod >= a) & (tod < b)
        wait = np.where(inside, 0, np.minimum(wait, (a - tod) % 1440))
    return wait


def verify_steps(
    t: EventTable,
    reports: IntArray,
    severity: IntArray,
    duties: Any,
    working_day: Any,
    tz: tzinfo,
    as_of_us: int,
) -> VerifySteps:
    """The verification of each report row in `reports` (residents' reports), from the
    earliest instant its work could begin to its `verify`, kept when nothing unlogged can
    have delayed the work (see the module docstring). `severity` per case; `duties` the
    base scenario's `DutyConfig`; `working_day(date) -> bool` its working calendar's."""
    n = len(t)
    nxt = _next_after(action_mask(t, "verify"))[reports]
    ended = nxt < n
    ended[ended] = t.case[nxt[ended]] == t.case[reports[ended]]
    v_row = np.where(ended, nxt, 0)
    report_us = t.at_us[reports]
    end_us = np.where(ended, t.at_us[np.minimum(v_row, n - 1)], as_of_us)
    # the verifier's previous event (a worker does one thing at a time)
    prev = np.where(ended, _previous_by_actor(t)[v_row], np.iinfo(np.int64).min)
    earliest = np.maximum(report_us, prev)
    # off call, a non-emergency waits for on-call time to begin
    loc = local_us(earliest, tz)
    tod = (loc % _US_DAY) // _US_MIN
    wait = _next_on_call(tod, _periods(tuple(duties.on_call_periods)))
    urgent = severity[t.case[reports]] >= EMERGENCY
    wait = np.where(urgent, 0, wait)
    shifted = np.where(wait > 0, (loc // _US_MIN + wait) * _US_MIN, loc)
    # verified before on-call time began: taken off call after all (an emergency whose
    # severity the log does not give)
    shifted = np.where(ended & (end_us < earliest + (shifted - loc)), loc, shifted)
    begin_us = earliest + (shifted - loc)
    begin_loc = shifted
    # duties may have kept the worker busy (unlogged): left out
    reach = max(float(duties.patrol_minutes), float(duties.block_minutes))
    b_tod = (begin_loc % _US_DAY) / _US_MIN
    in_duty = np.zeros(reports.size, np.bool_)
    for a, b in _periods(tuple(duties.working_periods)):
        in_duty |= (b_tod >= a) & (b_tod < b + reach)
    days = begin_loc // _US_DAY
    if in_duty.any():
        uniq, inv = np.unique(days[in_duty], return_inverse=True)
        work = np.array(
            [working_day(date(1970, 1, 1) + timedelta(days=int(d))) for d in uniq.tolist()],
            np.bool_,
        )
        in_duty[in_duty] = work[inv.reshape(-1)]
    # a report not verified by the end whose work cannot have begun (off call) says nothing
    not_begun = ~ended & ~(begin_us < as_of_us)
    keep = ~in_duty & ~not_begun
    left_out = {
        "during_duties": int(in_duty.sum()),
        "not_begun_by_the_end": int((not_begun & ~in_duty).sum()),
    }
    return VerifySteps(begin_us[keep], end_us[keep], ended[keep], left_out)
