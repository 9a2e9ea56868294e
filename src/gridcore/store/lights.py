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
    STATE_STAGE,
    Case,
    DeadlinePolicy,
    State,
    case_light,
    stage_deadline,
)
from gridcore.cases.deadlines import FAST_ZONES
from gridcore.categories import Stage
from gridcore.clock import Calendar, RoundTheClock, WarningLight, WorkingHoursCalendar

__all__ = ["LightMemo", "from_us", "light_instants", "to_us"]

_US: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_WALL: Final = RoundTheClock()
_YELLOW_OR_RED: Final = frozenset({WarningLight.YELLOW, WarningLight.RED})
_RED: Final = frozenset({WarningLight.RED})
_FAST: Final = (WorkingHoursCalendar, RoundTheClock)
_FAST_MAX_US: Final = 4 * 10**15  # as `case_light`'s fast path
_STAGE_OF: Final[dict[State, Stage | None]] = dict(STATE_STAGE)


def to_us(t: datetime) -> int:
    """An aware instant as whole microseconds since the Unix epoch."""
    return (t - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """Epoch microseconds as an instant in UTC."""
    return _EPOCH + timedelta(microseconds=us)


def light_instants(
    case: Case,
    policy: DeadlinePolicy | None,
    memo: LightMemo | None = None,
    *,
    updated_us: int | None = None,
) -> tuple[int | None, int | None]:
    """(yellow_us, red_us): the first instants, from the case's last event on, at which
    `case_light(case, t, policy)` is at least yellow, and red; None when it never is
    (no clock runs, or a parked case frozen below that colour).

    `memo` (the journal's, for `policy`) answers a case whose clock is the one it ran on
    at its previous event without asking the calendar (see `LightMemo`); `updated_us`:
    `to_us(case.updated_at)` when the caller has it.
    """
    state = case.state
    if state not in OPEN_STATES:
        return None, None
    if memo is not None and memo.policy is not policy:
        memo = None
    if state is State.PARKED:  # frozen at the instant it was parked
        return _parked(case, policy)
    stage = _STAGE_OF[state]
    if stage is None:
        return None, None
    # `stage_deadline` on epoch microseconds: the deadline of the stage (`due` for the
    # handling stage, else its category limit after it began) and its limit.
    cat = case.info.category
    cal = _WALL if policy is None else policy.calendar_for(cat)
    due = case.assignment.due
    if stage is Stage.HANDLE:
        if due is None:
            return None, None
        limit = case.assignment.due_budget
        if limit is None:
            if policy is None:
                return None, None
            limit = policy.limit_for(cat, Stage.HANDLE)
            if limit is None:
                return None, None
    else:
        if policy is None:
            return None, None
        limit = policy.limit_for(cat, stage)
        if limit is None:
            return None, None
    limit_us = limit // _US
    if limit_us <= 0 or not isinstance(cal, _FAST):
        return _by_bisection(case, policy, cal)
    s = to_us(case.updated_at) if updated_us is None else updated_us
    # The clock: the handling stage runs to `due`, the others for their limit from when
    # they began; with the category (its calendar) and the limit, it fixes the instants.
    if due is not None and stage is Stage.HANDLE:
        anchor = d = to_us(due)
    elif case.stage_since is case.updated_at:  # the stage began with the last event
        anchor = s
        d = None
    else:
        anchor = to_us(case.stage_since)
        d = None
    clock = (stage, cat, anchor, limit_us)
    if memo is not None:
        seen = memo.seen(case.id, clock, s)
        if seen is not None:
            return seen
    # The light is `used` working time against `limit`, and `used` grows by the working
    # time elapsed: used(t) = used(start) + between(start, t) (`case_light`'s arithmetic,
    # which `between` makes additive). Yellow from used * 5 >= limit * 4, red from
    # used > limit: the first instants that working time is reached.
    if d is None and anchor == s:
        # A stage that began at s ends at add(s, limit), and between(s, add(s, limit))
        # is the limit: none of it is used yet.
        used = 0
    else:
        if d is None:
            d = _stage_end_us(cal, case.stage_since, limit_us)
        used = limit_us - cal.between_us(s, d) if s < d else limit_us + cal.between_us(d, s)
    yellow = _reach(cal, s, -(-limit_us * 4 // 5) - used)
    red = _reach(cal, s, limit_us + 1 - used)
    if memo is not None:
        memo.keep(case.id, clock, s, yellow, red)
    return yellow, red


class LightMemo:
    """The light instants last computed for each recently written case, with its clock.

    While a case stays on one clock (same stage, category, deadline or stage start, and
    limit), the used working time is one function of the instant, so the first instant
    it reaches a colour is one instant T; from an event at s the answer is max(s, T)
    (`_reach` is exact and `between_us` additive). So for an event at s at or after the
    one remembered, on the same clock, the answer is max(s, remembered): no calendar
    asked. A case's `light_instants` without a memo is the definition; the journal's
    tests hold the rows it writes with a memo to it (`verify` too). Holds at most
    `size` cases (forgets them all when full); one memo per policy.
    """

    def __init__(self, policy: DeadlinePolicy | None, size: int = 100_000) -> None:
        self.policy = policy
        self.size = size
        self._by_case: dict[str, tuple[tuple[object, ...], int, int, int]] = {}

    def seen(self, case_id: str, clock: tuple[object, ...], s: int) -> tuple[int, int] | None:
        """The instants for the case at s on `clock`, when remembered for that clock."""
        got = self._by_case.get(case_id)
        if got is None or got[0] != clock or got[1] > s:
            return None
        yellow, red = got[2], got[3]
        return (yellow if yellow > s else s), (red if red > s else s)

    def keep(self, case_id: str, clock: tuple[object, ...], s: int, yellow: int, red: int) -> None:
        """Remember the instants computed for the case at s on `clock`."""
        if len(self._by_case) >= self.size:
            self._by_case.clear()
        self._by_case[case_id] = (clock, s, yellow, red)


def _stage_end_us(cal: Calendar, since: datetime, limit_us: int) -> int:
    """`cal.add(since, limit)` as epoch microseconds (limit_us > 0), without a datetime
    when it can (the calendars' `add_us` is exact; as `case_light`'s fast path)."""
    if type(since) is datetime and type(since.tzinfo) in FAST_ZONES:
        end = cal.add_us(to_us(since), limit_us)
        if 0 < end < _FAST_MAX_US:
            return end
    return to_us(cal.add(since, timedelta(microseconds=limit_us)))


def _parked(case: Case, policy: DeadlinePolicy | None) -> tuple[int | None, int | None]:
    """A parked case's light is frozen: lit from the instant it was parked, or never."""
    if stage_deadline(case, policy) is None:
        return None, None
    start = case.updated_at
    light = case_light(case, start, policy)
    start_us = to_us(start)
    return (
        start_us if light in _YELLOW_OR_RED else None,
        start_us if light is WarningLight.RED else None,
    )


def _reach(cal: WorkingHoursCalendar | RoundTheClock, s: int, work: int) -> int:
    """The first instant (epoch µs) t >= s with between_us(s, t) >= work: `add_us`, which
    is the earliest instant the work has elapsed (a property test of the calendars holds
    `between_us(s, add_us(s, w))` to w and one microsecond less to w - 1)."""
    return s if work <= 0 else cal.add_us(s, work)


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
