"""A set of calendars by name, with a default one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, tzinfo
from types import MappingProxyType

import attrs

from gridcore.clock.calendar import DEFAULT_TZ, Calendar, RoundTheClock
from gridcore.clock.holidays import CountryHolidays, HolidaySource
from gridcore.clock.working import WorkingHoursCalendar
from gridcore.errors import CalendarError, UnknownItemError

__all__ = ["CalendarSet"]


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
