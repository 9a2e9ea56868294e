"""Time constants and rounding helpers shared by the core: the one home of the epoch.

Instants on the fast paths are integers: microseconds since the Unix epoch (UTC).
`epoch_us` and `from_epoch_us` convert aware datetimes to them and back exactly;
`seconds_to_us` rounds a float number of seconds the way `datetime.fromtimestamp` and
`timedelta(seconds=...)` round (half to even on the fraction), so float, integer and
datetime paths agree to the microsecond.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final

from gridcore.errors import CalendarError

__all__ = [
    "DAY_US",
    "EPOCH",
    "ONE_US",
    "US_PER_S",
    "aware_epoch_us",
    "earlier",
    "epoch_us",
    "from_epoch_us",
    "instant_seconds_to_us",
    "seconds_to_us",
    "work_seconds_to_us",
]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""The Unix epoch, an aware instant."""

ONE_US: Final = timedelta(microseconds=1)
"""One microsecond: `delta // ONE_US` is a duration in whole microseconds."""

US_PER_S: Final = 1_000_000
"""Microseconds in a second."""

DAY_US: Final = 86_400 * US_PER_S
"""Microseconds in a day of 24 hours."""

# The float paths round `y = s * 1e6` directly (fast), falling back to `seconds_to_us`
# when that could differ from it: near a half microsecond, or where floats no longer
# resolve a quarter of a microsecond (|y| >= 2**52, after the year 2112), or inf/NaN.
_Y_MAX: Final = 4e15


def epoch_us(t: datetime) -> int:
    """Microseconds since the epoch of an aware instant (exact real elapsed time)."""
    return (t - EPOCH) // ONE_US


def earlier(a: datetime, b: datetime) -> bool:
    """Whether the aware instant `a` is before `b`, as absolute instants.

    Python compares two datetimes of one `tzinfo` by their wall clocks, ignoring `fold`:
    across a daylight-saving fold (Europe/Berlin 2026-10-25 02:15 fold=1 is after 02:45
    fold=0) it answers the other way. Two instants of one zone that both have fold=0
    are in wall-clock order, which is their order (the fast case, on the hot path of
    `apply`), except for a wall time inside a spring-forward gap, which names no real
    local time; every other pair is compared through UTC.
    """
    tz = a.tzinfo
    if tz is not b.tzinfo or not (a.fold or b.fold) or type(tz) is timezone:
        return a < b  # other zones: Python compares the instants; else the wall clocks
    return a - EPOCH < b - EPOCH  # through UTC (EPOCH's zone is another one)


def aware_epoch_us(t: datetime, what: str) -> int:
    """`epoch_us(t)`, or `CalendarError` naming `what` when `t` is naive."""
    try:
        # Subtracting across zones goes through UTC, so this is exact real elapsed time.
        d = t - EPOCH
    except TypeError:
        raise CalendarError(f"{what} {t!r} is naive: expected a timezone-aware datetime") from None
    return (d.days * 86_400 + d.seconds) * US_PER_S + d.microseconds


def from_epoch_us(us: int, tz: tzinfo | None) -> datetime:
    """The instant `us` microseconds after the epoch, shown in zone `tz`."""
    return (EPOCH + timedelta(microseconds=us)).astimezone(tz)


def seconds_to_us(x: float, what: str) -> int:
    """Whole microseconds in `x` seconds, rounded as `datetime.fromtimestamp` and
    `timedelta(seconds=x)` round (half to even on the fraction)."""
    frac, whole = math.modf(x)
    try:
        return int(whole) * US_PER_S + round(frac * 1e6)
    except (OverflowError, ValueError, TypeError):
        raise CalendarError(f"{what} {x!r}: expected a finite number of seconds") from None


def instant_seconds_to_us(x: float, what: str) -> int:
    """`seconds_to_us(x, what)`, by rounding `x * 1e6` directly where that gives the same."""
    y = x * 1e6
    v = round(y) if -_Y_MAX < y < _Y_MAX else 0
    return v if -0.25 < y - v < 0.25 else seconds_to_us(x, what)


def work_seconds_to_us(x: float, what: str) -> int:
    """`seconds_to_us(x, what)` for a duration: `CalendarError` when negative."""
    y = x * 1e6
    w = round(y) if 0.0 <= y < _Y_MAX else 0
    if -0.25 < y - w < 0.25:
        return w
    w = seconds_to_us(x, what)
    if w < 0:
        raise CalendarError(f"{what} {x!r}: expected a non-negative number of seconds")
    return w
