"""When a stored case's warning light turns yellow and red, as epoch microseconds.

The journal keeps these two instants in its projection (indexed), so "which cases are
yellow or red at T" is a range scan, not a pass over every case. They are computed once
per append from the case as stored, with `gridcore.cases.case_light` as the judge: the
light only grows with time within a stage (frozen while parked), so the first instant it
reaches a colour is found from the calendar's working time (`add_us`, `between_us`: the
arithmetic `case_light` does), or for any other calendar bisected with `case_light`
itself; a property test holds both to `case_light`. Thresholds are the defaults (yellow from
80% of the stage's limit, red past 100%).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from gridcore.cases import (
    OPEN_STATES,
    Case,
    DeadlinePolicy,
    State,
    case_light,
    stage_deadline,
)
from gridcore.clock import Calendar, RoundTheClock, WarningLight, WorkingHoursCalendar

__all__ = ["from_us", "light_instants", "to_us"]

_US: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_WALL: Final = RoundTheClock()
_YELLOW_OR_RED: Final = frozenset({WarningLight.YELLOW, WarningLight.RED})
_RED: Final = frozenset({WarningLight.RED})
_FAST: Final = (WorkingHoursCalendar, RoundTheClock)


def to_us(t: datetime) -> int:
    """An aware instant as whole microseconds since the Unix epoch."""
    return (t - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """Epoch microseconds as an instant in UTC."""
    return _EPOCH + timedelta(microseconds=us)


def light_instants(case: Case, policy: DeadlinePolicy | None) -> tuple[int | None, int | None]:
    """(yellow_us, red_us): the first instants, from the case's last event on, at which
    `case_light(case, t, policy)` is at least yellow, and red; None when it never is
    (no clock runs, or a parked case frozen below that colour)."""
    if case.state not in OPEN_STATES:
        return None, None
    sd = stage_deadline(case, policy)
    if sd is None:
        return None, None
    start = case.updated_at
    if case.state is State.PARKED:  # frozen at the instant it was parked
        light = case_light(case, start, policy)
        start_us = to_us(start)
        return (
            start_us if light in _YELLOW_OR_RED else None,
            start_us if light is WarningLight.RED else None,
        )
    _, deadline, limit = sd
    cal = _WALL if policy is None else policy.calendar_for(case.info.category)
    limit_us = limit // _US
    if limit_us <= 0 or not isinstance(cal, _FAST):
        return _by_bisection(case, policy, cal)
    # The light is `used` working time against `limit`, and `used` grows by the working
    # time elapsed: used(t) = used(start) + between(start, t) (`case_light`'s arithmetic,
    # which `between` makes additive). Yellow from used * 5 >= limit * 4, red from
    # used > limit: the first instants that working time is reached.
    s = to_us(start)
    d = to_us(deadline)
    used = limit_us - cal.between_us(s, d) if s < d else limit_us + cal.between_us(d, s)
    return _reach(cal, s, -(-limit_us * 4 // 5) - used), _reach(cal, s, limit_us + 1 - used)


def _reach(cal: WorkingHoursCalendar | RoundTheClock, s: int, work: int) -> int:
    """The first instant (epoch µs) t >= s with between_us(s, t) >= work."""
    if work <= 0:
        return s
    guess = cal.add_us(s, work - 1) + 1  # one microsecond past work - 1: inside working time
    if cal.between_us(s, guess) >= work:
        return guess
    lo, hi = guess, cal.add_us(s, work)  # pragma: no cover - add_us ended a working period
    while hi - lo > 1:  # pragma: no cover
        mid = (lo + hi) // 2
        if cal.between_us(s, mid) >= work:
            hi = mid
        else:
            lo = mid
    return hi  # pragma: no cover


def _by_bisection(
    case: Case, policy: DeadlinePolicy | None, cal: Calendar
) -> tuple[int | None, int | None]:
    """`light_instants` for any calendar: `case_light` itself, bisected on microseconds."""
    start = case.updated_at
    start_us = to_us(start)

    def reached(colours: frozenset[WarningLight]) -> Callable[[int], bool]:
        def test(us: int) -> bool:
            return case_light(case, from_us(us), policy) in colours

        return test

    return (
        _first(reached(_YELLOW_OR_RED), cal, start, start_us),
        _first(reached(_RED), cal, start, start_us),
    )


def _first(
    test: Callable[[int], bool], cal: Calendar, start: datetime, start_us: int
) -> int | None:
    """The first instant >= start at which `test` holds (it holds from some instant on)."""
    if test(start_us):
        return start_us
    lo, hi = start_us, start_us + 3_600_000_000
    for _ in range(64):  # widen until the colour is reached
        if test(hi):
            break
        lo, hi = hi, hi + 2 * (hi - start_us)
    else:  # pragma: no cover - the light never reaches the colour
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid
    return hi
