"""Arrivals: a non-homogeneous Poisson fit of report instants, and the tests that say
when the counts are not Poisson.

The model is the simulation's: reports on day d in hour h arrive as a Poisson count with
mean `base x weekday[d] x hour[h]` (`hour` sums to 1, `weekday` has mean 1). The maximum
likelihood estimates are closed forms: `hour` is the share of reports in each hour,
`weekday[k]` the mean count of the days that are weekday k (over the mean of the seven),
`base` the total over the sum of the days' weekday factors. Dispersion (Pearson's
chi-square of the daily counts, and of the day x hour cells, against their fitted means)
says whether the counts vary more than a Poisson process allows; when they do, the
interval of the rate is widened by the square root of the dispersion (quasi-Poisson).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.calibrate._fits import ALPHA, scipy_stats

__all__ = ["ArrivalFit", "fit_arrivals", "local_us"]

IntArray = npt.NDArray[np.int64]
_US_H = 3_600_000_000
_US_D = 24 * _US_H
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def local_us(us: IntArray, tz: tzinfo) -> IntArray:
    """UTC µs instants as local wall-clock µs in `tz` (the offset looked up once per hour)."""
    if not us.size:
        return us.copy()
    hours = us // _US_H
    uniq, inv = np.unique(hours, return_inverse=True)
    offs = np.array([_offset_us(tz, int(h)) for h in uniq.tolist()], np.int64)
    out: IntArray = us + offs[inv.reshape(-1)]
    return out


def _offset_us(tz: tzinfo, hour: int) -> int:
    off = (_EPOCH + timedelta(hours=hour)).astimezone(tz).utcoffset() or timedelta(0)
    return off // timedelta(microseconds=1)


@attrs.frozen
class ArrivalFit:
    """The fitted report process of a log (see the module docstring)."""

    per_1000_households_per_day: float
    ci_low: float
    ci_high: float
    reports: int
    days: int
    first_day: date
    households: int
    hour_profile: tuple[float, ...]
    hour_counts: tuple[int, ...]
    weekday_profile: tuple[float, ...]
    weekday_days: tuple[int, ...]
    daily_counts: tuple[int, ...]
    daily_expected: tuple[float, ...]
    dispersion_daily: float
    p_daily: float
    dispersion_cells: float
    p_cells: float

    @property
    def poisson(self) -> bool:
        """Whether both dispersion tests accept a Poisson process at `ALPHA`."""
        return all(not (p < ALPHA) for p in (self.p_daily, self.p_cells))

    def to_json(self) -> dict[str, Any]:
        """The fitted.json entries of the arrival keys."""
        test = (
            "non-homogeneous Poisson MLE (rate x weekday x hour); Pearson chi-square "
            "dispersion of daily counts and of day x hour cells against the fit"
        )
        verdict = (
            "consistent with Poisson"
            if self.poisson
            else "NOT Poisson: counts vary more (or less) than a Poisson process allows; "
            "the rate's interval is widened by the square root of the dispersion"
        )
        return {
            "incidents.per_1000_households_per_day": {
                "estimate": self.per_1000_households_per_day,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "sample_size": self.reports,
                "days": self.days,
                "households": self.households,
                "test": test,
                "poisson": self.poisson,
                "verdict": verdict,
                "dispersion_daily": self.dispersion_daily,
                "p_value_daily": self.p_daily,
                "dispersion_cells": self.dispersion_cells,
                "p_value_cells": self.p_cells,
                "note": "reports, not occurrences: incidents still latent, or reported after "
                "the log ends, are not in it",
            },
            "incidents.hour_profile": {
                "estimate": list(self.hour_profile),
                "counts": list(self.hour_counts),
                "sample_size": self.reports,
                "test": "multinomial MLE (share of reports per local hour)",
            },
            "incidents.weekday_profile": {
                "estimate": list(self.weekday_profile),
                "days_seen": list(self.weekday_days),
                "sample_size": self.reports,
                "test": "Poisson MLE per weekday (mean count of its days, mean-normalised); "
                "a weekday not in the log is left at 1",
            },
        }


def fit_arrivals(report_us: IntArray, households: int, tz: tzinfo, last_us: int) -> ArrivalFit:
    """Fit the report instants (µs UTC) of a city of `households` (days in `tz`, up to the
    day of `last_us`, the log's last event)."""
    stats = scipy_stats()
    loc = local_us(report_us, tz)
    last_loc = int(local_us(np.array([last_us], np.int64), tz)[0])
    day = loc // _US_D
    d0 = int(day.min())
    n_days = last_loc // _US_D - d0 + 1
    di = day - d0
    hour = (loc % _US_D) // _US_H
    cells = np.bincount(di * 24 + hour, minlength=n_days * 24).reshape(n_days, 24)
    daily = cells.sum(axis=1)
    hour_counts = cells.sum(axis=0)
    total = int(daily.sum())
    first = date(1970, 1, 1) + timedelta(days=d0)
    wd = (np.arange(n_days) + first.weekday()) % 7
    wd_days = np.bincount(wd, minlength=7)
    wd_counts = np.bincount(wd, weights=daily, minlength=7)
    seen = wd_days > 0
    wd_mean = np.where(seen, wd_counts / np.maximum(wd_days, 1), np.nan)
    week = np.ones(7)
    if seen.any() and np.nanmean(wd_mean) > 0:
        week[seen] = wd_mean[seen] / np.nanmean(wd_mean[seen])
    week_sum = float(week[wd].sum())
    base = total / week_sum
    hours = hour_counts / max(total, 1)
    per_k = 1000.0 / max(households, 1)
    # exact Poisson (Garwood) interval of the total, widened when overdispersed
    expected_day = base * week[wd]
    x2_d, df_d = _pearson(daily, expected_day, n_days - int(seen.sum()))
    exp_cells = expected_day[:, None] * hours[None, :]
    x2_c, df_c = _pearson(cells.ravel(), exp_cells.ravel(), cells.size - int(seen.sum()) - 23)
    phi = max(1.0, x2_d / df_d) if df_d > 0 else 1.0
    lo_n = float(stats.chi2.ppf(0.025, 2 * total)) / 2 if total else 0.0
    hi_n = float(stats.chi2.ppf(0.975, 2 * total + 2)) / 2
    half_lo, half_hi = (total - lo_n) * math.sqrt(phi), (hi_n - total) * math.sqrt(phi)
    rate = base * per_k
    return ArrivalFit(
        per_1000_households_per_day=rate,
        ci_low=max(0.0, total - half_lo) / week_sum * per_k,
        ci_high=(total + half_hi) / week_sum * per_k,
        reports=total,
        days=n_days,
        first_day=first,
        households=households,
        hour_profile=tuple(float(h) * 24 for h in hours),  # mean-normalised, as the scenario's
        hour_counts=tuple(int(h) for h in hour_counts),
        weekday_profile=tuple(float(w) for w in week),
        weekday_days=tuple(int(d) for d in wd_days),
        daily_counts=tuple(int(d) for d in daily),
        daily_expected=tuple(float(e) for e in expected_day),
        dispersion_daily=x2_d / df_d if df_d > 0 else math.nan,
        p_daily=float(stats.chi2.sf(x2_d, df_d)) if df_d > 0 else math.nan,
        dispersion_cells=x2_c / df_c if df_c > 0 else math.nan,
        p_cells=float(stats.chi2.sf(x2_c, df_c)) if df_c > 0 else math.nan,
    )


def _pearson(obs: npt.NDArray[Any], exp: npt.NDArray[Any], df: int) -> tuple[float, int]:
    """Pearson's X^2 over the cells with a positive expectation, and its degrees of freedom."""
    pos = exp > 0
    x2 = float((((obs - exp) ** 2)[pos] / exp[pos]).sum())
    return x2, df - int((~pos).sum())
