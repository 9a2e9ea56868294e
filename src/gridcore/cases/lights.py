"""The warning light of a case: how much of its current stage's limit is used.

Hot path: `case_light` runs for every open case at every sweep of the escalation rules
and of the simulation's watch. It works on epoch microseconds through the calendar's
`add_us`/`between_us` (declared by the `Calendar` protocol, exact), for the zones whose
instants it can make (`FAST_ZONES`); anything else takes the datetime path, which is the
definition. What protects it: `TestCaseLightFastPath` in `tests/unit/test_cases.py`
(the light equals the one computed on datetimes, any zone, calendar and case) and the
golden runs (`tests/sim/test_golden.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from gridcore._time import EPOCH, ONE_US
from gridcore.cases.deadlines import (
    FAST_ZONES,
    WALL,
    DeadlinePolicy,
    calendar_of,
    stage_deadline,
)
from gridcore.cases.records import Case
from gridcore.cases.vocabulary import STATE_STAGE, State
from gridcore.categories import Stage
from gridcore.clock import (
    RED_AT,
    YELLOW_AT,
    Calendar,
    WarningLight,
    warning_light,
    warning_light_us,
)

__all__ = ["case_light"]

_ZERO: Final = timedelta(0)
_FAST_MAX_US: Final = 4 * 10**15
# A plain dict: the stage of each state.
_STAGE_OF: Final[dict[State, Stage | None]] = dict(STATE_STAGE)


def case_light(
    case: Case,
    now: datetime,
    policy: DeadlinePolicy | None,
    yellow_at: float = YELLOW_AT,
    red_at: float = RED_AT,
) -> WarningLight | None:
    """The warning light of the case's current stage at `now` (frozen while parked).

    None when no clock runs (final, closed, or no limits known).
    """
    # The fast path: the same arithmetic on epoch microseconds (ints, exact) through the
    # calendars' `add_us`/`between_us`, for the calendars and zones `_due_after` knows;
    # anything else (or out of range) takes the datetime path below.
    state = case.state
    parked = state is State.PARKED
    at = case.extra.parked_since if parked else now
    if type(at) is datetime and type(at.tzinfo) in FAST_ZONES:
        stage = Stage.HANDLE if parked else _STAGE_OF[state]
        if stage is None:
            return None
        cat = case.info.category
        if stage is Stage.HANDLE:
            a = case.assignment
            due = a.due
            if due is None:
                return None
            budget = a.due_budget
            if budget is None:
                if policy is None:
                    return None
                budget = policy.limit_for(cat, Stage.HANDLE)
                if budget is None:
                    return None
            cal = WALL if policy is None else policy.calendar_for(cat)
            if (
                type(budget) is timedelta
                and type(due) is datetime
                and type(due.tzinfo) in FAST_ZONES
            ):
                end_us = (due - EPOCH) // ONE_US
                return _light_us(cal, at, end_us, budget // ONE_US, yellow_at, red_at)
        elif policy is not None:
            limit = policy.limit_for(cat, stage)
            if limit is None:
                return None
            cal = policy.calendar_for(cat)
            since = case.stage_since
            tz = since.tzinfo
            if (
                type(limit) is timedelta
                and limit > _ZERO
                and type(since) is datetime
                and type(tz) in FAST_ZONES
            ):
                end_us = cal.add_us((since - EPOCH) // ONE_US, limit // ONE_US)
                if 0 < end_us < _FAST_MAX_US:
                    # The instant `cal.add(since, limit)` gives, as epoch microseconds.
                    return _light_us(cal, at, end_us, limit // ONE_US, yellow_at, red_at)
        else:
            return None
    sd = stage_deadline(case, policy)
    if sd is None:
        return None
    _, deadline, limit = sd
    cal = calendar_of(case, policy)
    at = case.extra.parked_since if case.state is State.PARKED else now
    assert at is not None  # a parked case always has parked_since
    if at - EPOCH < deadline - EPOCH:  # absolute instants, as the microsecond path
        used = max(limit - cal.between(at, deadline), _ZERO)
    else:
        used = limit + cal.between(deadline, at)
    if limit <= _ZERO:
        return WarningLight.RED if used > _ZERO else WarningLight.YELLOW
    return warning_light(used, limit, yellow_at, red_at)


def _light_us(
    cal: Calendar,
    at: datetime,
    end_us: int,
    limit_us: int,
    yellow_at: float,
    red_at: float,
) -> WarningLight:
    """`case_light`'s last steps on microseconds: the deadline is the instant `end_us`."""
    at_us = (at - EPOCH) // ONE_US
    # Absolute instants (the ints), as the datetime path compares them (`earlier`).
    if at_us < end_us:
        used = limit_us - cal.between_us(at_us, end_us)
        if used < 0:
            used = 0
    else:
        used = limit_us + cal.between_us(end_us, at_us)
    if limit_us <= 0:
        return WarningLight.RED if used > 0 else WarningLight.YELLOW
    return warning_light_us(used, limit_us, yellow_at, red_at)
