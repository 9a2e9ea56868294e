"""Working-time calendars: edges of periods, China's holidays and 调休, zones, warning lights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gridcore.clock import (
    CUMULATIVE_ORIGIN,
    Calendar,
    CalendarSet,
    CountryHolidays,
    NoHolidays,
    RoundTheClock,
    WarningLight,
    WorkingHoursCalendar,
    warning_light,
    warning_light_us,
)
from gridcore.errors import CalendarError, ConfigError, GridcoreError, UnknownItemError

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = 7 * H  # one working day of the default calendar


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkingHoursCalendar:
    return WorkingHoursCalendar()


class TestChinaHolidays:
    def test_makeup_sunday_before_national_day_is_a_working_day(
        self, cal: WorkingHoursCalendar
    ) -> None:
        """Sunday 2025-09-28 is a 调休 working day."""
        assert cal.is_working_day(date(2025, 9, 28))
        assert cal.is_working(sh(2025, 9, 28, 9))

    def test_makeup_saturday_after_national_day_is_a_working_day(
        self, cal: WorkingHoursCalendar
    ) -> None:
        """Saturday 2025-10-11 is a 调休 working day."""
        assert cal.is_working_day(date(2025, 10, 11))
        assert cal.is_working(sh(2025, 10, 11, 15))

    def test_wednesday_in_national_day_week_is_a_day_off(self, cal: WorkingHoursCalendar) -> None:
        """Wednesday 2025-10-08 is a day off (substituted)."""
        assert not cal.is_working_day(date(2025, 10, 8))
        assert not cal.is_working(sh(2025, 10, 8, 10))

    def test_ordinary_weekend_is_off(self, cal: WorkingHoursCalendar) -> None:
        """Saturday 2025-09-20 is an ordinary weekend day."""
        assert not cal.is_working_day(date(2025, 9, 20))

    def test_national_day_week_holds_no_working_time(self, cal: WorkingHoursCalendar) -> None:
        """From 2025-10-01 to 2025-10-08 inclusive nothing is counted."""
        assert cal.between(sh(2025, 10, 1), sh(2025, 10, 9)) == timedelta(0)

    def test_between_across_national_day_counts_makeup_days(
        self, cal: WorkingHoursCalendar
    ) -> None:
        """Fri 26 Sep .. Sat 11 Oct 2025: 26, 28, 29, 30 Sep and 9, 10, 11 Oct."""
        assert cal.between(sh(2025, 9, 26), sh(2025, 10, 12)) == 7 * DAY

    def test_add_across_national_day_resumes_on_the_9th(self, cal: WorkingHoursCalendar) -> None:
        """One hour from 17:00 on 30 Sep: 30 min that day, 30 min on 9 Oct."""
        assert cal.add(sh(2025, 9, 30, 17), H) == sh(2025, 10, 9, 9)

    def test_country_source_gives_days_off_and_makeup_days(self) -> None:
        """The holidays package is the source of both lists."""
        off, work = CountryHolidays().days(2025)
        assert date(2025, 10, 8) in off
        assert date(2025, 9, 28) in work and date(2025, 10, 11) in work
        assert all(d.year == 2025 for d in off | work)


class TestPeriodEdges:
    def test_period_start_is_working_and_end_is_not(self, cal: WorkingHoursCalendar) -> None:
        """Periods are half-open: [08:30, 12:00)."""
        assert cal.is_working(sh(2025, 9, 30, 8, 30))
        assert not cal.is_working(sh(2025, 9, 30, 12))
        assert not cal.is_working(sh(2025, 9, 30, 8, 29))
        assert cal.is_working(sh(2025, 9, 30, 14))
        assert not cal.is_working(sh(2025, 9, 30, 17, 30))

    def test_one_minute_from_1159_lands_at_noon(self, cal: WorkingHoursCalendar) -> None:
        """The earliest instant at which the minute has elapsed is 12:00, not 14:00."""
        assert cal.add(sh(2025, 9, 30, 11, 59), M) == sh(2025, 9, 30, 12)

    def test_one_minute_from_noon_lands_at_1401(self, cal: WorkingHoursCalendar) -> None:
        """Work started at the lunch break starts counting at 14:00."""
        assert cal.add(sh(2025, 9, 30, 12), M) == sh(2025, 9, 30, 14, 1)

    def test_zero_work_returns_start_even_off_hours(self, cal: WorkingHoursCalendar) -> None:
        """Adding nothing moves nothing."""
        start = sh(2025, 10, 4, 3)
        assert cal.add(start, timedelta(0)) is start

    def test_add_a_full_day_from_period_start(self, cal: WorkingHoursCalendar) -> None:
        """Seven working hours from 08:30 end exactly at 17:30 the same day."""
        assert cal.add(sh(2025, 9, 30, 8, 30), DAY) == sh(2025, 9, 30, 17, 30)

    def test_add_from_evening_starts_next_working_morning(self, cal: WorkingHoursCalendar) -> None:
        """From 20:00 on Thursday, 30 minutes lands at 09:00 on Friday."""
        assert cal.add(sh(2025, 9, 25, 20), 30 * M) == sh(2025, 9, 26, 9)

    def test_between_inside_one_period(self, cal: WorkingHoursCalendar) -> None:
        """Plain difference inside a period."""
        assert cal.between(sh(2025, 9, 30, 9), sh(2025, 9, 30, 10, 15)) == 75 * M

    def test_between_over_lunch_skips_the_break(self, cal: WorkingHoursCalendar) -> None:
        """11:00 to 15:00 is 1 h + 1 h."""
        assert cal.between(sh(2025, 9, 30, 11), sh(2025, 9, 30, 15)) == 2 * H

    def test_between_reversed_or_equal_is_zero(self, cal: WorkingHoursCalendar) -> None:
        """An empty or reversed interval holds no working time."""
        t = sh(2025, 9, 30, 9)
        assert cal.between(t, t) == timedelta(0)
        assert cal.between(t + H, t) == timedelta(0)

    def test_microseconds_are_exact(self, cal: WorkingHoursCalendar) -> None:
        """No float rounding: a microsecond is a microsecond."""
        t = sh(2025, 9, 30, 11, 59) + timedelta(seconds=59, microseconds=999_999)
        assert cal.between(t, sh(2025, 9, 30, 14)) == timedelta(microseconds=1)
        assert cal.add(t, timedelta(microseconds=1)) == sh(2025, 9, 30, 12)


class TestWeekendsAndLongDurations:
    def test_add_across_a_weekend(self, cal: WorkingHoursCalendar) -> None:
        """Friday 17:00 + 1 h lands on Monday 09:00."""
        assert cal.add(sh(2025, 9, 19, 17), H) == sh(2025, 9, 22, 9)

    def test_between_over_a_weekend(self, cal: WorkingHoursCalendar) -> None:
        """Friday 17:00 to Monday 09:00 is one hour."""
        assert cal.between(sh(2025, 9, 19, 17), sh(2025, 9, 22, 9)) == H

    def test_fifteen_working_days_for_illegal_building(self, cal: WorkingHoursCalendar) -> None:
        """15 working days from Monday 8 Sep 2025 08:30: 28 Sep and the holiday week matter."""
        end = cal.add(sh(2025, 9, 8, 8, 30), 15 * DAY)
        # 8-12, 15-19, 22-26 Sep = 15 days, minus none: ends Fri 26 Sep at 17:30.
        assert end == sh(2025, 9, 26, 17, 30)
        assert cal.between(sh(2025, 9, 8, 8, 30), end) == 15 * DAY

    def test_years_of_work_grow_the_table(self) -> None:
        """A duration of several years of work is answered without a per-day loop."""
        cal = WorkingHoursCalendar()
        start = sh(2025, 1, 2, 8, 30)
        end = cal.add(start, 1500 * DAY)
        assert end.year >= 2030
        assert cal.between(start, end) == 1500 * DAY

    def test_years_before_the_origin(self) -> None:
        """Instants before 2020 work too."""
        cal = WorkingHoursCalendar()
        assert cal.between(sh(2010, 3, 1, 9), sh(2010, 3, 1, 10)) == H

    def test_far_future_is_refused_with_a_calendar_error(self) -> None:
        """Years outside the supported range are named."""
        cal = WorkingHoursCalendar()
        with pytest.raises(CalendarError, match="year range"):
            cal.is_working(datetime(2500, 1, 1, tzinfo=UTC))


class TestZones:
    def test_utc_input_is_measured_in_shanghai_hours(self, cal: WorkingHoursCalendar) -> None:
        """01:00 UTC is 09:00 in Shanghai."""
        assert cal.is_working(datetime(2025, 9, 30, 1, tzinfo=UTC))
        assert not cal.is_working(datetime(2025, 9, 30, 4, 30, tzinfo=UTC))

    def test_add_keeps_the_zone_of_start(self, cal: WorkingHoursCalendar) -> None:
        """The result carries the start's tzinfo and the right instant."""
        ny = ZoneInfo("America/New_York")
        start = datetime(2025, 9, 29, 23, 59, tzinfo=ny)  # 11:59 on the 30th in Shanghai
        end = cal.add(start, M)
        assert end.tzinfo is ny
        assert end == sh(2025, 9, 30, 12)

    def test_between_mixes_zones(self, cal: WorkingHoursCalendar) -> None:
        """Two zones for the two ends give the same answer as one."""
        a = datetime(2025, 9, 30, 1, tzinfo=UTC)  # 09:00 Shanghai
        b = datetime(2025, 9, 30, 3, tzinfo=ZoneInfo("Europe/Paris"))  # 09:00 Shanghai (+02:00)
        assert cal.between(a, b) == timedelta(0)
        assert cal.between(a, sh(2025, 9, 30, 10)) == H

    def test_naive_instants_are_refused(self, cal: WorkingHoursCalendar) -> None:
        """A naive datetime has no meaning here."""
        with pytest.raises(CalendarError, match="naive"):
            cal.add(datetime(2025, 9, 30, 9), H)
        with pytest.raises(CalendarError, match="naive"):
            RoundTheClock().between(datetime(2025, 9, 30, 9), sh(2025, 9, 30, 10))

    def test_calendar_in_a_dst_zone_counts_real_time(self) -> None:
        """A period spanning a spring-forward shift is one hour shorter."""
        cal = WorkingHoursCalendar(
            periods=((time(1), time(5)),), weekend=(), holidays=NoHolidays(), tz="Europe/Paris"
        )
        paris = ZoneInfo("Europe/Paris")
        day = datetime(2025, 3, 30, tzinfo=paris)  # clocks go 02:00 -> 03:00
        assert cal.between(day, day + timedelta(days=1)) == 3 * H


