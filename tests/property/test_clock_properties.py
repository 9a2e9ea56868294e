"""Properties of working-time calendars: round trips, monotonicity, additivity, vectorisation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gridcore.clock import RoundTheClock, WorkingHoursCalendar, warning_light, warning_light_us

SH = ZoneInfo("Asia/Shanghai")
ZONES = [SH, UTC, ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")]

# Calendars are built once: their tables are caches, and the properties hold for any state.
WORKING = WorkingHoursCalendar()
CITY = WorkingHoursCalendar(
    extra_holidays={date(2024, 6, 3), date(2025, 3, 5)},
    extra_working_days={date(2025, 10, 4)},
)
CALENDARS = [WORKING, CITY, RoundTheClock()]

SETTINGS = settings(max_examples=150, deadline=None)

instants = st.builds(
    lambda us, tz: (datetime(2023, 6, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(tz),
    # About three years around the National Day weeks of 2023-2025, to the microsecond.
    st.integers(min_value=0, max_value=3 * 366 * 86_400 * 10**6),
    st.sampled_from(ZONES),
)
works = st.one_of(
    st.integers(min_value=0, max_value=40 * 7 * 3600 * 10**6).map(
        lambda us: timedelta(microseconds=us)
    ),
    st.integers(min_value=0, max_value=400).map(lambda m: timedelta(minutes=m)),
)
calendars = st.sampled_from(CALENDARS)


def _on_working_time(cal: WorkingHoursCalendar | RoundTheClock, t: datetime) -> datetime:
    """Move `t` forward to working time (adding a microsecond of work, then stepping back)."""
    end = cal.add(t, timedelta(microseconds=1))
    # Step back in UTC: aware arithmetic in a zone with DST is wall-clock arithmetic.
    return (end.astimezone(UTC) - timedelta(microseconds=1)).astimezone(t.tzinfo)


@SETTINGS
@given(calendars, instants, works)
def test_between_after_add_round_trips(
    cal: WorkingHoursCalendar | RoundTheClock, t: datetime, d: timedelta
) -> None:
    """between(t, add(t, d)) == d, from any instant (off hours too)."""
    assert cal.between(t, cal.add(t, d)) == d


@SETTINGS
@given(calendars, instants, instants)
def test_add_after_between_lands_on_working_instants(
    cal: WorkingHoursCalendar | RoundTheClock, x: datetime, y: datetime
) -> None:
    """For u strictly inside working time and t <= u, add(t, between(t, u)) == u."""
    t, u = sorted((x, y))
    # Strictly after a period start: at a start, the earliest instant is the previous end.
    u = (_on_working_time(cal, u).astimezone(UTC) + timedelta(microseconds=1)).astimezone(SH)
    assume(cal.is_working(u))
    assert cal.add(t, cal.between(t, u)) == u


@SETTINGS
@given(calendars, instants, works, works)
def test_add_is_monotonic_in_work(
    cal: WorkingHoursCalendar | RoundTheClock, t: datetime, d1: timedelta, d2: timedelta
) -> None:
    """More work never ends earlier; strictly more work ends strictly later."""
    a, b = sorted((d1, d2))
    assert cal.add(t, a) <= cal.add(t, b)
    if a < b:
        assert cal.add(t, a) < cal.add(t, b)


@SETTINGS
@given(calendars, instants, instants, works)
def test_add_is_monotonic_in_start(
    cal: WorkingHoursCalendar | RoundTheClock, t1: datetime, t2: datetime, d: timedelta
) -> None:
    """A later start never ends earlier, and the end is never before the start."""
    a, b = sorted((t1, t2))
    assert cal.add(a, d) <= cal.add(b, d)
    assert cal.add(a, d) >= a


@SETTINGS
@given(calendars, instants, instants, instants)
def test_between_is_monotonic(
    cal: WorkingHoursCalendar | RoundTheClock, x: datetime, y: datetime, z: datetime
) -> None:
    """Widening the interval never shrinks the working time."""
    a, b, c = sorted((x, y, z))
    assert cal.between(a, c) >= cal.between(b, c)
    assert cal.between(a, c) >= cal.between(a, b)
    # elapsed time, not wall-clock: aware datetimes in one zone subtract as wall clocks,
    # which a DST fold (Paris, 2023-10-29 02:00 twice) makes an hour short
    assert cal.between(a, b) <= b.astimezone(UTC) - a.astimezone(UTC)


@SETTINGS
@given(calendars, instants, instants, instants)
def test_between_is_additive(
    cal: WorkingHoursCalendar | RoundTheClock, x: datetime, y: datetime, z: datetime
) -> None:
    """between(a, b) + between(b, c) == between(a, c) for a <= b <= c."""
    a, b, c = sorted((x, y, z))
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)


@SETTINGS
@given(calendars, instants)
def test_is_working_agrees_with_between(
    cal: WorkingHoursCalendar | RoundTheClock, t: datetime
) -> None:
    """t is working time iff the next microsecond counts."""
    one = timedelta(microseconds=1)
    assert cal.is_working(t) == (cal.between(t, t + one) == one)


@settings(max_examples=40, deadline=None)
@given(calendars, st.lists(instants, min_size=1, max_size=30))
def test_cumulative_seconds_agrees_with_between(
    cal: WorkingHoursCalendar | RoundTheClock, ts: list[datetime]
) -> None:
    """Differences of cumulative seconds are `between` (signed), to the microsecond."""
    arr = np.array(
        [np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "us") for t in ts],
        dtype="datetime64[us]",
    )
    cum = cal.cumulative_seconds(arr)
    assert cum.dtype == np.float64 and cum.shape == arr.shape
    for i in range(len(ts)):
        j = (i + 1) % len(ts)
        a, b = ts[i], ts[j]
        want = (cal.between(a, b) - cal.between(b, a)).total_seconds()
        assert abs((cum[j] - cum[i]) - want) < 1e-5


@SETTINGS
@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=10**9),
    st.floats(min_value=0.01, max_value=5.0),
    st.floats(min_value=0.01, max_value=5.0),
)
def test_warning_light_is_monotonic_in_used(used: int, limit: int, y: float, r: float) -> None:
    """Using more of the limit never turns the light back towards green."""
    if y >= r:
        y, r = min(y, r) / 2, max(y, r)
    order = {"green": 0, "yellow": 1, "red": 2}
    lim = timedelta(microseconds=limit)
    a = warning_light(timedelta(microseconds=used), lim, y, r)
    b = warning_light(timedelta(microseconds=used + 1), lim, y, r)
    assert order[a.value] <= order[b.value]


# -- the float fast paths agree with the datetime ones ---------------------------------

# Epoch seconds as a simulation produces them: any float (not only whole microseconds),
# about three years around the National Day weeks of 2023-2025.
_T_LO = datetime(2023, 6, 1, tzinfo=UTC).timestamp()
epoch_seconds = st.one_of(
    st.floats(min_value=_T_LO, max_value=_T_LO + 3 * 366 * 86_400.0),
    st.integers(min_value=0, max_value=3 * 366 * 86_400 * 10**6).map(lambda us: _T_LO + us / 1e6),
    # Half-microsecond ties and their neighbours, where rounding must match datetime's.
    st.integers(min_value=0, max_value=3 * 366 * 86_400 * 10**6).map(
        lambda us: _T_LO + (us + 0.5) / 1e6
    ),
)
work_seconds = st.one_of(
    st.floats(min_value=0.0, max_value=40 * 7 * 3600.0),
    st.integers(min_value=0, max_value=400).map(lambda m: m * 60.0),
    st.integers(min_value=0, max_value=10**7).map(lambda us: (us + 0.5) / 1e6),
)


def _dt(s: float) -> datetime:
    return datetime.fromtimestamp(s, UTC)


@settings(max_examples=300, deadline=None)
@given(calendars, epoch_seconds, work_seconds)
def test_add_seconds_equals_add_to_the_microsecond(
    cal: WorkingHoursCalendar | RoundTheClock, s: float, w: float
) -> None:
    """add_seconds(s, w) == add(fromtimestamp(s), timedelta(seconds=w)).timestamp(), exactly."""
    want = cal.add(_dt(s), timedelta(seconds=w))
    got = cal.add_seconds(s, w)
    assert got == want.timestamp()
    assert _dt(got) == want


@settings(max_examples=300, deadline=None)
@given(calendars, epoch_seconds, epoch_seconds)
def test_between_seconds_equals_between_to_the_microsecond(
    cal: WorkingHoursCalendar | RoundTheClock, a: float, b: float
) -> None:
    """between_seconds(a, b) == between(fromtimestamp(a), fromtimestamp(b)).total_seconds()."""
    want = cal.between(_dt(a), _dt(b))
    got = cal.between_seconds(a, b)
    assert got == want.total_seconds()
    assert timedelta(seconds=got) == want


@SETTINGS
@given(calendars, epoch_seconds, work_seconds)
def test_between_seconds_after_add_seconds_round_trips(
    cal: WorkingHoursCalendar | RoundTheClock, s: float, w: float
) -> None:
    """Measuring what was added gives the work back (both rounded to the microsecond)."""
    got = cal.between_seconds(s, cal.add_seconds(s, w))
    assert timedelta(seconds=got) == timedelta(seconds=w)


# -- the integer (microsecond) paths agree with the datetime ones -----------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, works)
def test_add_us_equals_add(
    cal: WorkingHoursCalendar | RoundTheClock, t: datetime, work: timedelta
) -> None:
    """add_us on epoch microseconds is the instant add gives, exactly."""
    assert cal.add_us((t - _EPOCH) // _US, work // _US) == (cal.add(t, work) - _EPOCH) // _US


@settings(max_examples=300, deadline=None)
@given(calendars, instants, instants)
def test_between_us_equals_between(
    cal: WorkingHoursCalendar | RoundTheClock, a: datetime, b: datetime
) -> None:
    """between_us on epoch microseconds is between's duration, exactly (zero if not after)."""
    got = cal.between_us((a - _EPOCH) // _US, (b - _EPOCH) // _US)
    assert got == cal.between(a, b) // _US


@SETTINGS
@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=1, max_value=10**12),
    st.sampled_from([(0.8, 1.0), (0.5, 0.9), (0.7, 1.25), (0.1, 3.0)]),
)
def test_warning_light_us_is_the_exact_ratio(
    used: int, limit: int, thresholds: tuple[float, float]
) -> None:
    """The integer light compares used/limit with the thresholds as written, exactly."""
    y, r = thresholds
    for u in (used, limit * 4 // 5, limit, limit + 1):
        ratio = Fraction(u, limit)
        want = (
            "red"
            if ratio > Fraction(repr(r))
            else "yellow"
            if ratio >= Fraction(repr(y))
            else "green"
        )
        assert warning_light_us(u, limit, y, r).value == want
        assert warning_light(timedelta(microseconds=u), timedelta(microseconds=limit), y, r) == want


_MIN_US = 60 * 10**6
_EDGES = (510, 720, 840, 1050)  # the default periods' edges, minutes after local midnight


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=20),  # day after 2025-03-01 (a holiday on the 5th)
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3),  # the period edge the start is near
            st.integers(min_value=-90, max_value=90),  # start: minutes off that edge
            st.integers(min_value=-2, max_value=2),  # start: microseconds off the minute
            st.integers(min_value=0, max_value=3),  # the edge the end is aimed at
            st.integers(min_value=-2, max_value=2),  # end: microseconds off that edge
        ),
        min_size=1,
        max_size=20,
    ),
)
def test_add_us_in_a_run_of_nearby_calls_is_the_earliest_instant(
    day: int, steps: list[tuple[int, int, int, int, int]]
) -> None:
    """A run of calls close together (as a simulation makes them, many starting and ending
    inside the working interval of the previous one) still gives the earliest instant at
    which the work has elapsed: exactly `w` working microseconds after the start, not one
    less. The ends are aimed at the working periods' edges, give or take a microsecond."""
    cal = WorkingHoursCalendar(extra_holidays={date(2025, 3, 5)})
    midnight = (datetime(2025, 3, 1, tzinfo=SH) - _EPOCH) // _US + day * 1440 * _MIN_US
    for near, off_min, off_us, aim, end_us in steps:
        x = midnight + (_EDGES[near] + off_min) * _MIN_US + off_us
        w = max(1, midnight + _EDGES[aim] * _MIN_US + end_us - x)
        end = cal.add_us(x, w)
        assert cal.between_us(x, end) == w
        assert cal.between_us(x, end - 1) == w - 1
