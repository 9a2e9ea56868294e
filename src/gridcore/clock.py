"""Working-time calendars, time limits and warning lights.

Every instant is a timezone-aware `datetime`; every duration a `timedelta`.
Working periods are given in the calendar's local wall time (default
Asia/Shanghai) and measured in real elapsed time, so a daylight-saving shift
inside a period is counted as it happened.

Conventions, fixed here once for every caller:

- A working period is half-open: 08:30 is working time, 12:00 is not. So
  `is_working(12:00)` is False, and adding one minute at 11:59 lands at 12:00
  (the earliest instant at which the minute has elapsed), not at 14:00.
- `add(start, timedelta(0))` returns `start` unchanged, even at a non-working
  instant: no work is asked, so no time passes.
- `between(start, end)` is the working time in `[start, end)`, zero when
  `end <= start`.
- Results of `add` carry the `tzinfo` of `start`.
- `cumulative_seconds` counts from `CUMULATIVE_ORIGIN` (2020-01-01 00:00 UTC);
  values before it are negative. Differences of two results equal `between`.

>>> from datetime import datetime, time, timedelta
>>> from zoneinfo import ZoneInfo
>>> cal = WorkingHoursCalendar()
>>> sh = ZoneInfo("Asia/Shanghai")
>>> cal.add(datetime(2025, 9, 30, 17, 0, tzinfo=sh), timedelta(hours=1)).isoformat()
'2025-10-09T09:00:00+08:00'
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.errors import CalendarError, ConfigError, UnknownItemError

__all__ = [
    "CUMULATIVE_ORIGIN",
    "DEFAULT_PERIODS",
    "DEFAULT_TZ",
    "MAX_YEAR",
    "MIN_YEAR",
    "Calendar",
    "CalendarSet",
    "CountryHolidays",
    "HolidaySource",
    "NoHolidays",
    "RoundTheClock",
    "WarningLight",
    "WorkingHoursCalendar",
    "warning_light",
    "warning_light_us",
]

DEFAULT_TZ = "Asia/Shanghai"
"""The zone used when a calendar is not given one."""

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12)), (time(14), time(17, 30)))
"""Working periods of a usual Chinese government office day (7 working hours)."""

CUMULATIVE_ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)
"""The instant from which `cumulative_seconds` counts."""

MIN_YEAR = 1950
"""The first year a working-hours calendar can answer for."""

MAX_YEAR = 2199
"""The last year a working-hours calendar can answer for."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY_US = 86_400 * 1_000_000
_ORIGIN_US = (CUMULATIVE_ORIGIN - _EPOCH) // _US


def _to_us(t: datetime, what: str) -> int:
    """Microseconds since the Unix epoch of an aware instant."""
    try:
        # Subtracting across zones goes through UTC, so this is exact real elapsed time.
        d = t - _EPOCH
    except TypeError:
        raise CalendarError(f"{what} {t!r} is naive: expected a timezone-aware datetime") from None
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _from_us(us: int, like: datetime) -> datetime:
    """The instant `us` microseconds after the epoch, in the zone of `like`."""
    return (_EPOCH + timedelta(microseconds=us)).astimezone(like.tzinfo)


def _duration_us(work: timedelta, what: str) -> int:
    if not isinstance(work, timedelta):
        raise CalendarError(f"{what} {work!r}: expected a datetime.timedelta")
    if work < timedelta(0):
        raise CalendarError(f"{what} {work}: expected a non-negative duration")
    return work // _US


def _s_to_us(x: float, what: str) -> int:
    """Whole microseconds in `x` seconds, rounded as `datetime.fromtimestamp` and
    `timedelta(seconds=x)` round (half to even on the fraction): the float paths agree
    with the datetime ones to the microsecond."""
    frac, whole = math.modf(x)
    try:
        return int(whole) * 1_000_000 + round(frac * 1e6)
    except (OverflowError, ValueError, TypeError):
        raise CalendarError(f"{what} {x!r}: expected a finite number of seconds") from None


