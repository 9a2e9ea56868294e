"""Statistics for simulation output: means with 95% intervals, Erlang C, Little's law.

scipy is not a dependency: the Student t quantile comes from a table (1-30 degrees
of freedom, exact to 3 decimals) and a Cornish-Fisher expansion beyond it (error
below 1e-4 for 30+ degrees of freedom).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from gridcore.errors import ConfigError

__all__ = [
    "Estimate",
    "LittleCheck",
    "erlang_b",
    "erlang_c",
    "estimate",
    "little_check",
    "mmc_mean_wait",
    "t_quantile_975",
]

# Two-sided 95% Student t quantiles (the 0.975 quantile) for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959963984540054


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (>= 1).

    >>> t_quantile_975(4)
    2.776
    """
    if df < 1:
        raise ConfigError(f"degrees of freedom {df!r}: expected an integer >= 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    # Cornish-Fisher expansion of t in powers of 1/df.
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


@attrs.frozen
class Estimate:
    """A mean across replications with its 95% Student t confidence interval.

    With one replication (or non-finite values) the half width is NaN.
    """

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        """Lower end of the 95% interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the 95% interval."""
        return self.mean + self.half_width

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready mapping: mean, ci_low, ci_high, half_width, n."""
        return {
            "mean": self.mean,
            "ci_low": self.low,
            "ci_high": self.high,
            "half_width": self.half_width,
            "n": self.n,
        }


def estimate(values: Sequence[float]) -> Estimate:
    """Mean and 95% t interval of independent replication values (NaNs are left out).

    >>> e = estimate([1.0, 2.0, 3.0])
    >>> (e.mean, round(e.half_width, 3))
    (2.0, 2.484)
    """
    xs = [float(v) for v in values if not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    mean = math.fsum(xs) / n
    if n == 1:
        return Estimate(mean, math.nan, 1)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return Estimate(mean, t_quantile_975(n - 1) * math.sqrt(var / n), n)


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability for `c` servers and offered load `a` (erlangs)."""
    if c < 0 or a < 0:
        raise ConfigError(f"erlang_b(c={c!r}, a={a!r}): expected c >= 0 and a >= 0")
    b = 1.0
    for k in range(1, c + 1):  # the stable recursion B(k) = aB(k-1) / (k + aB(k-1))
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load `a` = lambda/mu < c.

    >>> round(erlang_c(2, 1.6), 4)
    0.7111
    """
    if c < 1 or not 0 <= a < c:
        raise ConfigError(f"erlang_c(c={c!r}, a={a!r}): expected c >= 1 and 0 <= a < c")
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))


def mmc_mean_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue Wq of M/M/c (in the time unit of the rates).

    >>> round(mmc_mean_wait(2, 1.6, 1.0), 4)
    1.7778
    """
    if arrival_rate <= 0 or service_rate <= 0:
        raise ConfigError(f"mmc_mean_wait: rates {arrival_rate!r}, {service_rate!r}: expected > 0")
    a = arrival_rate / service_rate
    return erlang_c(c, a) / (c * service_rate - arrival_rate)


@attrs.frozen
class LittleCheck:
    """Little's law on one queue: time-average number L against lambda * W."""

    queue: str
    l_observed: float
    lambda_w: float
    relative_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        """Whether the relative error is within the tolerance (True if nothing queued)."""
        return math.isnan(self.relative_error) or self.relative_error <= self.tolerance

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping of the check."""
        return {
            "queue": self.queue,
            "L": self.l_observed,
            "lambda_W": self.lambda_w,
            "relative_error": self.relative_error,
            "tolerance": self.tolerance,
            "ok": self.ok,
        }


def little_check(
    queue: str,
    area: float,
    arrivals: int,
    mean_wait: float,
    span: float,
    tolerance: float = 0.05,
) -> LittleCheck:
    """Check L = lambda W over an observation window of length `span`.

    `area` is the integral of the number in the queue over the window (so L = area /
    span), `arrivals` the items that entered it in the window (lambda = arrivals /
    span) and `mean_wait` their mean time in it. The two sides differ only by the
    items present at the window's edges, which the tolerance absorbs.
    """
    if span <= 0:
        raise ConfigError(f"little_check({queue!r}): span {span!r}: expected > 0")
    lq = area / span
    lw = arrivals / span * mean_wait if arrivals else 0.0
    scale = max(abs(lq), abs(lw))
    rel = abs(lq - lw) / scale if scale > 0 else math.nan
    return LittleCheck(queue, lq, lw, rel, tolerance)
