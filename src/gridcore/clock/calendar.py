"""Working-time calendars: the `Calendar` protocol, its constants, and `RoundTheClock`.

Every instant is a timezone-aware `datetime`; every duration a `timedelta`. The
protocol also declares the pairs on plain numbers that the hot paths of the core and
the simulation use: `add_seconds`/`between_seconds` (epoch seconds, floats) and
`add_us`/`between_us` (epoch microseconds, ints, exact). Each pair gives the same
instants and durations as `add`/`between`, to the microsecond; the property tests in
`tests/property/test_clock_properties.py` hold the built-in calendars to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, runtime_checkable

import attrs
import numpy as np
import numpy.typing as npt

from gridcore._time import (
    EPOCH,
    ONE_US,
    aware_epoch_us,
    from_epoch_us,
    instant_seconds_to_us,
    work_seconds_to_us,
)
from gridcore.errors import CalendarError

__all__ = [
    "CUMULATIVE_ORIGIN",
    "DEFAULT_TZ",
    "MAX_YEAR",
    "MIN_YEAR",
    "Calendar",
    "RoundTheClock",
]

DEFAULT_TZ = "Asia/Shanghai"
"""The zone used when a calendar is not given one."""

CUMULATIVE_ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)
"""The instant from which `cumulative_seconds` counts."""

MIN_YEAR = 1950
"""The first year a working-hours calendar can answer for."""

MAX_YEAR = 2199
"""The last year a working-hours calendar can answer for."""

ORIGIN_US: Final = (CUMULATIVE_ORIGIN - EPOCH) // ONE_US
"""`CUMULATIVE_ORIGIN` in epoch microseconds."""


def duration_us(work: timedelta, what: str) -> int:
    if not isinstance(work, timedelta):
        raise CalendarError(f"{what} {work!r}: expected a datetime.timedelta")
    if work < timedelta(0):
        raise CalendarError(f"{what} {work}: expected a non-negative duration")
    return work // ONE_US


def as_utc_us(instants: npt.ArrayLike) -> npt.NDArray[np.int64]:
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
    """What a working-time calendar answers: is it working time, add, between, cumulative.

    `add_seconds`/`between_seconds` and `add_us`/`between_us` must give what `add` and
    `between` give on the same instants (the core's and the simulation's fast paths use
    them for every calendar).
    """

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

    def add_us(self, start_us: int, work_us: int) -> int:
        """`add` on epoch microseconds (UTC, ints): the same instant, exact, no datetime made."""
        ...

    def between_us(self, start_us: int, end_us: int) -> int:
        """`between` on epoch microseconds (UTC, ints): working microseconds, zero if not after."""
        ...


@attrs.frozen
class RoundTheClock:
    """A 24x7 calendar: every instant is working time (emergencies, hotlines)."""

    name: str = "24x7"

    def is_working(self, t: datetime) -> bool:
        """Always True (for an aware instant)."""
        aware_epoch_us(t, "instant")
        return True

    def add(self, start: datetime, work: timedelta) -> datetime:
        """`start + work` in real elapsed time (exact across DST shifts)."""
        w = duration_us(work, "work")
        off = start.utcoffset()
        if off is None:
            aware_epoch_us(start, "start")  # raises: naive
        if w == 0:
            return start
        end = start + work
        if end.utcoffset() == off and end.replace(fold=1).utcoffset() == off:
            # Same offset at both ends, and `end` is not in a DST gap or fold: wall-clock
            # arithmetic is elapsed time here (always so in zones without DST), and `end`
            # is the very instant and representation the UTC round trip below would give.
            return end
        return from_epoch_us(aware_epoch_us(start, "start") + w, start.tzinfo)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Real elapsed time from `start` to `end`, zero if `end <= start`."""
        a = aware_epoch_us(start, "start")
        b = aware_epoch_us(end, "end")
        return timedelta(microseconds=max(b - a, 0))

    def add_seconds(self, start_s: float, work_s: float) -> float:
        """`start_s + work_s`, both rounded to the microsecond as `add` rounds them."""
        x = instant_seconds_to_us(start_s, "start_s")
        w = work_seconds_to_us(work_s, "work_s")
        return (x + w) / 1e6

    def between_seconds(self, start_s: float, end_s: float) -> float:
        """Elapsed seconds from `start_s` to `end_s` (to the microsecond), zero if not after."""
        a = instant_seconds_to_us(start_s, "start_s")
        b = instant_seconds_to_us(end_s, "end_s")
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
        us = as_utc_us(instants)
        return (us - ORIGIN_US).astype(np.float64) / 1e6