class TestUserDays:
    def test_extra_holiday_is_off(self) -> None:
        """A city's own holiday removes a working day."""
        cal = WorkingHoursCalendar(extra_holidays={date(2025, 9, 30)})
        assert not cal.is_working(sh(2025, 9, 30, 9))
        assert cal.add(sh(2025, 9, 29, 17), H) == sh(2025, 10, 9, 9)

    def test_extra_working_day_is_on(self) -> None:
        """A city's own working day adds one, even on a public holiday."""
        cal = WorkingHoursCalendar(extra_working_days={date(2025, 10, 8)})
        assert cal.is_working(sh(2025, 10, 8, 9))
        assert cal.between(sh(2025, 10, 8), sh(2025, 10, 9)) == DAY

    def test_no_holidays_source_keeps_only_weekends(self) -> None:
        """Without a source, 1 Oct 2025 (a Wednesday) is a working day."""
        cal = WorkingHoursCalendar(holidays=NoHolidays())
        assert cal.is_working(sh(2025, 10, 1, 9))
        assert not cal.is_working(sh(2025, 9, 28, 9))

    def test_working_intervals_of_a_day(self, cal: WorkingHoursCalendar) -> None:
        """The intervals of a working day and of a day off."""
        assert cal.working_intervals(date(2025, 9, 28)) == (
            (sh(2025, 9, 28, 8, 30), sh(2025, 9, 28, 12)),
            (sh(2025, 9, 28, 14), sh(2025, 9, 28, 17, 30)),
        )
        assert cal.working_intervals(date(2025, 10, 8)) == ()


