"""The working-hours calendar: periods each working day, weekends, holidays, 调休.

Hot path: `add_us`/`between_us` (and the float pair) answer from a per-year table of
working intervals in epoch microseconds, with cumulative sums and a one-interval
`window` cache, without making a datetime. The property tests in
`tests/property/test_clock_properties.py` hold them equal to `add`/`between` on
datetimes; the golden runs (`tests/sim/test_golden.py`) hold the whole simulation.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import numpy as np
import numpy.typing as npt

from gridcore._time import (
    DAY_US,
    EPOCH,
    aware_epoch_us,
    from_epoch_us,
    instant_seconds_to_us,
    work_seconds_to_us,
)
from gridcore.clock.calendar import (
    CUMULATIVE_ORIGIN,
    DEFAULT_TZ,
    MAX_YEAR,
    MIN_YEAR,
    ORIGIN_US,
    as_utc_us,
    duration_us,
)
from gridcore.clock.holidays import CountryHolidays, HolidaySource
from gridcore.errors import CalendarError

__all__ = ["DEFAULT_PERIODS", "WorkingHoursCalendar"]

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12)), (time(14), time(17, 30)))
"""Working periods of a usual Chinese government office day (7 working hours)."""


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
                    s = aware_epoch_us(datetime.combine(day, a, tzinfo=self.tz), "period start")
                    e = aware_epoch_us(datetime.combine(day, b, tzinfo=self.tz), "period end")
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
        return aware_epoch_us(datetime(year, 1, 1, tzinfo=self.tz), "year start")

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
        i = bisect_right(s, ORIGIN_US) - 1
        w0 = 0 if i < 0 else int(cs_np[i]) + min(ORIGIN_US - s[i], e[i] - s[i])
        cs_np -= w0
        ce_np -= w0
        lo_us, hi_us = self._year_start_us(lo), self._year_start_us(hi + 1)
        # A per-day bucket table: a lookup is one gather and a few compares instead of a
        # binary search (several times faster over a million unsorted instants).
        bstarts = lo_us + np.arange((hi_us - lo_us) // DAY_US + 2, dtype=np.int64) * DAY_US
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
            (EPOCH + timedelta(microseconds=p)).astimezone(self.tz).year
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
        x = aware_epoch_us(t, "instant")
        span = self._cover_us(x, x)
        i = bisect_right(span.s, x) - 1
        return i >= 0 and x < span.e[i]

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The earliest instant at which `work` working time has elapsed after `start`.

        Zero work returns `start` unchanged; the result carries `start`'s zone.
        """
        x = aware_epoch_us(start, "start")
        w = duration_us(work, "work")
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
        return from_epoch_us(y, start.tzinfo)

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
        x = instant_seconds_to_us(start_s, "start_s")
        w = work_seconds_to_us(work_s, "work_s")
        return (self._add_us(x, w) if w else x) / 1e6

    def between_seconds(self, start_s: float, end_s: float) -> float:
        """`between` on epoch seconds (UTC POSIX, float), in seconds; zero if not after.

        Equals `between(fromtimestamp(start_s), fromtimestamp(end_s)).total_seconds()`.
        """
        a = instant_seconds_to_us(start_s, "start_s")
        b = instant_seconds_to_us(end_s, "end_s")
        return self.between_us(a, b) / 1e6 if b > a else 0.0

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in `[start, end)`; zero if `end <= start`."""
        a = aware_epoch_us(start, "start")
        b = aware_epoch_us(end, "end")
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
        x = as_utc_us(instants)
        if x.size == 0:
            return np.zeros(x.shape, np.float64)
        span = self._cover_us(int(x.min()), int(x.max()))
        if span.s_np.size == 0:
            return np.full(x.shape, span.base / 1e6, np.float64)
        i = span.first[(x - span.lo_us) // DAY_US]
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
        lo = aware_epoch_us(datetime.combine(day, time(0), tzinfo=self.tz), "day start")
        hi = aware_epoch_us(
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz), "day end"
        )
        i = bisect_left(s, lo)
        out: list[tuple[datetime, datetime]] = []
        ref = datetime(2000, 1, 1, tzinfo=self.tz)
        while i < len(s) and s[i] < hi:
            out.append((from_epoch_us(s[i], ref.tzinfo), from_epoch_us(e[i], ref.tzinfo)))
            i += 1
        return tuple(out)
