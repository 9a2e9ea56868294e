"""Holiday sources: days off and make-up working days (调休) for a calendar."""

from __future__ import annotations

import functools
from datetime import date
from typing import Protocol

import attrs

from gridcore.errors import CalendarError

__all__ = ["CountryHolidays", "HolidaySource", "NoHolidays"]


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