class TestValidation:
    @pytest.mark.parametrize(
        "periods",
        [
            (),
            ((time(12), time(8)),),
            ((time(8), time(12)), (time(11), time(13))),
        ],
    )
    def test_bad_periods_are_refused(self, periods: tuple[tuple[time, time], ...]) -> None:
        """Empty, reversed and overlapping periods are refused, naming the field."""
        with pytest.raises(CalendarError, match="periods"):
            WorkingHoursCalendar(periods=periods)

    def test_all_week_weekend_is_refused(self) -> None:
        """A calendar without working weekdays would never finish anything."""
        with pytest.raises(CalendarError, match="weekend"):
            WorkingHoursCalendar(weekend=range(7))

    def test_unknown_zone_is_refused(self) -> None:
        """The zone must be an IANA name."""
        with pytest.raises(CalendarError, match="tz"):
            WorkingHoursCalendar(tz="Mars/Olympus")

    def test_negative_work_is_refused(self, cal: WorkingHoursCalendar) -> None:
        """Work cannot be negative."""
        with pytest.raises(CalendarError, match="non-negative"):
            cal.add(sh(2025, 9, 30, 9), -H)

    def test_calendar_errors_are_gridcore_errors(self) -> None:
        """One tree for all errors."""
        assert issubclass(CalendarError, GridcoreError)


