"""Fitting one quantity: a duration distribution (censored), a share, and scipy, lazily.

`fit_duration(values, censored)` fits an exponential and a lognormal by maximum
likelihood with right-censoring (a case still open at the end of the log contributes
"at least this long", not nothing), tests each against the uncensored values with the
Kolmogorov-Smirnov test, and keeps the passing one with the lower AIC; when neither
passes, an empirical distribution (quantiles of the data); when every value is the
same, a fixed one. `fit_share(k, n)` is a binomial proportion with its Wilson interval.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.errors import ConfigError
from gridcore.sim.scenario import Dist

__all__ = [
    "ALPHA",
    "MIN_SAMPLE",
    "DurationFit",
    "ShareFit",
    "fit_duration",
    "fit_share",
    "scipy_stats",
]

FloatArray = npt.NDArray[np.float64]

ALPHA = 0.01
"""Significance level of the goodness-of-fit tests (a fit "fails" below it)."""
MIN_SAMPLE = 10
"""Fewest uncensored observations a duration is fitted from."""
_Z = 1.959963984540054  # the 0.975 normal quantile
_EMPIRICAL_POINTS = 200


def scipy_stats() -> Any:
    """`scipy.stats`, or a ConfigError naming the extra to install."""
    try:
        import scipy.stats
    except ImportError:
        raise ConfigError(
            "calibration needs scipy: install the extra with pip install 'gridcore[calibrate]'"
        ) from None
    return scipy.stats


@attrs.frozen
class ShareFit:
    """A proportion k / n with its 95% Wilson score interval."""

    estimate: float
    ci_low: float
    ci_high: float
    k: int
    n: int

    def to_json(self) -> dict[str, Any]:
        """The fitted.json entry."""
        return {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "sample_size": self.n,
            "successes": self.k,
            "test": "binomial proportion, 95% Wilson score interval",
        }


def fit_share(k: int, n: int) -> ShareFit:
    """The share k / n and its Wilson interval (NaN when n = 0).

    >>> f = fit_share(5, 100)
    >>> round(f.estimate, 2), round(f.ci_low, 3), round(f.ci_high, 3)
    (0.05, 0.022, 0.112)
    """
    if n <= 0:
        return ShareFit(math.nan, math.nan, math.nan, k, n)
    p = k / n
    z2 = _Z * _Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return ShareFit(p, lo, hi, k, n)


@attrs.frozen
class DurationFit:
    """A fitted duration (minutes): the chosen kind, its mean with a 95% interval, the
    test that chose it, and every candidate's figures."""

    kind: str
    mean_minutes: float
    ci_low: float
    ci_high: float
    sigma: float
    n: int
    n_censored: int
    p_value: float
    statistic: float
    candidates: tuple[tuple[str, dict[str, float]], ...]
    values: tuple[float, ...] = ()
    note: str = ""

    @property
    def passes(self) -> bool:
        """Whether a parametric form passed its test (False: the empirical one is used)."""
        return self.kind == "fixed" or self.p_value >= ALPHA

    def dist(self) -> Dist:
        """The scenario distribution."""
        if self.kind == "empirical":
            return Dist("empirical", math.fsum(self.values) / len(self.values), 0.0, self.values)
        if self.kind == "lognormal":
            return Dist("lognormal", self.mean_minutes, self.sigma)
        return Dist(self.kind, self.mean_minutes)

    def to_json(self) -> dict[str, Any]:
        """The fitted.json entry."""
        out: dict[str, Any] = {
            "dist": self.kind,
            "estimate": self.mean_minutes,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "unit": "minutes (mean)",
            "sample_size": self.n,
            "censored": self.n_censored,
            "test": "Kolmogorov-Smirnov of the complete values against the fitted distribution "
            "(each truncated at the time it could be seen); "
            "candidates exponential and lognormal (censored MLE), lower AIC among those passing "
            f"at {ALPHA}; empirical when none passes",
            "p_value": self.p_value,
            "statistic": self.statistic,
            "passes": self.passes,
            "candidates": dict(self.candidates),
        }
        if self.kind == "lognormal":
            out["sigma"] = self.sigma
        if self.note:
            out["note"] = self.note
        return out