# The float paths round `y = s * 1e6` directly (fast), falling back to `_s_to_us` when that
# could differ from it: near a half microsecond, or where floats no longer resolve a
# quarter of a microsecond (|y| >= 2**52, after the year 2112), or for inf/NaN.
_Y_MAX = 4e15


def _work_us(x: float, what: str) -> int:
    w = _s_to_us(x, what)
    if w < 0:
        raise CalendarError(f"{what} {x!r}: expected a non-negative number of seconds")
    return w


def _instant_s_us(x: float, what: str) -> int:
    """`_s_to_us(x, what)`, by rounding `x * 1e6` directly where that gives the same."""
    y = x * 1e6
    v = round(y) if -_Y_MAX < y < _Y_MAX else 0
    return v if -0.25 < y - v < 0.25 else _s_to_us(x, what)


def _work_s_us(x: float, what: str) -> int:
    """`_work_us(x, what)`, by rounding `x * 1e6` directly where that gives the same."""
    y = x * 1e6
    w = round(y) if 0.0 <= y < _Y_MAX else 0
    return w if -0.25 < y - w < 0.25 else _work_us(x, what)


def _as_utc_us(instants: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Accept `datetime64` (any unit, taken as UTC) and return int64 microseconds."""
    arr = np.asarray(instants)
    if arr.dtype.kind != "M":
        raise CalendarError(
            f"instants of dtype {arr.dtype}: expected numpy datetime64 (UTC) values"
        )
    us = arr.astype("datetime64[us]").astype(np.int64)
    if np.any(np.isnat(arr)):
        raise CalendarError("instants contain NaT: expected only valid datetime64 values")
    return us


@runtime_checkable
class Calendar(Protocol):
    """What a working-time calendar answers: is it working time, add, between, cumulative."""

    @property
    def name(self) -> str:
        """The calendar's name in a `CalendarSet` ("working", "24x7", ...)."""
        ...

    def is_working(self, t: datetime) -> bool:
        """Whether the instant `t` is inside working time."""
        ...

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The earliest instant at which `work` working time has elapsed after `start`."""
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in `[start, end)`; zero if `end <= start`."""
        ...

    def cumulative_seconds(self, instants: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Working seconds since `CUMULATIVE_ORIGIN` for each `datetime64` (UTC) instant."""
        ...

    def add_seconds(self, start_s: float, work_s: float) -> float:
        """`add` on epoch seconds (UTC POSIX, float): the same instant, to the microsecond."""
        ...

    def between_seconds(self, start_s: float, end_s: float) -> float:
        """`between` on epoch seconds (UTC POSIX, float), in seconds, to the microsecond."""
        ...


@attrs.frozen
class RoundTheClock:
    """A 24x7 calendar: every instant is working time (emergencies, hotlines)."""

    name: str = "24x7"

    def is_working(self, t: datetime) -> bool:
        """Always True (for an aware instant)."""
        _to_us(t, "instant")
        return True

    def add(self, start: datetime, work: timedelta) -> datetime:
        """`start + work` in real elapsed time (exact across DST shifts)."""
        w = _duration_us(work, "work")
        off = start.utcoffset()
        if off is None:
            _to_us(start, "start")  # raises: naive
        if w == 0:
            return start
        end = start + work
        if end.utcoffset() == off and end.replace(fold=1).utcoffset() == off:
            # Same offset at both ends, and `end` is not in a DST gap or fold: wall-clock
            # arithmetic is elapsed time here (always so in zones without DST), and `end`
            # is the very instant and representation the UTC round trip below would give.
            return end
        return _from_us(_to_us(start, "start") + w, start)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Real elapsed time from `start` to `end`, zero if `end <= start`."""
        a = _to_us(start, "start")
        b = _to_us(end, "end")
        return timedelta(microseconds=max(b - a, 0))

    def add_seconds(self, start_s: float, work_s: float) -> float:
        """`start_s + work_s`, both rounded to the microsecond as `add` rounds them."""
        x = _instant_s_us(start_s, "start_s")
        w = _work_s_us(work_s, "work_s")
        return (x + w) / 1e6

    def between_seconds(self, start_s: float, end_s: float) -> float:
        """Elapsed seconds from `start_s` to `end_s` (to the microsecond), zero if not after."""
        a = _instant_s_us(start_s, "start_s")
        b = _instant_s_us(end_s, "end_s")
        return (b - a) / 1e6 if b > a else 0.0

    def add_us(self, start_us: int, work_us: int) -> int:
        """`add` on epoch microseconds (UTC, ints): `start_us + work_us`, exact."""
        if work_us < 0:
            raise CalendarError(
                f"work_us {work_us!r}: expected a non-negative number of microseconds"
            )
        return start_us + work_us

    def between_us(self, start_us: int, end_us: int) -> int:
        """`between` on epoch microseconds (UTC, ints): elapsed microseconds, zero if not after."""
        return end_us - start_us if end_us > start_us else 0

    def cumulative_seconds(self, instants: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Seconds since `CUMULATIVE_ORIGIN`."""
        us = _as_utc_us(instants)
        return (us - _ORIGIN_US).astype(np.float64) / 1e6


class HolidaySource(Protocol):
    """Days off and make-up working days (调休) for one year."""

    def days(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """`(days_off, working_days)` of `year`: holidays, and weekend days worked instead."""
        ...


@attrs.frozen
class NoHolidays:
    """A holiday source with no holidays: only the weekend is off."""

    def days(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """No days off and no make-up days."""
        return frozenset(), frozenset()


@attrs.frozen
class CountryHolidays:
    """Public holidays and make-up working days from the `holidays` package.

    The default is China (`holidays.China`), whose tables carry the State
    Council's 调休 make-up working days for the years already announced; for
    years not yet announced only the fixed holidays are known.
    """

    country: str = "CN"
    subdiv: str | None = None

    def days(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """Holidays of `year` and weekend days that are working days in `year`."""
        return _country_days(self.country, self.subdiv, year)


@functools.lru_cache(maxsize=1024)
def _country_days(
    country: str, subdiv: str | None, year: int
) -> tuple[frozenset[date], frozenset[date]]:
    """One year's table from the holidays package; cached, it never changes within a run."""
    # Imported here: the package is only needed once a calendar is used.
    import holidays

    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError as exc:
        raise CalendarError(
            f"holiday source country {country!r} subdiv {subdiv!r}: "
            "expected a country/subdivision the holidays package supports"
        ) from exc
    off = frozenset(d for d in table if d.year == year)
    # weekend_workdays accumulates over every year the class was ever asked for.
    extra: set[date] = getattr(table, "weekend_workdays", set())
    work = frozenset(d for d in extra if d.year == year)
    return off, work


def _check_periods(periods: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
    out = tuple((a, b) for a, b in periods)
    if not out:
        raise CalendarError("field 'periods' is empty: expected at least one (start, end) pair")
    prev_end: time | None = None
    for i, (a, b) in enumerate(out):
        if not isinstance(a, time) or not isinstance(b, time):
            raise CalendarError(f"field 'periods'[{i}] = {(a, b)!r}: expected two datetime.time")
        if a.tzinfo is not None or b.tzinfo is not None:
            raise CalendarError(f"field 'periods'[{i}]: expected naive local times")
        if not a < b:
            raise CalendarError(
                f"field 'periods'[{i}] = {a.isoformat()}-{b.isoformat()}: expected start < end"
            )
        if prev_end is not None and a < prev_end:
            raise CalendarError(
                f"field 'periods'[{i}] starts at {a.isoformat()} before the previous period ends "
                f"at {prev_end.isoformat()}: expected sorted, non-overlapping periods"
            )
        prev_end = b
    return out


def _check_weekend(weekend: Iterable[int]) -> frozenset[int]:
    days = frozenset(weekend)
    for d in days:
        if not isinstance(d, int) or not 0 <= d <= 6:
            raise CalendarError(
                f"field 'weekend' holds {d!r}: expected weekdays 0 (Mon) .. 6 (Sun)"
            )
    if len(days) == 7:
        raise CalendarError("field 'weekend' covers all 7 days: expected at least one weekday")
    return days


def _dates(days: Iterable[date]) -> frozenset[date]:
    out = frozenset(days)
    for d in out:
        if not isinstance(d, date) or isinstance(d, datetime):
            raise CalendarError(f"extra day {d!r}: expected a datetime.date")
    return out


def _zone(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"field 'tz' = {tz!r}: expected an IANA time zone name") from exc


@attrs.frozen
class _Span:
    """The working intervals of local years `lo..hi`, with cumulative sums (an immutable snapshot).

    Lists serve the scalar path (bisect), arrays the vectorised one (searchsorted).
    Cumulative values are working microseconds since `CUMULATIVE_ORIGIN`.
    """

    lo: int
    hi: int
    lo_us: int
    hi_us: int
    base: int  # cumulative value before the first interval
    s: list[int]
    e: list[int]
    cs: list[int]
    ce: list[int]
    s_np: npt.NDArray[np.int64]
    e_np: npt.NDArray[np.int64]
    cs_np: npt.NDArray[np.int64]
    s_pad: npt.NDArray[np.int64]  # s_np with a sentinel at the end
    first: npt.NDArray[np.int64]  # per UTC day from lo_us: last interval starting at or before
    steps: int  # most interval starts inside one UTC day


class _Timeline:
    """The mutable cache of one calendar: per-year intervals and the current span.

    A grown span replaces the old one in a single assignment, so a reader that took
    a span keeps a consistent one even if another thread grows the cache meanwhile.
    `window` is `(gap, s1, e1, s2, e2)` in epoch microseconds, also replaced whole: the
    working interval `[s1, e1)` that the last `_add_us` started in or before (in the gap
    `[gap, s1)`), and the next one `[s2, e2)`. Work that starts in `[gap, e1)` and ends
    by `e2` is found without a search.
    """

    __slots__ = ("span", "window", "years")

    def __init__(self) -> None:
        self.years: dict[int, tuple[list[int], list[int]]] = {}
        self.span: _Span | None = None
        self.window: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


@attrs.frozen(eq=False)
class WorkingHoursCalendar:
    """Working periods each working day, weekends, public holidays and 调休.

    A day is a working day if it is a make-up working day (from the holiday
    source or `extra_working_days`), or else if it is not a weekend day, not a
    holiday of the source and not in `extra_holidays`. `extra_working_days` win
    over `extra_holidays`, which win over the source: a city's own list has the
    last word.
    """

    name: str = "working"
    periods: tuple[tuple[time, time], ...] = attrs.field(
        default=DEFAULT_PERIODS, converter=_check_periods
    )
    weekend: frozenset[int] = attrs.field(default=frozenset({5, 6}), converter=_check_weekend)
    holidays: HolidaySource = attrs.field(factory=CountryHolidays)
    extra_holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_dates)
    extra_working_days: frozenset[date] = attrs.field(default=frozenset(), converter=_dates)
    tz: tzinfo = attrs.field(default=ZoneInfo(DEFAULT_TZ), converter=_zone)
    _tl: _Timeline = attrs.field(init=False, factory=_Timeline, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise CalendarError("field 'name' is empty: expected a calendar name")

    # -- the per-day table ---------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether the local calendar day `day` is a working day."""
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        off, work = self.holidays.days(day.year)
        if day in work:
            return True
        return day.weekday() not in self.weekend and day not in off

    def _year_intervals(self, year: int) -> tuple[list[int], list[int]]:
        cached = self._tl.years.get(year)
        if cached is not None:
            return cached
        off, work = self.holidays.days(year)
        starts: list[int] = []
        ends: list[int] = []
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            if day in self.extra_working_days:
                working = True
            elif day in self.extra_holidays:
                working = False
            elif day in work:
                working = True
            else:
                working = day.weekday() not in self.weekend and day not in off
            if working:
                for a, b in self.periods:
                    s = _to_us(datetime.combine(day, a, tzinfo=self.tz), "period start")
                    e = _to_us(datetime.combine(day, b, tzinfo=self.tz), "period end")
                    # A DST fold can make a period empty or overlap the previous one.
                    if starts and s < ends[-1]:
                        s = ends[-1]
                    if e > s:
                        starts.append(s)
                        ends.append(e)
            day += one
        self._tl.years[year] = (starts, ends)
        return starts, ends

    def _year_start_us(self, year: int) -> int:
        return _to_us(datetime(year, 1, 1, tzinfo=self.tz), "year start")

    def _cover_years(self, lo: int, hi: int) -> _Span:
        """The span of local years `lo..hi` and the origin's year, grown from the cached one."""
        old = self._tl.span
        origin_year = CUMULATIVE_ORIGIN.astimezone(self.tz).year
        lo = min(lo, origin_year)
        hi = max(hi, origin_year)
        if old is not None:
            if old.lo <= lo and hi <= old.hi:
                return old
            lo, hi = min(lo, old.lo), max(hi, old.hi)
        if lo < MIN_YEAR or hi > MAX_YEAR:
            raise CalendarError(
                f"calendar {self.name!r}: year range {lo}..{hi} asked: "
                f"expected years within {MIN_YEAR}..{MAX_YEAR}"
            )
        s: list[int] = []
        e: list[int] = []
        for y in range(lo, hi + 1):
            ys, ye = self._year_intervals(y)
            s.extend(ys)
            e.extend(ye)
        s_np = np.asarray(s, dtype=np.int64)
        e_np = np.asarray(e, dtype=np.int64)
        ce_np = np.cumsum(e_np - s_np, dtype=np.int64)
        cs_np = ce_np - (e_np - s_np)
        # Shift so that cumulative working time is zero at the fixed origin.
        i = bisect_right(s, _ORIGIN_US) - 1
        w0 = 0 if i < 0 else int(cs_np[i]) + min(_ORIGIN_US - s[i], e[i] - s[i])
        cs_np -= w0
        ce_np -= w0
        lo_us, hi_us = self._year_start_us(lo), self._year_start_us(hi + 1)
        # A per-day bucket table: a lookup is one gather and a few compares instead of a
        # binary search (several times faster over a million unsorted instants).
        bstarts = lo_us + np.arange((hi_us - lo_us) // _DAY_US + 2, dtype=np.int64) * _DAY_US
        pos = np.searchsorted(s_np, bstarts, side="right")
        steps = int(np.diff(pos).max()) if pos.size > 1 else 0
        span = _Span(
            lo=lo,
            hi=hi,
            lo_us=lo_us,
            hi_us=hi_us,
            base=-w0,
            s=s,
            e=e,
            cs=cs_np.tolist(),
            ce=ce_np.tolist(),
            s_np=s_np,
            e_np=e_np,
            cs_np=cs_np,
            s_pad=np.append(s_np, np.iinfo(np.int64).max),
            first=(pos - 1).astype(np.int64),
            steps=steps,
        )
        self._tl.span = span
        return span

    def _cover_us(self, lo: int, hi: int) -> _Span:
        """A span covering the instants `lo <= hi` (microseconds since the epoch)."""
        span = self._tl.span
        if span is not None and span.lo_us <= lo and hi < span.hi_us:
            return span
        years = [
            (_EPOCH + timedelta(microseconds=p)).astimezone(self.tz).year
            if -(5 * 10**16) < p < 5 * 10**16
            else (MIN_YEAR - 1 if p < 0 else MAX_YEAR + 1)
            for p in (lo, hi)
        ]
        return self._cover_years(min(years), max(years))

    @staticmethod
    def _w(span: _Span, x: int) -> int:
        """Cumulative working microseconds at `x` (which `span` covers)."""
        i = bisect_right(span.s, x) - 1
        if i < 0:
            return span.base
        s = span.s[i]
        return span.cs[i] + min(x - s, span.e[i] - s)

    # -- the Calendar protocol -------------------------------------------------

    def is_working(self, t: datetime) -> bool:
        """Whether `t` is inside a working period of a working day (period ends excluded)."""
        x = _to_us(t, "instant")
        span = self._cover_us(x, x)
        i = bisect_right(span.s, x) - 1
        return i >= 0 and x < span.e[i]

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The earliest instant at which `work` working time has elapsed after `start`.

        Zero work returns `start` unchanged; the result carries `start`'s zone.
        """
        x = _to_us(start, "start")
        w = _duration_us(work, "work")
        if w == 0:
            return start
        y = self._add_us(x, w)
        end = start + timedelta(microseconds=y - x)
        off = start.utcoffset()
        if end.utcoffset() == off and end.replace(fold=1).utcoffset() == off:
            # As in `RoundTheClock.add`: same offset at both ends and no gap or fold at
            # `end`, so the wall-clock sum is the instant `y` in the representation the
            # UTC round trip below would give (and cheaper).
            return end
        return _from_us(y, start)

    def _add_us(self, x: int, w: int) -> int:
        """The instant (epoch microseconds) at which `w > 0` working microseconds after `x` end."""
        tl = self._tl
        gap, s1, e1, s2, e2 = tl.window
        if gap <= x < e1:
            y = (x if x > s1 else s1) + w  # counted from the start of the work
            if y <= e1:
                return y
            y += s2 - e1  # the rest from the start of the next interval
            if y <= e2:
                return y
        span = tl.span
        if span is None or not span.lo_us <= x < span.hi_us:
            span = self._cover_us(x, x)
        s, e = span.s, span.e
        i = bisect_right(s, x) - 1
        # the interval that `x` is in or before, and the next one: the window from now on
        k = i if i >= 0 and x < e[i] else i + 1
        if k + 1 < len(s):
            tl.window = (e[k - 1] if k > 0 else s[k], s[k], e[k], s[k + 1], e[k + 1])
        if i < 0:
            target = span.base + w
        else:
            si = s[i]
            target = span.cs[i] + min(x - si, e[i] - si) + w
        ce = span.ce
        if not ce or ce[-1] < target:
            span = self._grow_for(span, target)
            s, ce = span.s, span.ce
        j = bisect_left(ce, target)
        return s[j] + (target - span.cs[j])

    def _grow_for(self, span: _Span, target: int) -> _Span:
        """A span whose cumulative working time reaches `target`."""
        while not span.ce or span.ce[-1] < target:
            # Grow by as many whole years as the remaining work needs, at least one:
            # long durations skip years at a time, never walk day by day.
            have = span.ce[-1] if span.ce else span.base
            per_year = max((have - span.base) // (span.hi - span.lo + 1), 1)
            more = max(1, math.ceil((target - have) / per_year))
            span = self._cover_years(span.lo, min(span.hi + more, MAX_YEAR + 1))
        return span

    def add_seconds(self, start_s: float, work_s: float) -> float:
        """`add` on epoch seconds (UTC POSIX, float), with no datetime made.

        Equals `add(datetime.fromtimestamp(start_s, UTC), timedelta(seconds=work_s))
        .timestamp()` exactly: inputs are rounded to the microsecond the same way.

        >>> cal, sh = WorkingHoursCalendar(), ZoneInfo("Asia/Shanghai")
        >>> t = datetime(2025, 9, 30, 17, tzinfo=sh).timestamp()
        >>> datetime.fromtimestamp(cal.add_seconds(t, 3600.0), sh).isoformat()
        '2025-10-09T09:00:00+08:00'
        """
        x = _instant_s_us(start_s, "start_s")
        w = _work_s_us(work_s, "work_s")
        return (self._add_us(x, w) if w else x) / 1e6

    def between_seconds(self, start_s: float, end_s: float) -> float:
        """`between` on epoch seconds (UTC POSIX, float), in seconds; zero if not after.

        Equals `between(fromtimestamp(start_s), fromtimestamp(end_s)).total_seconds()`.
        """
        a = _instant_s_us(start_s, "start_s")
        b = _instant_s_us(end_s, "end_s")
        return self.between_us(a, b) / 1e6 if b > a else 0.0

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in `[start, end)`; zero if `end <= start`."""
        a = _to_us(start, "start")
        b = _to_us(end, "end")
        if b <= a:
            return timedelta(0)
        span = self._cover_us(a, b)
        return timedelta(microseconds=self._w(span, b) - self._w(span, a))

    def add_us(self, start_us: int, work_us: int) -> int:
        """`add` on epoch microseconds (UTC, ints): the same instant, exact, no datetime made."""
        if work_us <= 0:
            if work_us == 0:
                return start_us
            raise CalendarError(
                f"work_us {work_us!r}: expected a non-negative number of microseconds"
            )
        return self._add_us(start_us, work_us)

    def between_us(self, start_us: int, end_us: int) -> int:
        """`between` on epoch microseconds (UTC, ints): working microseconds in
        `[start_us, end_us)`, zero if not after; exact, no datetime made."""
        if end_us <= start_us:
            return 0
        span = self._tl.span
        if span is None or not (span.lo_us <= start_us and end_us < span.hi_us):
            span = self._cover_us(start_us, end_us)
        # `_w(span, end_us) - _w(span, start_us)` inlined, the second search bounded by
        # the first.
        s = span.s
        i = bisect_right(s, end_us) - 1
        if i < 0:
            return 0  # both before the first interval
        si = s[i]
        wb = span.cs[i] + min(end_us - si, span.e[i] - si)
        i = bisect_right(s, start_us, 0, i + 1) - 1
        if i < 0:
            return wb - span.base
        si = s[i]
        return wb - span.cs[i] - min(start_us - si, span.e[i] - si)

    def cumulative_seconds(self, instants: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Working seconds from `CUMULATIVE_ORIGIN` to each `datetime64` (UTC) instant."""
        x = _as_utc_us(instants)
        if x.size == 0:
            return np.zeros(x.shape, np.float64)
        span = self._cover_us(int(x.min()), int(x.max()))
        if span.s_np.size == 0:
            return np.full(x.shape, span.base / 1e6, np.float64)
        i = span.first[(x - span.lo_us) // _DAY_US]
        for _ in range(span.steps):
            i += span.s_pad[i + 1] <= x
        ok = i >= 0
        ic = np.where(ok, i, 0)
        s = span.s_np[ic]
        within = np.minimum(x - s, span.e_np[ic] - s)
        w = np.where(ok, span.cs_np[ic] + within, span.base)
        return w.astype(np.float64) / 1e6

    def working_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of local day `day` as aware instants (empty on a day off)."""
        s, e = self._year_intervals(day.year)
        lo = _to_us(datetime.combine(day, time(0), tzinfo=self.tz), "day start")
        hi = _to_us(datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz), "day end")
        i = bisect_left(s, lo)
        out: list[tuple[datetime, datetime]] = []
        ref = datetime(2000, 1, 1, tzinfo=self.tz)
        while i < len(s) and s[i] < hi:
            out.append((_from_us(s[i], ref), _from_us(e[i], ref)))
            i += 1
        return tuple(out)


@attrs.frozen
class CalendarSet:
    """Calendars by name ("working", "24x7", ...) with a default one."""

    calendars: Mapping[str, Calendar] = attrs.field(hash=False)
    default: str = "working"

    def __attrs_post_init__(self) -> None:
        if not self.calendars:
            raise CalendarError("calendar set is empty: expected at least one calendar")
        for key, cal in self.calendars.items():
            if not isinstance(cal, Calendar):
                raise CalendarError(f"calendar set entry {key!r} = {cal!r}: expected a Calendar")
            if key != cal.name:
                raise CalendarError(
                    f"calendar set entry {key!r} holds calendar named {cal.name!r}: "
                    "expected the key to equal the calendar's name"
                )
        if self.default not in self.calendars:
            raise CalendarError(
                f"calendar set field 'default' = {self.default!r}: expected one of "
                f"{sorted(self.calendars)}"
            )
        object.__setattr__(self, "calendars", MappingProxyType(dict(self.calendars)))

    @classmethod
    def of(cls, *calendars: Calendar, default: str | None = None) -> CalendarSet:
        """A set from calendars keyed by their names; the first is the default unless named."""
        table: dict[str, Calendar] = {}
        for cal in calendars:
            if cal.name in table:
                raise CalendarError(
                    f"calendar name {cal.name!r} given twice: expected unique names"
                )
            table[cal.name] = cal
        if not calendars:
            raise CalendarError("calendar set is empty: expected at least one calendar")
        return cls(table, default if default is not None else calendars[0].name)

    @classmethod
    def standard(
        cls,
        tz: str | tzinfo = DEFAULT_TZ,
        holidays: HolidaySource | None = None,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> CalendarSet:
        """ "working" (08:30-12:00, 14:00-17:30, China's holidays) and "24x7"; default "working"."""
        working = WorkingHoursCalendar(
            tz=tz,
            holidays=holidays if holidays is not None else CountryHolidays(),
            extra_holidays=frozenset(extra_holidays),
            extra_working_days=frozenset(extra_working_days),
        )
        return cls.of(working, RoundTheClock(), default="working")

    def get(self, name: str | None = None) -> Calendar:
        """The calendar called `name`, or the default one for None or ""."""
        key = name or self.default
        try:
            return self.calendars[key]
        except KeyError:
            raise UnknownItemError("calendar", key, "calendar set") from None

    def __getitem__(self, name: str) -> Calendar:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.calendars

    def __iter__(self) -> Iterator[str]:
        return iter(self.calendars)

    def __len__(self) -> int:
        return len(self.calendars)


class WarningLight(StrEnum):
    """A case's timeliness light: green, yellow (near the limit), red (past it)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


_ZERO = timedelta(0)


@functools.lru_cache(maxsize=64)
def _thresholds(yellow_at: float, red_at: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """The thresholds as exact fractions of their written decimals, checked once per pair."""
    if not (math.isfinite(yellow_at) and math.isfinite(red_at) and 0 < yellow_at < red_at):
        raise ConfigError(
            f"warning thresholds yellow_at={yellow_at!r}, red_at={red_at!r}: "
            "expected finite numbers with 0 < yellow_at < red_at"
        )
    y, r = Fraction(repr(yellow_at)), Fraction(repr(red_at))
    return (y.numerator, y.denominator), (r.numerator, r.denominator)


def warning_light(
    used: timedelta,
    limit: timedelta,
    yellow_at: float = 0.8,
    red_at: float = 1.0,
) -> WarningLight:
    """The light for `used` of `limit`: green below `yellow_at`, yellow from it, red past `red_at`.

    Exactly at `red_at` is still yellow ("red past 100%").

    >>> warning_light(timedelta(hours=4), timedelta(hours=5)).value
    'yellow'
    """
    _thresholds(yellow_at, red_at)  # checked first, as ever
    if limit <= _ZERO:
        raise ConfigError(f"warning field 'limit' = {limit}: expected a positive duration")
    if used < _ZERO:
        raise ConfigError(f"warning field 'used' = {used}: expected a non-negative duration")
    return warning_light_us(used // _US, limit // _US, yellow_at, red_at)


def warning_light_us(
    used_us: int,
    limit_us: int,
    yellow_at: float = 0.8,
    red_at: float = 1.0,
) -> WarningLight:
    """`warning_light` on whole microseconds (ints): the same light, no timedelta made.

    >>> warning_light_us(4 * 3_600_000_000, 5 * 3_600_000_000).value
    'yellow'
    """
    (yn, yd), (rn, rd) = _thresholds(yellow_at, red_at)
    if limit_us <= 0:
        raise ConfigError(f"warning field 'limit_us' = {limit_us}: expected a positive duration")
    if used_us < 0:
        raise ConfigError(f"warning field 'used_us' = {used_us}: expected a non-negative duration")
    # Exact integer comparison against the thresholds as written (0.8 means 4/5, not the
    # binary float just above it), so 4 h of 5 h is yellow.
    if used_us * rd > limit_us * rn:
        return WarningLight.RED
    if used_us * yd >= limit_us * yn:
        return WarningLight.YELLOW
    return WarningLight.GREEN