class TestRoundTheClock:
    def test_add_and_between_are_elapsed_time(self) -> None:
        """Every instant counts, nights and holidays included."""
        c = RoundTheClock()
        start = sh(2025, 10, 1, 23)
        assert c.add(start, 2 * H) == sh(2025, 10, 2, 1)
        assert c.between(start, sh(2025, 10, 2, 1)) == 2 * H
        assert c.is_working(start)

    def test_across_a_dst_shift_is_real_time(self) -> None:
        """Aware arithmetic in a DST zone goes through UTC."""
        paris = ZoneInfo("Europe/Paris")
        a = datetime(2025, 3, 30, 1, tzinfo=paris)
        b = datetime(2025, 3, 30, 4, tzinfo=paris)
        assert RoundTheClock().between(a, b) == 2 * H
        assert RoundTheClock().add(a, 2 * H) == b

    def test_cumulative_is_seconds_since_origin(self) -> None:
        """The origin maps to zero."""
        x = np.array([np.datetime64("2020-01-01T00:00"), np.datetime64("2020-01-01T01:00")])
        assert RoundTheClock().cumulative_seconds(x).tolist() == [0.0, 3600.0]


class TestCumulative:
    def test_origin_is_zero_and_differences_are_between(self, cal: WorkingHoursCalendar) -> None:
        """Differences of cumulative seconds equal `between`."""
        a = sh(2025, 9, 26, 10)
        b = sh(2025, 10, 11, 15, 30)
        arr = np.array(
            [
                np.datetime64(CUMULATIVE_ORIGIN.replace(tzinfo=None), "us"),
                np.datetime64(a.astimezone(UTC).replace(tzinfo=None), "us"),
                np.datetime64(b.astimezone(UTC).replace(tzinfo=None), "us"),
            ]
        )
        got = cal.cumulative_seconds(arr)
        assert got[0] == 0.0
        assert got[2] - got[1] == pytest.approx(cal.between(a, b).total_seconds(), abs=1e-6)

    def test_values_before_the_origin_are_negative(self, cal: WorkingHoursCalendar) -> None:
        """10:00 Shanghai on Tue 31 Dec 2019 is 5.5 working hours before the origin."""
        got = cal.cumulative_seconds(np.array(["2019-12-31T02:00"], dtype="datetime64[us]"))
        assert got.tolist() == [-5.5 * 3600]

    def test_many_short_periods_agree_with_between(self) -> None:
        """The per-day lookup handles several interval starts a day (hourly shifts)."""
        periods = tuple((time(h), time(h, 40)) for h in range(0, 24, 2))
        cal = WorkingHoursCalendar(periods=periods, tz="America/New_York")
        rng = np.random.default_rng(7)
        base = datetime(2024, 3, 1, tzinfo=UTC)
        ts = [base + timedelta(seconds=int(s)) for s in rng.integers(0, 90 * 86_400, 300)]
        arr = np.array([np.datetime64(t.replace(tzinfo=None), "us") for t in ts])
        got = cal.cumulative_seconds(arr)
        for i in range(1, len(ts)):
            a, b = ts[i - 1], ts[i]
            want = (cal.between(a, b) - cal.between(b, a)).total_seconds()
            assert got[i] - got[i - 1] == pytest.approx(want, abs=1e-6)

    def test_non_datetime_input_is_refused(self, cal: WorkingHoursCalendar) -> None:
        """Only datetime64 arrays are accepted."""
        with pytest.raises(CalendarError, match="datetime64"):
            cal.cumulative_seconds(np.array([1.0, 2.0]))

    def test_empty_input_gives_empty_output(self, cal: WorkingHoursCalendar) -> None:
        """Nothing in, nothing out."""
        assert cal.cumulative_seconds(np.array([], dtype="datetime64[us]")).shape == (0,)