def fit_duration(
    values: FloatArray,
    censored: npt.NDArray[np.bool_],
    limits: FloatArray | None = None,
    *,
    competing: bool = False,
) -> DurationFit | None:
    """Fit durations in minutes (`censored`: still running at the end of the log, the value
    is a lower bound). `limits`: the longest each value could have been seen (the time from
    its start to the end of the log; default unbounded), for the test of the complete
    values: each complete x was seen because x < its limit, so F(x) / F(limit) is uniform
    under the fitted F. `competing`: values are also censored by another event that can
    come first (an escalation taking a case before its return), whose time is not known
    for the complete ones: the test then weights F by the censoring's survival, estimated
    from the censored values (reverse Kaplan-Meier), instead of using `limits`. None when
    fewer than `MIN_SAMPLE` are complete."""
    lim_all = np.full(values.size, np.inf) if limits is None else limits
    x = values[~censored]
    lim = lim_all[~censored]
    c = values[censored]
    if competing:
        return _fit_duration(x, lim, c, lambda xs, _lim, cdf: _ks_competing(xs, c, cdf))
    return _fit_duration(x, lim, c, _ks)


def _fit_duration(x: FloatArray, lim: FloatArray, c: FloatArray, ks: Any) -> DurationFit | None:
    """`fit_duration` of the complete values `x` (seen below `lim`) and the censored `c`,
    tested by `ks(values, limits, cdf)`."""
    n = int(x.size)
    if n < MIN_SAMPLE:
        return None
    stats = scipy_stats()
    if float(x.max() - x.min()) <= 1e-6 * max(1.0, float(abs(x).max())):
        v = float(np.median(x))
        return DurationFit(
            "fixed",
            v,
            float(x.min()),
            float(x.max()),
            0.0,
            n,
            int(c.size),
            1.0,
            0.0,
            (),
            note="every complete value is the same",
        )
    cands: dict[str, dict[str, float]] = {}
    fits: dict[str, tuple[float, float, float, float]] = {}  # mean, lo, hi, sigma
    # exponential, censored MLE: mean = total time / complete observations
    total = float(x.sum() + c.sum())
    mean = total / n
    lo = 2 * total / float(stats.chi2.ppf(0.975, 2 * n))
    hi = 2 * total / float(stats.chi2.ppf(0.025, 2 * n))
    ll = -n * math.log(mean) - total / mean
    cands["exponential"] = _cand(ll, 1, ks(x, lim, stats.expon(scale=mean).cdf))
    fits["exponential"] = (mean, lo, hi, 0.0)
    # lognormal, on positive values only (a zero has no logarithm)
    zeros = int((x <= 0).sum())
    if zeros <= 0.01 * n and n - zeros >= MIN_SAMPLE:
        ln = _lognormal(x[x > 0], c[c > 0], stats)
        if ln is not None:
            (m_ln, lo_ln, hi_ln, s_ln, mu, ll_ln) = ln
            pos = x > 0
            ks_ln = ks(x[pos], lim[pos], stats.lognorm(s_ln, scale=math.exp(mu)).cdf)
            cands["lognormal"] = _cand(ll_ln, 2, ks_ln)
            fits["lognormal"] = (m_ln, lo_ln, hi_ln, s_ln)
    passing = [k for k, v in cands.items() if v["p_value"] >= ALPHA]
    cand_items = tuple(sorted(cands.items()))
    if passing:
        best = min(passing, key=lambda k: cands[k]["aic"])
        m, lo, hi, s = fits[best]
        return DurationFit(
            best,
            m,
            lo,
            hi,
            s,
            n,
            int(c.size),
            cands[best]["p_value"],
            cands[best]["statistic"],
            cand_items,
        )
    # neither passes: the data's own quantiles (censored values are not in them)
    q = (
        np.quantile(x, (np.arange(_EMPIRICAL_POINTS) + 0.5) / _EMPIRICAL_POINTS)
        if n > _EMPIRICAL_POINTS
        else np.sort(x)
    )
    se = float(x.std(ddof=1)) / math.sqrt(n)
    best = max(cands, key=lambda k: cands[k]["p_value"])
    note = "no parametric fit passes; empirical quantiles of the complete values"
    if c.size:
        note += f" (the {c.size} censored values are left out of them: the mean is a lower bound)"
    return DurationFit(
        "empirical",
        float(x.mean()),
        float(x.mean()) - _Z * se,
        float(x.mean()) + _Z * se,
        0.0,
        n,
        int(c.size),
        cands[best]["p_value"],
        cands[best]["statistic"],
        cand_items,
        tuple(float(v) for v in q),
        note,
    )


