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

The package, one concept a module: `calendar` (the `Calendar` protocol, its
constants, `RoundTheClock`), `holidays` (holiday sources), `working`
(`WorkingHoursCalendar`), `calendar_set` (`CalendarSet`), `lights` (the warning
light and its default shares `YELLOW_AT`, `RED_AT`).

>>> from datetime import datetime, time, timedelta
>>> from zoneinfo import ZoneInfo
>>> cal = WorkingHoursCalendar()
>>> sh = ZoneInfo("Asia/Shanghai")
>>> cal.add(datetime(2025, 9, 30, 17, 0, tzinfo=sh), timedelta(hours=1)).isoformat()
'2025-10-09T09:00:00+08:00'
"""

from gridcore.clock.calendar import (
    CUMULATIVE_ORIGIN,
    DEFAULT_TZ,
    MAX_YEAR,
    MIN_YEAR,
    Calendar,
    RoundTheClock,
)
from gridcore.clock.calendar_set import CalendarSet
from gridcore.clock.holidays import CountryHolidays, HolidaySource, NoHolidays
from gridcore.clock.lights import RED_AT, YELLOW_AT, WarningLight, warning_light, warning_light_us
from gridcore.clock.working import DEFAULT_PERIODS, WorkingHoursCalendar

__all__ = [
    "CUMULATIVE_ORIGIN",
    "DEFAULT_PERIODS",
    "DEFAULT_TZ",
    "MAX_YEAR",
    "MIN_YEAR",
    "RED_AT",
    "YELLOW_AT",
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