class TestCalendarSet:
    def test_standard_set_has_working_and_24x7(self) -> None:
        """The standard set maps names to calendars with "working" as default."""
        cs = CalendarSet.standard()
        assert set(cs) == {"working", "24x7"}
        assert isinstance(cs.get("24x7"), RoundTheClock)
        assert cs.get().name == "working"
        assert isinstance(cs["working"], Calendar)

    def test_unknown_name_names_the_calendar(self) -> None:
        """A missing name raises an UnknownItemError naming it."""
        with pytest.raises(UnknownItemError, match="night-shift"):
            CalendarSet.standard().get("night-shift")

    def test_default_must_be_in_the_set(self) -> None:
        """The default names one of the calendars."""
        with pytest.raises(CalendarError, match="default"):
            CalendarSet.of(RoundTheClock(), default="working")

    def test_duplicate_names_are_refused(self) -> None:
        """Names are unique."""
        with pytest.raises(CalendarError, match="twice"):
            CalendarSet.of(RoundTheClock(), RoundTheClock())

    def test_key_must_match_calendar_name(self) -> None:
        """The mapping key is the calendar's name."""
        with pytest.raises(CalendarError, match="key"):
            CalendarSet({"working": RoundTheClock()}, default="working")


class TestWarningLight:
    @pytest.mark.parametrize(
        ("used_min", "light"),
        [
            (0, WarningLight.GREEN),
            (47, WarningLight.GREEN),
            (48, WarningLight.YELLOW),  # exactly 80 %
            (60, WarningLight.YELLOW),  # exactly 100 % is not yet past it
            (61, WarningLight.RED),
        ],
    )
    def test_default_thresholds(self, used_min: int, light: WarningLight) -> None:
        """Green under 80 %, yellow from 80 %, red past 100 %."""
        assert warning_light(used_min * M, H) is light

    def test_custom_thresholds(self) -> None:
        """Thresholds are configurable."""
        assert warning_light(30 * M, H, yellow_at=0.5, red_at=0.9) is WarningLight.YELLOW
        assert warning_light(55 * M, H, yellow_at=0.5, red_at=0.9) is WarningLight.RED

    @pytest.mark.parametrize(("y", "r"), [(0.8, 0.8), (0.9, 0.5), (0.0, 1.0), (float("nan"), 1.0)])
    def test_bad_thresholds_are_refused(self, y: float, r: float) -> None:
        """0 < yellow_at < red_at, finite."""
        with pytest.raises(ConfigError, match="yellow_at"):
            warning_light(H, H, yellow_at=y, red_at=r)

    def test_non_positive_limit_is_refused(self) -> None:
        """A limit must be positive."""
        with pytest.raises(ConfigError, match="limit"):
            warning_light(H, timedelta(0))

    def test_light_values_are_strings(self) -> None:
        """StrEnum values serialise as plain strings."""
        assert [str(v) for v in WarningLight] == ["green", "yellow", "red"]