def _ks(x: FloatArray, lim: FloatArray, cdf: Any) -> Any:
    """Kolmogorov-Smirnov of the complete values against `cdf`, each truncated at its limit."""
    stats = scipy_stats()
    top = np.where(np.isfinite(lim), cdf(np.where(np.isfinite(lim), lim, 0.0)), 1.0)
    u = cdf(x) / np.where(top > 0, top, 1.0)
    return stats.kstest(np.clip(u, 0.0, 1.0), "uniform")


def _ks_competing(x: FloatArray, c: FloatArray, cdf: Any) -> Any:
    """Kolmogorov-Smirnov of the complete values against `cdf` weighted by the survival of
    the censoring: a complete x was seen with density f(x) S_C(x), S_C by the reverse
    Kaplan-Meier of the censored values `c` (the completes are at risk of censoring)."""
    stats = scipy_stats()
    tau = np.unique(c[c > 0])
    if not tau.size:
        return stats.kstest(np.clip(cdf(x), 0.0, 1.0), "uniform")
    pooled = np.sort(np.concatenate([x, c]))
    at_risk = pooled.size - np.searchsorted(pooled, tau, side="left")
    d = np.bincount(np.searchsorted(tau, c[c > 0]), minlength=tau.size)
    surv = np.concatenate([[1.0], np.cumprod(1.0 - d / at_risk)])  # on [knot k, knot k+1)
    knots = np.concatenate([[0.0], tau])
    f_k = cdf(knots)
    cum = np.concatenate([[0.0], np.cumsum(surv[:-1] * np.diff(f_k))])
    total = float(cum[-1] + surv[-1] * (1.0 - f_k[-1]))
    k = np.searchsorted(knots, x, side="right") - 1
    g = cum[np.maximum(k, 0)] + surv[np.maximum(k, 0)] * (cdf(x) - f_k[np.maximum(k, 0)])
    u = g / total if total > 0 else cdf(x)
    return stats.kstest(np.clip(u, 0.0, 1.0), "uniform")


def _cand(loglik: float, k: int, ks: Any) -> dict[str, float]:
    return {
        "loglik": float(loglik),
        "aic": float(2 * k - 2 * loglik),
        "statistic": float(ks.statistic),
        "p_value": float(ks.pvalue),
    }


def _lognormal(
    x: FloatArray, c: FloatArray, stats: Any
) -> tuple[float, float, float, float, float, float] | None:
    """Censored lognormal MLE: (mean, ci_low, ci_high, sigma, mu, loglik), or None."""
    lx = np.log(x)
    lc = np.log(c) if c.size else np.zeros(0)
    n = lx.size
    mu0, s0 = float(lx.mean()), float(lx.std())
    if not s0 > 1e-9:
        return None

    def nll(theta: FloatArray) -> float:
        mu, ls = float(theta[0]), float(theta[1])
        s = math.exp(ls)
        z = (lx - mu) / s
        val = -0.5 * float((z * z).sum()) - n * (ls + 0.5 * math.log(2 * math.pi)) - float(lx.sum())
        if lc.size:
            val += float(stats.norm.logsf((lc - mu) / s).sum())
        return -val

    theta = np.array([mu0, math.log(s0)])
    if lc.size:
        from scipy import optimize

        res = optimize.minimize(
            nll, theta, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-8}
        )
        theta = np.asarray(res.x, np.float64)
    mu, s = float(theta[0]), math.exp(float(theta[1]))
    cov = _inverse_hessian(nll, theta)
    if cov is None:
        return None
    mean = math.exp(mu + s * s / 2)
    grad = np.array([mean, mean * s * s])  # d mean / d (mu, log sigma)
    var = float(grad @ cov @ grad)
    if not var >= 0:
        return None
    se_log = math.sqrt(var) / mean  # delta method on the log of the mean
    return (mean, mean * math.exp(-_Z * se_log), mean * math.exp(_Z * se_log), s, mu, -nll(theta))


def _inverse_hessian(f: Any, theta: FloatArray) -> FloatArray | None:
    """The inverse of f's Hessian at theta by central differences (the MLE's covariance)."""
    h = 1e-4
    k = theta.size
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h * h)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return None
    ok = bool(np.all(np.isfinite(cov))) and cov[0, 0] > 0 and cov[1, 1] > 0
    return np.asarray(cov, np.float64) if ok else None
