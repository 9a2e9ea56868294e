"""Working-time calendar speed: `add` and `between` per call, `cumulative_seconds` over 1M instants.

Baselines in the same run:
- `add` / `between` (datetime in, datetime out) for their float twins `add_seconds` /
  `between_seconds` (epoch seconds in and out, what the simulation calls every step);
- `naive_*`: a day-by-day walk over the calendar's days and periods, what one writes by hand;
- `scalar_loop`: `between(origin, t)` called in a Python loop (per instant), against the
  vectorised `cumulative_seconds`.

Each timed call handles `BATCH` seeded inputs; divide the mean by `BATCH` for a per-call time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from gridcore.clock import CUMULATIVE_ORIGIN, WorkingHoursCalendar

SH = ZoneInfo("Asia/Shanghai")
BATCH = 1_000
N_VECTOR = 1_000_000
N_SCALAR = 20_000
SEED = 20251001
START = datetime(2023, 1, 1, tzinfo=SH)
SPAN_US = 3 * 365 * 86_400 * 10**6


def _instants(rng: np.random.Generator, n: int) -> list[datetime]:
    us = rng.integers(0, SPAN_US, n)
    return [START + timedelta(microseconds=int(x)) for x in us]


def _works(rng: np.random.Generator, n: int) -> list[timedelta]:
    # From a few minutes to 15 working days (the longest limit in the default taxonomy).
    return [timedelta(minutes=int(m)) for m in rng.integers(1, 15 * 7 * 60, n)]


@pytest.fixture(scope="module")
def cal() -> WorkingHoursCalendar:
    c = WorkingHoursCalendar()
    c.between(START, START + timedelta(days=4 * 365))  # build the tables outside the timing
    return c


def _naive_between(cal: WorkingHoursCalendar, a: datetime, b: datetime) -> timedelta:
    """Walk day by day, intersecting [a, b) with each working period."""
    if b <= a:
        return timedelta(0)
    a, b = a.astimezone(cal.tz), b.astimezone(cal.tz)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if cal.is_working_day(day):
            for p, q in cal.periods:
                s = datetime.combine(day, p, tzinfo=cal.tz)
                e = datetime.combine(day, q, tzinfo=cal.tz)
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


def _naive_add(cal: WorkingHoursCalendar, t: datetime, work: timedelta) -> datetime:
    """Walk period by period until the work is used up."""
    t = t.astimezone(cal.tz)
    day = t.date()
    left = work
    while True:
        if cal.is_working_day(day):
            for p, q in cal.periods:
                s = max(datetime.combine(day, p, tzinfo=cal.tz), t)
                e = datetime.combine(day, q, tzinfo=cal.tz)
                if e > s:
                    if e - s >= left:
                        return s + left
                    left -= e - s
        day += timedelta(days=1)


def test_add(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    rng = np.random.default_rng(SEED)
    ts, ws = _instants(rng, BATCH), _works(rng, BATCH)
    out = benchmark(lambda: [cal.add(t, w) for t, w in zip(ts, ws, strict=True)])
    assert out[:50] == [_naive_add(cal, t, w) for t, w in zip(ts[:50], ws[:50], strict=True)]


def test_naive_add(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    rng = np.random.default_rng(SEED)
    ts, ws = _instants(rng, BATCH), _works(rng, BATCH)
    out = benchmark(lambda: [_naive_add(cal, t, w) for t, w in zip(ts, ws, strict=True)])
    assert out[:50] == [cal.add(t, w) for t, w in zip(ts[:50], ws[:50], strict=True)]


def test_between(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    rng = np.random.default_rng(SEED + 1)
    ts = _instants(rng, BATCH)
    us = _works(rng, BATCH)
    ends = [t + 3 * w for t, w in zip(ts, us, strict=True)]
    out = benchmark(lambda: [cal.between(a, b) for a, b in zip(ts, ends, strict=True)])
    assert out[:50] == [_naive_between(cal, a, b) for a, b in zip(ts[:50], ends[:50], strict=True)]


def test_naive_between(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    rng = np.random.default_rng(SEED + 1)
    ts = _instants(rng, BATCH)
    us = _works(rng, BATCH)
    ends = [t + 3 * w for t, w in zip(ts, us, strict=True)]
    out = benchmark(lambda: [_naive_between(cal, a, b) for a, b in zip(ts, ends, strict=True)])
    assert out[:50] == [cal.between(a, b) for a, b in zip(ts[:50], ends[:50], strict=True)]


def _array(rng: np.random.Generator, n: int) -> np.ndarray:
    base = np.datetime64(START.astimezone(UTC).replace(tzinfo=None), "us")
    return base + rng.integers(0, SPAN_US, n).astype("timedelta64[us]")


def test_cumulative_seconds_1m(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    arr = _array(np.random.default_rng(SEED + 2), N_VECTOR)
    out = benchmark(cal.cumulative_seconds, arr)
    assert out.shape == (N_VECTOR,)
    origin = CUMULATIVE_ORIGIN
    for i in range(0, N_VECTOR, N_VECTOR // 20):
        t = arr[i].astype(datetime).replace(tzinfo=UTC)
        assert out[i] == pytest.approx(cal.between(origin, t).total_seconds(), abs=1e-6)


def test_scalar_loop_20k(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    """The per-instant baseline: `between(origin, t)` in a loop, on 20,000 instants."""
    arr = _array(np.random.default_rng(SEED + 2), N_SCALAR)
    ts = [x.replace(tzinfo=UTC) for x in arr.astype(datetime).tolist()]
    out = benchmark(lambda: [cal.between(CUMULATIVE_ORIGIN, t).total_seconds() for t in ts])
    np.testing.assert_allclose(out, cal.cumulative_seconds(arr), atol=1e-6)


def test_add_seconds(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    """The float twin of `test_add` on the same inputs (epoch seconds in and out)."""
    rng = np.random.default_rng(SEED)
    ts, ws = _instants(rng, BATCH), _works(rng, BATCH)
    ss, wss = [t.timestamp() for t in ts], [w.total_seconds() for w in ws]
    f = cal.add_seconds
    out = benchmark(lambda: [f(s, w) for s, w in zip(ss, wss, strict=True)])
    assert out == [cal.add(t, w).timestamp() for t, w in zip(ts, ws, strict=True)]


def test_between_seconds(benchmark: BenchmarkFixture, cal: WorkingHoursCalendar) -> None:
    """The float twin of `test_between` on the same inputs."""
    rng = np.random.default_rng(SEED + 1)
    ts = _instants(rng, BATCH)
    us = _works(rng, BATCH)
    ends = [t + 3 * w for t, w in zip(ts, us, strict=True)]
    a_s, b_s = [t.timestamp() for t in ts], [t.timestamp() for t in ends]
    f = cal.between_seconds
    out = benchmark(lambda: [f(a, b) for a, b in zip(a_s, b_s, strict=True)])
    assert out == [cal.between(a, b).total_seconds() for a, b in zip(ts, ends, strict=True)]