class TestSecondsFastPaths:
    """`add_seconds` / `between_seconds`: the same answers on epoch seconds (float)."""

    def test_add_seconds_across_national_day_resumes_on_the_9th(
        self, cal: WorkingHoursCalendar
    ) -> None:
        """One working hour from 17:00 on 2025-09-30 ends at 09:00 on 2025-10-09."""
        out = cal.add_seconds(sh(2025, 9, 30, 17).timestamp(), 3600.0)
        assert out == sh(2025, 10, 9, 9).timestamp()

    def test_add_seconds_zero_work_returns_start(self, cal: WorkingHoursCalendar) -> None:
        """No work asked: the start, even off hours."""
        t = sh(2025, 10, 1, 3).timestamp() + 0.25
        assert cal.add_seconds(t, 0.0) == t

    def test_between_seconds_of_one_working_day(self, cal: WorkingHoursCalendar) -> None:
        """A full working Monday holds 7 working hours."""
        a, b = sh(2024, 3, 4).timestamp(), sh(2024, 3, 5).timestamp()
        assert cal.between_seconds(a, b) == 7 * 3600.0
        assert cal.between_seconds(b, a) == 0.0

    def test_round_the_clock_seconds_are_plain_arithmetic(self) -> None:
        """24x7: add is a sum and between a difference (to the microsecond)."""
        r = RoundTheClock()
        assert r.add_seconds(1_700_000_000.5, 10.25) == 1_700_000_010.75
        assert r.between_seconds(1_700_000_000.0, 1_700_000_003.5) == 3.5
        assert r.between_seconds(5.0, 1.0) == 0.0

    @pytest.mark.parametrize("calendar", [WorkingHoursCalendar(), RoundTheClock()])
    @pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
    def test_bad_work_seconds_are_refused(self, calendar: Calendar, bad: float) -> None:
        """NaN, infinite or negative work raises CalendarError naming it."""
        with pytest.raises(CalendarError, match="work_s"):
            calendar.add_seconds(1_700_000_000.0, bad)

    @pytest.mark.parametrize("calendar", [WorkingHoursCalendar(), RoundTheClock()])
    def test_non_finite_instants_are_refused(self, calendar: Calendar) -> None:
        """An infinite instant raises CalendarError naming it."""
        with pytest.raises(CalendarError, match="end_s"):
            calendar.between_seconds(1_700_000_000.0, float("inf"))

    def test_calendars_satisfy_the_protocol_with_fast_paths(self) -> None:
        """Both calendars still satisfy `Calendar` with the new methods."""
        assert isinstance(WorkingHoursCalendar(), Calendar)
        assert isinstance(RoundTheClock(), Calendar)

    @pytest.mark.parametrize("s", [4_700_000_000.123457, 5_000_000_000.7, 6_000_000_123.0000005])
    def test_far_future_seconds_agree_with_datetime(self, s: float) -> None:
        """Beyond 2106 floats no longer resolve microseconds: the same rounding still applies."""
        cal = WorkingHoursCalendar(holidays=NoHolidays())
        t = datetime.fromtimestamp(s, UTC)
        w = 12_345.678901
        assert cal.add_seconds(s, w) == cal.add(t, timedelta(seconds=w)).timestamp()
        assert (
            cal.between_seconds(s - 9e5, s)
            == cal.between(datetime.fromtimestamp(s - 9e5, UTC), t).total_seconds()
        )


