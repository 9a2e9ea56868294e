"""Statistics helpers: t quantiles, intervals, Erlang formulas, Little's law."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.errors import ConfigError
from gridcore.sim.stats import (
    erlang_c,
    estimate,
    little_check,
    mmc_mean_wait,
    t_quantile_975,
)


def test_t_quantile_matches_the_table_and_approaches_the_normal() -> None:
    """Known quantiles; the expansion beyond 30 df is close to published values."""
    assert t_quantile_975(1) == 12.706
    assert t_quantile_975(30) == 2.042
    assert t_quantile_975(40) == pytest.approx(2.021, abs=1e-3)
    assert t_quantile_975(60) == pytest.approx(2.000, abs=1e-3)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
    assert t_quantile_975(10**6) == pytest.approx(1.960, abs=1e-3)


def test_t_quantile_refuses_zero_degrees_of_freedom() -> None:
    """df 0 has no t distribution."""
    with pytest.raises(ConfigError, match="degrees of freedom"):
        t_quantile_975(0)


def test_estimate_of_one_value_has_no_interval() -> None:
    """One replication: a mean, a NaN half width."""
    e = estimate([3.0])
    assert e.mean == 3.0 and math.isnan(e.half_width) and e.n == 1


def test_estimate_leaves_nan_out() -> None:
    """NaN values (a metric without cases) do not poison the mean."""
    e = estimate([1.0, math.nan, 3.0])
    assert e.mean == 2.0 and e.n == 2


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=20))
@settings(max_examples=50, deadline=None)
def test_estimate_interval_contains_the_mean(xs: list[float]) -> None:
    """low <= mean <= high for any sample."""
    e = estimate(xs)
    assert e.low <= e.mean + 1e-9 and e.mean <= e.high + 1e-9


def test_erlang_c_known_values() -> None:
    """M/M/2 at utilisation 0.8: P(wait) 0.7111, Wq 1.7778 service times."""
    assert erlang_c(2, 1.6) == pytest.approx(0.711111, rel=1e-5)
    assert mmc_mean_wait(2, 1.6, 1.0) == pytest.approx(1.777778, rel=1e-5)


def test_erlang_c_of_one_server_is_the_utilisation() -> None:
    """M/M/1: P(wait) = rho and Wq = rho / (mu - lambda)."""
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3)


def test_erlang_c_refuses_an_unstable_queue() -> None:
    """a >= c has no steady state."""
    with pytest.raises(ConfigError, match="0 <= a < c"):
        erlang_c(2, 2.0)


def test_little_check_flags_a_mismatch() -> None:
    """L far from lambda W fails; equal passes."""
    assert little_check("q", area=100.0, arrivals=10, mean_wait=10.0, span=50.0).ok
    assert not little_check("q", area=200.0, arrivals=10, mean_wait=10.0, span=50.0).ok
