"""Fitting one quantity: censored duration fits, their choice by test, shares."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore.calibrate import fit_duration, fit_share


def _fit(x: np.ndarray, censored: np.ndarray | None = None, limit: float = np.inf):
    c = np.zeros(x.size, np.bool_) if censored is None else censored
    fit = fit_duration(x.astype(np.float64), c, np.full(x.size, limit))
    assert fit is not None
    return fit


class TestFitDuration:
    def test_exponential_data_is_fitted_as_exponential(self) -> None:
        """2,000 exponential draws of mean 30: exponential chosen, the interval holds 30."""
        x = np.random.default_rng(1).exponential(30.0, 2000)
        fit = _fit(x)
        assert fit.kind == "exponential"
        assert fit.ci_low < 30.0 < fit.ci_high
        assert fit.passes

    def test_lognormal_data_is_fitted_as_lognormal(self) -> None:
        """Lognormal draws (mean 180, sigma 0.8): lognormal chosen with both parameters."""
        mu = math.log(180.0) - 0.8**2 / 2
        x = np.random.default_rng(2).lognormal(mu, 0.8, 3000)
        fit = _fit(x)
        assert fit.kind == "lognormal"
        assert fit.ci_low < 180.0 < fit.ci_high
        assert fit.sigma == pytest.approx(0.8, abs=0.05)

    def test_a_competing_censoring_is_weighted_in_the_test(self) -> None:
        """Exponential times (mean 90) cut short by a competing event (exponential, mean
        60) whose time a complete value does not show: the completes are short, so the
        plain test rejects the true form; weighted by the censoring's reverse Kaplan-Meier
        survival it accepts it, and the censored MLE's interval holds 90."""
        rng = np.random.default_rng(5)
        x, e = rng.exponential(90.0, 1500), rng.exponential(60.0, 1500)
        seen, cut = np.minimum(x, e), e < x
        plain = fit_duration(seen, cut)
        weighted = fit_duration(seen, cut, competing=True)
        assert plain is not None and weighted is not None
        assert plain.kind == "empirical"
        assert weighted.kind == "exponential"
        assert weighted.ci_low < 90.0 < weighted.ci_high

    def test_censored_values_are_counted_not_dropped(self) -> None:
        """Exponential mean 60 censored at 50 minutes: the censored MLE's interval holds 60;
        the mean of the complete values alone (about 22) is far below it."""
        x = np.random.default_rng(3).exponential(60.0, 3000)
        cens = x > 50.0
        fit = _fit(np.minimum(x, 50.0), cens, 50.0)
        assert fit.n_censored == int(cens.sum())
        assert fit.kind == "exponential"
        assert fit.ci_low < 60.0 < fit.ci_high
        assert x[~cens].mean() < fit.ci_low

    def test_censored_lognormal_interval_holds_the_truth(self) -> None:
        """Lognormal mean 300, sigma 0.6, censored at 400: the interval holds 300."""
        mu = math.log(300.0) - 0.6**2 / 2
        x = np.random.default_rng(4).lognormal(mu, 0.6, 3000)
        fit = _fit(np.minimum(x, 400.0), x > 400.0, 400.0)
        assert fit.kind == "lognormal"
        assert fit.ci_low < 300.0 < fit.ci_high

    def test_two_humps_fail_both_forms_and_fall_back_to_empirical(self) -> None:
        """Half the values near 10, half near 100: neither form passes; empirical is used and
        the fit says it fails its test."""
        rng = np.random.default_rng(5)
        x = np.concatenate([rng.normal(10, 1, 1000), rng.normal(100, 5, 1000)])
        fit = _fit(x)
        assert fit.kind == "empirical"
        assert not fit.passes
        assert fit.dist().kind == "empirical"
        assert len(fit.dist().values) == 200
        assert fit.dist().mean_minutes == pytest.approx(55.0, rel=0.05)

    def test_equal_values_are_a_fixed_time(self) -> None:
        """Every value 10 minutes: a fixed distribution of 10."""
        fit = _fit(np.full(50, 10.0))
        assert fit.kind == "fixed"
        assert fit.dist().mean_minutes == 10.0
        assert fit.passes

    def test_too_few_complete_values_give_no_fit(self) -> None:
        """Fewer than 10 complete observations: nothing fitted."""
        assert fit_duration(np.ones(9), np.zeros(9, np.bool_)) is None


class TestFitShare:
    @given(st.integers(0, 500), st.integers(1, 500))
    def test_the_interval_holds_the_estimate_inside_zero_one(self, k: int, n: int) -> None:
        """0 <= low <= k/n <= high <= 1 for any k <= n."""
        k = min(k, n)
        s = fit_share(k, n)
        assert 0.0 <= s.ci_low <= s.estimate + 1e-12
        assert s.estimate <= s.ci_high + 1e-12 <= 1.0 + 1e-12

    def test_no_trials_give_nan(self) -> None:
        """A share of nothing is NaN, not 0."""
        assert math.isnan(fit_share(0, 0).estimate)