class TestMicrosecondPaths:
    """`add_us` / `between_us` / `warning_light_us`: the same answers on whole microseconds."""

    def test_add_us_across_national_day_resumes_on_the_9th(self, cal: WorkingHoursCalendar) -> None:
        """One working hour from 17:00 on 2025-09-30 ends at 09:00 on 2025-10-09."""
        start = int(sh(2025, 9, 30, 17).timestamp()) * 10**6
        assert cal.add_us(start, 3600 * 10**6) == int(sh(2025, 10, 9, 9).timestamp()) * 10**6
        assert cal.add_us(start + 7, 0) == start + 7

    def test_between_us_of_one_working_day(self, cal: WorkingHoursCalendar) -> None:
        """A full working Monday holds 7 working hours; nothing when the end is not after."""
        a = int(sh(2024, 3, 4).timestamp()) * 10**6
        b = int(sh(2024, 3, 5).timestamp()) * 10**6
        assert cal.between_us(a, b) == 7 * 3600 * 10**6
        assert cal.between_us(b, a) == 0
        r = RoundTheClock()
        assert (r.add_us(a, 5), r.between_us(a, b), r.between_us(b, a)) == (a + 5, b - a, 0)

    @pytest.mark.parametrize("calendar", [WorkingHoursCalendar(), RoundTheClock()])
    def test_negative_work_us_is_refused(self, calendar: WorkingHoursCalendar) -> None:
        """Negative work raises CalendarError naming it."""
        with pytest.raises(CalendarError, match="work_us"):
            calendar.add_us(1_700_000_000 * 10**6, -1)

    def test_warning_light_us(self) -> None:
        """The thresholds as written, exactly; a non-positive limit is refused."""
        lim = 3600 * 10**6
        assert warning_light_us(lim * 4 // 5 - 1, lim) is WarningLight.GREEN
        assert warning_light_us(lim * 4 // 5, lim) is WarningLight.YELLOW
        assert warning_light_us(lim, lim) is WarningLight.YELLOW
        assert warning_light_us(lim + 1, lim) is WarningLight.RED
        with pytest.raises(ConfigError, match="limit_us"):
            warning_light_us(1, 0)
        with pytest.raises(ConfigError, match="used_us"):
            warning_light_us(-1, lim)


class TestAddAcrossDaylightSaving:
    """`add` returns the instant as `astimezone` shows it, also where wall time jumps."""

    PARIS = ZoneInfo("Europe/Paris")

    @pytest.mark.parametrize(
        "calendar",
        [
            RoundTheClock(),
            WorkingHoursCalendar(
                tz="Europe/Paris",
                periods=((time(0), time(23)),),
                weekend={2},
                holidays=NoHolidays(),
            ),
        ],
    )
    def test_result_in_the_spring_forward_gap_is_shown_after_it(self, calendar: Calendar) -> None:
        """Landing where 02:00-03:00 does not exist (2025-03-30, Paris) gives 03:xx+02:00."""
        start = datetime(2025, 3, 30, 1, 30, tzinfo=self.PARIS)
        end = calendar.add(start, timedelta(hours=1))
        want = (start.astimezone(UTC) + timedelta(hours=1)).astimezone(self.PARIS)
        assert end.isoformat() == want.isoformat() == "2025-03-30T03:30:00+02:00"

    def test_result_in_the_autumn_fold_keeps_the_second_pass(self) -> None:
        """An hour after 02:30 (first pass, +02:00) on 2025-10-26 is 02:30 again, +01:00."""
        start = datetime(2025, 10, 26, 2, 30, tzinfo=self.PARIS)
        end = RoundTheClock().add(start, timedelta(hours=1))
        assert end.isoformat() == "2025-10-26T02:30:00+01:00"
        assert end.fold == 1
